"""What Relais holds on one person, for the GDPR right of access (the JSON export of a contact's page
and of `GET /api/v1/contacts/{id}/personal-data`)."""

from datetime import datetime

from sqlalchemy import select

from accounts.models import AuditEntry, User
from accounts.scoping import can_read, require_read
from contacts.models import Contact, ContactList, ContactNote, list_members
from contacts.preferences import choices_of
from contacts.services import audit_of, contact_out
from contacts.suppression import suppression_reason
from dbtypes import utcnow
from extensions import db


def personal_data(actor: User | None, contact: Contact) -> dict:
    """Everything held on one person (GDPR right of access), as plain JSON-ready data."""

    if actor is not None:
        require_read(actor, contact.region_id)
    data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in contact_out(contact).items()}
    lists = db.session.scalars(
        select(ContactList.name)
        .join(list_members, list_members.c.list_id == ContactList.id)
        .where(list_members.c.contact_id == contact.id)
        .order_by(ContactList.name)
    ).all()
    history = db.session.scalars(
        select(AuditEntry).where(audit_of(contact.id, contact.email)).order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    notes = db.session.scalars(
        select(ContactNote).where(ContactNote.contact_id == contact.id).order_by(ContactNote.created_at)
    ).all()
    return {
        "contact": data,
        "region_name": contact.region.name if contact.region else None,
        "lists": list(lists),
        "notes": [
            {"at": n.created_at.isoformat(), "author": n.author_label, "body": n.body}
            for n in notes
            if actor is None or can_read(actor, n.region_id)  # another region's notes stay with it
        ],
        "subscriptions": [  # what the person chose on their preference page, stream by stream
            {
                "stream": stream,
                "receives": choice.receives,
                "channel": choice.channel,
                "at": choice.chosen_at.isoformat(),
            }
            for stream, choice in sorted(choices_of(contact.id).items())
        ],
        "suppression": suppression_reason(contact.email),
        "history": [
            {"at": e.at.isoformat(), "action": e.action, "actor": e.actor, "changes": e.changes} for e in history
        ],
        "exported_at": utcnow().isoformat(),
    }
