"""Pages of a list, for the API (the contract's envelope) and the HTML lists alike."""

from flask import abort, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate

from extensions import db


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The contract's list envelope around items of `item_schema`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
        },
        name=f"{item_schema.__name__.removesuffix('Schema')}Page",
    )


def page_number() -> int:
    """A page's `?page=N`, checked as the API's PageArgs do (1 to 10^6); anything else is a 400."""
    try:
        return PageArgs(only=("page",)).load({"page": request.args.get("page") or 1})["page"]
    except ValidationError:
        abort(400, description=_("Numéro de page invalide."))


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows take (one, even when there are none)."""
    return max(1, -(-total // per_page))


def paginate(query, args: dict, transform=None) -> dict:
    """Run a select() for one page; `transform` maps the rows (e.g. to add computed fields)."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(query.with_only_columns(db.func.count(), maintain_column_froms=True).order_by(None))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    items = transform(rows) if transform else rows
    return {"items": items, "page": page, "per_page": per_page, "total": total}
