"""What each contact still wants to receive, stream by stream, and when they said so.

A stream is a kind of sending: `national` (the national team's releases and mailings), a region's
code (that chamber's mailings) or `partners` (partner and network news, the relay kits). No row for
a stream means it is received; a choice is one row per contact and stream, dated, audited, and
changed in place when the person changes their mind. "Stop everything" is the global opt-out that
was already there (the contact's `opted_out` flag and the suppression list, reason "unsubscribed"),
and bounces, complaints and erasure stay with the suppression list (contacts/suppression.py).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import Select

from accounts.models import Region
from contacts.history import HistoryItem
from contacts.models import Contact, Suppression
from contacts.services import contact_erased
from contacts.suppression import email_hash, flag_suppressed, record, suppression_reason
from dbtypes import UTCDateTime, utcnow
from extensions import db, found_or_added
from i18n import _

NATIONAL, PARTNERS = "national", "partners"
EVERYTHING = "all"  # the row that dates "stop everything" (and its undoing)
STOPPED_REASON = "a choisi de ne plus recevoir ces envois"  # a frozen delivery's note (see stopped_ids)
CHANNELS = ("page", "one-click")


class SubscriptionChoice(db.Model):
    """One contact's latest choice about one stream: receives it or not, since when, and how."""

    __tablename__ = "subscription_choices"
    __table_args__ = (
        UniqueConstraint("contact_id", "stream", name="uq_subscription_choices_contact_stream"),
        Index("ix_subscription_choices_stream", "stream", "receives"),  # a freeze's stopped_ids
    )
    __audit__ = ("contact_id", "stream", "receives", "channel")

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(20))  # national, partners, a region's code, or "all"
    receives: Mapped[bool] = mapped_column(default=True)
    channel: Mapped[str] = mapped_column(String(20), default="page")  # page, one-click
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass
class StreamChoice:
    """A line of the preference page: a stream, its label, whether it is received, since when."""

    stream: str
    label: str
    receives: bool
    chosen_at: datetime | None


def stream_label(stream: str, regions: dict[str, Region] | None = None) -> str:
    """What a stream is called for the person choosing."""
    if stream == NATIONAL:
        return _("Les communiqués et envois nationaux")
    if stream == PARTNERS:
        return _("Les nouvelles des partenaires et des réseaux")
    region = (regions or {}).get(stream) or db.session.scalar(select(Region).where(Region.code == stream))
    name = (region.chamber or region.name) if region else stream
    return _("Les envois régionaux : %(name)s", name=name)


def stopped_ids(stream: str) -> Select:
    """The contacts who stopped `stream`: what a mailing of that stream leaves out when it freezes
    its audience (with the note STOPPED_REASON)."""
    return select(SubscriptionChoice.contact_id).where(
        SubscriptionChoice.stream == stream, SubscriptionChoice.receives.is_(False)
    )


def choices_of(contact_id: int) -> dict[str, SubscriptionChoice]:
    rows = db.session.scalars(select(SubscriptionChoice).where(SubscriptionChoice.contact_id == contact_id))
    return {row.stream: row for row in rows}


def choose(contact: Contact, stream: str, receives: bool, now: datetime, channel: str = "page") -> bool:
    """Record one choice (in place of the previous one for that stream); True when it changed anything."""
    mine = select(SubscriptionChoice).where(
        SubscriptionChoice.contact_id == contact.id, SubscriptionChoice.stream == stream
    )
    row = db.session.scalar(mine)
    if row is None:
        if receives and stream != EVERYTHING:
            return False  # received by default: nothing to record
        chosen = SubscriptionChoice(
            contact_id=contact.id, stream=stream, receives=receives, channel=channel, chosen_at=now
        )
        row = found_or_added(mine, chosen)  # a mail provider's one-click POST and the person's click may come together
        if row is chosen:
            return True
    if row.receives == receives:
        return False
    row.receives, row.channel, row.chosen_at = receives, channel, now
    return True


