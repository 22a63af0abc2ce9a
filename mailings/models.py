"""Email templates, mailings, their deliveries (one row per recipient) and delivery workers."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db

DELIVERY_STATUSES = ("pending", "sending", "retry", "sent", "failed", "bounced", "skipped", "unknown")


def empty_audience() -> dict:
    return {"list_ids": [], "segment_ids": [], "contact_ids": []}


class EmailTemplate(db.Model):
    """A subject, an HTML body and an optional text body, all Jinja2 run in the sandbox."""

    __tablename__ = "email_templates"
    __audit__ = ("name", "subject", "html", "text", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign = relationship("Campaign")
    region = relationship("Region")


class Mailing(db.Model):
    """One template sent by one sender to a frozen audience; its status lives in mailings.states."""

    __tablename__ = "mailings"
    __table_args__ = (Index("ix_mailings_status_scheduled", "status", "scheduled_at"),)
    __audit__ = (
        "name",
        "template_id",
        "from_name",
        "from_email",
        "reply_to",
        "audience",
        "status",
        "scheduled_at",
        "embargo_until",
        "region_id",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="SET NULL"))
    template_id: Mapped[int] = mapped_column(ForeignKey("email_templates.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    from_name: Mapped[str] = mapped_column(String(120))
    from_email: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    audience: Mapped[dict] = mapped_column(db.JSON, default=empty_audience)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    status_reason: Mapped[str] = mapped_column(Text, default="")  # why it paused or was missed
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    embargo_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    embargo_lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # audience turned into deliveries
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign = relationship("Campaign")
    milestone = relationship("Milestone")
    template: Mapped[EmailTemplate] = relationship()
    region = relationship("Region")
    created_by = relationship("User", foreign_keys=[created_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])


class Delivery(db.Model):
    """One message to one recipient of one mailing: the database is the truth about who got what."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("mailing_id", "contact_id", name="uq_deliveries_mailing_contact"),
        # Claims read (mailing, status) in id order: the index gives the next batch at once, however
        # many deliveries earlier mailings left behind; counts by status use its first two columns.
        Index("ix_deliveries_mailing_status_id", "mailing_id", "status", "id"),
        # A dead worker's claims, for recovery: only claimed rows are in it (a result writes nothing here).
        Index(
            "ix_deliveries_worker",
            "worker_id",
            postgresql_where=text("worker_id IS NOT NULL"),
            sqlite_where=text("worker_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    response: Mapped[str] = mapped_column(String(500), default="")  # the server's answer
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker_id: Mapped[int | None] = mapped_column()  # the worker holding the claim
    message_id: Mapped[str] = mapped_column(String(200), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mailing: Mapped[Mailing] = relationship()
    contact = relationship("Contact")


class DeliveryWorker(db.Model):
    """A running `mailings worker`: claims point at it; a dead one's claims are recovered."""

    __tablename__ = "delivery_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchedulerHeartbeat(db.Model):
    """The active scheduler's last tick: /readyz says whether someone is keeping time."""

    __tablename__ = "scheduler_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: there is one active scheduler
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(default=0)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
