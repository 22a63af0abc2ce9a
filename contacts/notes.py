"""Notes people write on a contact ("a quitté la rédaction, écrire à …"): who wrote them, when, and
for which region's work (a regional coordinator's note belongs to its region, a national one to all)."""

from datetime import datetime

from sqlalchemy import delete

from accounts.models import User
from accounts.scoping import require_write
from contacts.i18n import _
from contacts.models import Contact, ContactNote
from contacts.services import contact_erased
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from input_rules import has_nul

NOTE_MAX = 2000


def add_note(actor: User, contact: Contact, body: str, now: datetime | None = None) -> ContactNote:
    """A note by `actor` on a contact it may change; flushes, the caller commits."""
    require_write(actor, contact.region_id)
    body = (body or "").strip()
    if not body or len(body) > NOTE_MAX or has_nul(body):
        raise ValidationFailed(_("Note invalide."), {"body": _("obligatoire, %(n)s caractères au plus", n=NOTE_MAX)})
    note = ContactNote(
        contact_id=contact.id,
        region_id=actor.region_id if actor.role == "regional" else None,
        author_id=actor.id,
        author_label=actor.label,
        body=body,
        created_at=now or utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    return note


def scrub_notes(sender=None, contact_id: int | None = None, **_) -> None:
    """On erasure: the notes about the person go with them (SQLite enforces no cascade)."""
    if contact_id:
        db.session.execute(delete(ContactNote).where(ContactNote.contact_id == contact_id))


contact_erased.connect(scrub_notes)