def stop_stream(contact: Contact, stream: str, now: datetime | None = None, channel: str = "one-click") -> None:
    """The one-click unsubscribe of a message: its stream only. Idempotent; flushes."""
    choose(contact, stream, False, now or utcnow(), channel)
    db.session.flush()


def stop_everything(contact: Contact, now: datetime | None = None, channel: str = "page") -> None:
    """The global opt-out: nothing more at this address (suppressed, reason "unsubscribed")."""
    now = now or utcnow()
    choose(contact, EVERYTHING, False, now, channel)
    flag_suppressed(contact, "unsubscribed", now)
    record(contact.email, "unsubscribed", now)
    db.session.flush()


def can_resume(contact: Contact) -> bool:
    """Whether the person may choose to receive again from their page: not after a bounce, a
    complaint or an erasure, which stay on the suppression list for good."""
    return not contact.bounced and suppression_reason(contact.email) in (None, "unsubscribed")


def save_choices(contact: Contact, wanted: dict[str, bool], now: datetime | None = None) -> int:
    """The preference page's form: each shown stream received or not. A person who had stopped
    everything and now wants something gets it back (see can_resume). Returns the choices changed."""
    now = now or utcnow()
    changed = sum(choose(contact, stream, receives, now) for stream, receives in wanted.items())
    if contact.opted_out and any(wanted.values()) and can_resume(contact):
        changed += choose(contact, EVERYTHING, True, now)
        contact.opted_out, contact.opted_out_at = False, None
        db.session.execute(
            delete(Suppression).where(
                Suppression.email_hash == email_hash(contact.email), Suppression.reason == "unsubscribed"
            )
        )
    db.session.flush()
    return changed


def page_streams(contact: Contact, mailing_region: Region | None) -> list[StreamChoice]:
    """The streams the preference page offers: national, the region of the message and the
    person's own (and any region they already chose about), partners."""
    choices = choices_of(contact.id)
    codes = [r.code for r in (mailing_region, contact.region if contact.region_id else None) if r is not None]
    codes += sorted(s for s in choices if s not in (NATIONAL, PARTNERS, EVERYTHING))
    streams = [NATIONAL, *dict.fromkeys(codes), PARTNERS]
    regions = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
    lines = []
    for stream in streams:
        row = choices.get(stream)
        lines.append(
            StreamChoice(
                stream, stream_label(stream, regions), row.receives if row else True, row.chosen_at if row else None
            )
        )
    return lines


def history_items(contact: Contact) -> list[HistoryItem]:
    """The contact page's history: each stream the person stopped or took back, dated (a region's
    choice belongs to that region's work; stopping everything is the opt-out contacts shows itself)."""
    rows = [row for row in choices_of(contact.id).values() if row.stream != EVERYTHING or row.receives]
    codes = [row.stream for row in rows if row.stream not in (NATIONAL, PARTNERS, EVERYTHING)]
    regions = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))} if codes else {}
    items = []
    for row in rows:
        label = _("tous les envois") if row.stream == EVERYTHING else stream_label(row.stream, regions)
        title = (
            _("Reçoit de nouveau : %(label)s", label=label)
            if row.receives
            else _("Ne reçoit plus : %(label)s", label=label)
        )
        detail = _("lien « se désinscrire » du message") if row.channel == "one-click" else _("page de préférences")
        region = regions.get(row.stream)
        items.append(HistoryItem(row.chosen_at, "opt_out", title, detail, region.id if region else None))
    return items


def stopped_everything_at(contact: Contact) -> datetime | None:
    """When the person stopped everything, if they did and it still holds."""
    if not contact.opted_out:
        return None
    row = choices_of(contact.id).get(EVERYTHING)
    return row.chosen_at if row is not None and not row.receives else contact.opted_out_at


def forget_choices(sender=None, contact_id: int | None = None, **_) -> None:
    """On erasure: the choices go with the person (the suppression hash stays)."""
    if contact_id:
        db.session.execute(delete(SubscriptionChoice).where(SubscriptionChoice.contact_id == contact_id))


contact_erased.connect(forget_choices)
