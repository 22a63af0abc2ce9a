"""JSON API of a contact's history and notes (thin adapters over contacts.history and notes)."""

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from accounts.api import api_blueprint, current_api_user
from accounts.models import Region
from contacts import history, notes, services
from extensions import db

bp = api_blueprint("contact_history_api", "A contact's history across national and regional work, and notes")
blueprints = [bp]


class HistoryItemSchema(Schema):
    at = fields.DateTime()
    kind = fields.String(metadata={"description": ", ".join(history.KINDS)})
    title = fields.String()
    detail = fields.String()
    region = fields.String(allow_none=True, metadata={"description": "region code of the work; null: national"})
    url = fields.String(metadata={"description": "the page to read more, when there is one"})


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    body = fields.String(required=True, validate=validate.Length(min=1, max=notes.NOTE_MAX))
    author = fields.String(dump_only=True)
    region = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


def region_codes() -> dict[int, str]:
    return {region_id: code for region_id, code in db.session.execute(select(Region.id, Region.code))}


@bp.route("/contacts/<int:contact_id>/history")
@bp.response(200, HistoryItemSchema(many=True))
def contact_history(contact_id):
    """Newest first: mailings received, answers, attendance, coverage, bounces, opt-out, notes (a
    regional token sees the national items and its own region's)."""
    user = current_api_user()
    contact = services.get_contact(user, contact_id)
    codes = region_codes()
    return [{**vars(i), "region": codes.get(i.region_id)} for i in history.history(user, contact)]


@bp.route("/contacts/<int:contact_id>/notes", methods=["POST"])
@bp.arguments(NoteSchema)
@bp.response(201, NoteSchema)
def add_note(data, contact_id):
    """A note on the contact ("a quitté la rédaction, écrire à …"), kept with its author and date."""
    user = current_api_user()
    note = notes.add_note(user, services.get_contact(user, contact_id), data["body"])
    db.session.commit()
    return {
        "id": note.id,
        "body": note.body,
        "author": note.author_label,
        "region": region_codes().get(note.region_id),
        "created_at": note.created_at,
    }
