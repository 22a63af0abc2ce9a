"""What a message's own links change: its one-click unsubscribe stops the stream the message belongs
to, and its preference page lets the person choose every stream, or stop everything
(contacts.preferences keeps the choices). Both links carry the same signed token (mailings.tokens)."""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import Region
from contacts import preferences
from contacts.models import Contact
from dbtypes import utcnow
from extensions import db
from mailings.models import Mailing
from mailings.streams import mailing_stream
from mailings.tokens import read_unsubscribe_token


@dataclass
class LinkHolder:
    """Who a message's link speaks for, and about which message."""

    contact: Contact | None  # None: a test token (contact 0) or a contact erased since
    mailing: Mailing | None  # None: a token without mailing, or a mailing deleted since
    test: bool = False

    @property
    def stream(self) -> str | None:
        return mailing_stream(self.mailing) if self.mailing is not None else None

    @property
    def region(self) -> Region | None:
        return self.mailing.region if self.mailing is not None and self.mailing.region_id else None

    @property
    def campaign(self):
        return self.mailing.campaign if self.mailing is not None else None


def link_holder(token: str) -> LinkHolder | None:
    """The token's contact and mailing; None when we did not sign it."""
    found = read_unsubscribe_token(token)
    if found is None:
        return None
    contact_id, mailing_id = found
    contact = db.session.get(Contact, contact_id) if contact_id else None
    mailing = db.session.get(Mailing, mailing_id) if mailing_id else None
    return LinkHolder(contact, mailing, test=not contact_id)


def unsubscribe(holder: LinkHolder, now: datetime | None = None) -> str | None:
    """The one-click unsubscribe (RFC 8058) and the unsubscribe page's button: the message's stream
    stops; a link whose message is unknown stops everything, as it always did. Idempotent. Returns
    the stream stopped ("all" for everything), or None when there was nobody to unsubscribe."""
    if holder.contact is None:
        return None
    stream = holder.stream
    if stream is None:
        preferences.stop_everything(holder.contact, now or utcnow(), channel="one-click")
        return preferences.EVERYTHING
    preferences.stop_stream(holder.contact, stream, now or utcnow(), channel="one-click")
    return stream


def save(holder: LinkHolder, form, now: datetime | None = None) -> str:
    """The preference page's form: "stop_all", or the ticked streams among those the page showed.
    Returns what was done ("all", "saved", or "blocked" for an address suppressed for good)."""
    contact = holder.contact
    if not preferences.can_resume(contact):
        return "blocked"  # bounced, complained or erased: the suppression list decides, not the page
    if form.get("action") == "stop_all":
        preferences.stop_everything(contact, now or utcnow())
        return preferences.EVERYTHING
    ticked = set(form.getlist("stream"))
    shown = [line.stream for line in preferences.page_streams(contact, holder.region)]
    preferences.save_choices(contact, {stream: stream in ticked for stream in shown}, now or utcnow())
    return "saved"
