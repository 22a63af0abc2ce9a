"""A contact's history across national and regional work, newest first: what contacts knows itself
(notes, opt-out, where the contact came from) and what the floors above contribute through a
registry they fill when the app is built (mailings received, answers, attendance, coverage,
bounces): contacts imports none of them.

A regional coordinator sees the national items and its own region's, never another region's.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select

from accounts.models import User
from accounts.scoping import can_read
from contacts.i18n import _
from contacts.models import Contact, ContactNote
from contacts.suppression import suppression_reason
from extensions import db

KEY = "relais.contact_history"
KINDS = ("mailing", "answer", "attendance", "coverage", "bounce", "opt_out", "note", "source")


@dataclass
class HistoryItem:
    at: datetime
    kind: str  # one of KINDS
    title: str  # what happened, in a sentence people read
    detail: str = ""  # a status, the channel, who wrote it down...
    region_id: int | None = None  # the work it belongs to; None: national (or the person themself)
    url: str = ""  # where to read more (a mailing, a conference)


# source(contact) -> the items that floor knows about the contact (every region's: filtered here)
HistorySource = Callable[[Contact], Iterable[HistoryItem]]


@dataclass
class ContactHistory:
    sources: list[HistorySource] = field(default_factory=list)


def init_app(app: Flask) -> ContactHistory:
    return app.extensions.setdefault(KEY, ContactHistory())


def registry() -> ContactHistory:
    return current_app.extensions.get(KEY) or ContactHistory()


def own_items(contact: Contact) -> list[HistoryItem]:
    """What contacts itself knows: where the contact came from, its opt-out or bounce, its notes."""
    items = [HistoryItem(contact.collected_at, "source", _("Contact ajouté"), contact.source or "")]
    if contact.opted_out_at:
        reason = suppression_reason(contact.email)
        detail = _("plainte pour indésirable") if reason == "complaint" else _("plus aucun envoi")
        items.append(HistoryItem(contact.opted_out_at, "opt_out", _("Désinscription"), detail))
    notes = db_notes(contact.id)
    items += [HistoryItem(n.created_at, "note", n.body, n.author_label, n.region_id) for n in notes]
    return items


def db_notes(contact_id: int) -> list[ContactNote]:
    return list(db.session.scalars(select(ContactNote).where(ContactNote.contact_id == contact_id)))


def history(user: User, contact: Contact, limit: int = 200) -> list[HistoryItem]:
    """Every item this user may read, newest first (the `limit` newest)."""
    items = own_items(contact)
    for source in registry().sources:
        items.extend(source(contact))
    readable_items = [i for i in items if i.at is not None and can_read(user, i.region_id)]
    # at the same instant, where the contact came from reads last (it came first)
    return sorted(readable_items, key=lambda i: (i.at, i.kind != "source"), reverse=True)[:limit]
