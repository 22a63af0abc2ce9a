"""One row per report about one recipient: what it said, where it came from, what Relais did."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db

EVENT_KINDS = ("hard", "soft", "complaint", "auto_reply")


class BounceEvent(db.Model):
    """A bounce, a complaint or an auto-reply, tied to its contact and delivery when they are known."""

    __tablename__ = "bounce_events"
    __table_args__ = (
        Index("ix_bounce_events_contact_kind_at", "contact_id", "kind", "received_at"),
        Index("ix_bounce_events_mailing_kind", "mailing_id", "kind"),
    )
    __audit__ = ("kind", "email", "status", "mailing_id", "delivery_id", "source", "action")

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # the same report twice is one row
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="")  # enhanced status code, 5.1.1
    diagnostic: Mapped[str] = mapped_column(Text, default="")  # the server's words, or the auto-reply's text
    source: Mapped[str] = mapped_column(String(40))  # pipe, mailbox, api, webhook:brevo...
    action: Mapped[str] = mapped_column(String(40), default="")  # what Relais did: suppressed, counted...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact = relationship("Contact")
    mailing = relationship("Mailing")
