"""API plumbing shared by every domain's JSON blueprint: bearer tokens, /me."""

from flask import abort, g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from accounts.models import User
from accounts.scoping import guard_request
from accounts.services import user_for_token

BEARER = [{"bearerAuth": []}]


class ApiParser(FlaskParser):
    """webargs' parser, plus the location `multipart`: the fields and the files of one
    multipart/form-data body, read by one schema (OpenAPI 3 has no `formData` parameters: such a
    body is a requestBody whose schema holds the file and the fields)."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


def api_blueprint(name: str, description: str) -> Blueprint:
    """A JSON blueprint under /api/v1 whose every call needs a bearer token."""
    bp = ApiBlueprint(name, __name__, url_prefix="/api/v1", description=description)
    bp.before_request(require_token)
    return bp


# API endpoints a read-only account may still call: they change only its own preferences
SELF_SERVICE_ENDPOINTS: set[str] = set()


def require_token() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    user = user_for_token(raw.strip()) if scheme.lower() == "bearer" and raw.strip() else None
    if user is None:
        abort(
            401,
            description="a valid bearer token is required (Authorization: Bearer TOKEN)",
        )
    g.api_user = user
    g.actor_id, g.actor_email = user.id, user.email
    guard_request(user, request.method, request.view_args, request.endpoint in SELF_SERVICE_ENDPOINTS)


def current_api_user() -> User:
    return g.api_user


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    region = fields.Function(lambda user: user.region.code if user.region else None)
    campaign_id = fields.Integer(
        allow_none=True, metadata={"description": "The edition chosen to work on (PUT /me/campaign); null: the default"}
    )


me_bp = api_blueprint("me", "The token's own account")


@me_bp.route("/me")
@me_bp.response(200, UserSchema)
def me():
    """The account this token belongs to."""
    return current_api_user()


blueprints = [me_bp]
