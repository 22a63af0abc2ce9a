"""`POST /api/v1/bounces`: a bounce or complaint reported by another system (a relay without a
webhook Relais knows, a person's script), through the same rules as every other report."""

from marshmallow import Schema, fields, validate

from accounts.api import api_blueprint, current_api_user
from accounts.scoping import require_role
from bounces import services
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from mailings.models import Mailing

bounces_bp = api_blueprint("bounces_api", "Bounces and complaints reported after delivery")
blueprints = (bounces_bp,)


class BounceReportSchema(Schema):
    email = fields.Email(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("hard", "soft", "complaint")))
    mailing_id = fields.Integer(
        load_default=None, allow_none=True, metadata={"description": "ties the report to that mailing's delivery"}
    )
    reason = fields.String(
        load_default="", validate=validate.Length(max=2000), metadata={"description": "the server's words"}
    )


class BounceAcceptedSchema(Schema):
    status = fields.String(metadata={"description": "`accepted`"})
    changed = fields.Boolean(metadata={"description": "false: an unknown address, or the same report again"})
    result = fields.String(metadata={"description": "what Relais did, in one line"})


@bounces_bp.route("/bounces", methods=["POST"])
@bounces_bp.arguments(BounceReportSchema)
@bounces_bp.response(202, BounceAcceptedSchema)
def report_bounce(data):
    """Report a bounce or a complaint (admin and national tokens). A hard bounce marks the delivery and
    the contact bounced, a complaint opts the contact out; both suppress the address. Soft bounces
    count: `BOUNCE_SOFT_LIMIT` of them within `BOUNCE_SOFT_WINDOW_DAYS` make the address bounced.
    An address Relais does not know, or the same report twice, changes nothing."""
    require_role(current_api_user(), "admin", "national")
    mailing_id = data["mailing_id"]
    if mailing_id is not None and db.session.get(Mailing, mailing_id) is None:
        raise ValidationFailed("unknown mailing", {"mailing_id": "no mailing with this id"})
    now = utcnow()
    key = f"api:{mailing_id}:{data['reason']}:{now.date().isoformat()}"  # the same call again today: once
    outcome = services.report_event(data["type"], data["email"], "api", key, data["reason"], mailing_id, now=now)
    db.session.commit()
    return {"status": "accepted", "changed": bool(outcome.changed), "result": outcome.lines[-1]}
