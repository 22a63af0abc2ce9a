"""What mailings adds to a contact's history: each mailing the contact was in, with what became of
its message (sent, bounced, skipped...), registered into `contacts.history` by the app factory."""

from flask import url_for
from sqlalchemy import select

from contacts.history import HistoryItem
from contacts.i18n import _
from contacts.models import Contact
from extensions import db
from mailings.models import Delivery, Mailing
from mailings.states import DELIVERY_LABELS


def received(contact: Contact) -> list[HistoryItem]:
    """One item per delivery: when it left (or was last touched), the mailing and its status."""
    rows = db.session.execute(
        select(Delivery, Mailing)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(Delivery.contact_id == contact.id)
    ).all()
    return [
        HistoryItem(
            delivery.sent_at or delivery.updated_at or mailing.started_at or mailing.created_at,
            "mailing",
            _("Envoi « %(name)s »", name=mailing.name),
            str(DELIVERY_LABELS.get(delivery.status, delivery.status)),
            mailing.region_id,
            url_for("mailings.mailing_page", mailing_id=mailing.id),
        )
        for delivery, mailing in rows
    ]
