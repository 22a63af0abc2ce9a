"""The federation at work: event vocabulary, proposal throttling, regional readiness, press
coverage and the log of deadline reminders."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Region
from campaign.models import Campaign, Milestone
from dbtypes import UTCDateTime, utcnow
from extensions import db

VOCABULARY_KINDS = ("type", "theme")


class EventVocabulary(db.Model):
    """One event type or theme a campaign offers (the seed's lists by default)."""

    __tablename__ = "event_vocabulary"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", "label", name="uq_event_vocabulary_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProposalAttempt(db.Model):
    """A public event proposal, kept so the per-address limit holds across web workers."""

    __tablename__ = "proposal_attempts"
    __table_args__ = (Index("ix_proposal_attempts_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadinessItem(db.Model):
    """What a region changed on one step of its checklist (the steps themselves derive from its
    milestones; a custom step exists only as a row)."""

    __tablename__ = "readiness_items"
    __table_args__ = (UniqueConstraint("campaign_id", "region_id", "key", name="uq_readiness_items_step"),)
    __audit__ = ("title", "due_at", "done", "owner_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set: overrides the derived date
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign] = relationship()
    region: Mapped[Region] = relationship()
    owner = relationship("User")


class PressClipping(db.Model):
    """A piece of press coverage: who published what, when, where, and how many it reached."""

    __tablename__ = "press_clippings"
    __table_args__ = (Index("ix_press_clippings_campaign_region", "campaign_id", "region_id"),)
    __audit__ = ("outlet", "title", "published_on", "url", "region_id", "milestone_id", "reach")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="SET NULL"))
    outlet: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(30), default="")
    title: Mapped[str] = mapped_column(String(300))
    published_on: Mapped[date]
    url: Mapped[str] = mapped_column(String(1000), default="")
    reach: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    region: Mapped[Region | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()


class ReminderSent(db.Model):
    """One item put in one user's reminder digest on one day: never twice (the unique key)."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("user_id", "item_kind", "item_id", "day", name="uq_reminders_sent_item_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(60))
    item_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
