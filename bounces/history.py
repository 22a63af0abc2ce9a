"""What bounces adds to a contact's history: each report a mail server (or a provider) sent about
the contact's address, registered into `contacts.history` by bounces/extension.py."""

from sqlalchemy import select

from bounces.models import BounceEvent
from contacts.history import HistoryItem
from contacts.models import Contact
from extensions import db
from i18n import _
from mailings.models import Mailing


def kind_label(kind: str) -> str:
    return {
        "hard": _("Rejet définitif"),
        "soft": _("Rejet temporaire"),
        "complaint": _("Plainte (spam)"),
        "auto_reply": _("Réponse automatique"),
    }.get(kind, kind)


def reports(contact: Contact) -> list[HistoryItem]:
    rows = db.session.execute(
        select(BounceEvent, Mailing.region_id, Mailing.name)
        .outerjoin(Mailing, Mailing.id == BounceEvent.mailing_id)
        .where(BounceEvent.contact_id == contact.id)
    ).all()
    return [
        HistoryItem(
            event.received_at,
            "bounce",
            kind_label(event.kind) + (f" — {name}" if name else ""),
            " ".join(p for p in (event.status, event.diagnostic[:200]) if p),
            region_id,
        )
        for event, region_id, name in rows
    ]
