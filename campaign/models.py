"""Campaigns and their milestones (regions live with accounts: scoping is theirs)."""

import secrets
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from accounts.models import Region
from dbtypes import UTCDateTime, utcnow
from extensions import db

MILESTONE_KINDS = (
    "internal_launch",
    "partner_deadline",
    "network_relay",
    "national_press_conference",
    "regional_press_conference",
    "press_release",
    "mailing",
    "event_period",
    "deadline",
    "other",
)
MILESTONE_STATUSES = ("planned", "in_progress", "done", "cancelled")


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __audit__ = (
        "name",
        "timezone",
        "starts_on",
        "ends_on",
        "description",
        "primary_color",
        "accent_color",
        "brand_footer",
        "logo_hash",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    primary_color: Mapped[str] = mapped_column(String(7), default="#0b6e4f")
    # the charter (campaign.brand): one logo for every region, an accent colour, a footer line
    accent_color: Mapped[str] = mapped_column(String(7), default="#8a4b08", server_default="#8a4b08")
    brand_footer: Mapped[str] = mapped_column(Text, default="", server_default="")
    logo_data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str] = mapped_column(String(20), default="", server_default="")
    logo_hash: Mapped[str] = mapped_column(String(16), default="", server_default="")
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_calendar_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )


milestone_dependencies = Table(
    "milestone_dependencies",
    db.metadata,
    Column(
        "milestone_id",
        ForeignKey("milestones.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "depends_on_id",
        ForeignKey("milestones.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Milestone(db.Model):
    __tablename__ = "milestones"
    __table_args__ = (Index("ix_milestones_campaign_starts", "campaign_id", "starts_at"),)
    __audit__ = (
        "kind",
        "title",
        "starts_at",
        "ends_at",
        "region_id",
        "owner_id",
        "status",
        "venue",
        "city",
        "anchor_id",
        "offset_days",
        "allow_weekend",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    venue: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    # dates that move together (campaign.anchors): this milestone sits `offset_days` days from its
    # anchor's day (invitations at D-10 of their conference) and moves when the anchor moves
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="SET NULL"), index=True)
    offset_days: Mapped[int | None] = mapped_column()
    # a person chose to send on a weekend or a public holiday (campaign.workdays)
    allow_weekend: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="milestones")
    anchor: Mapped["Milestone | None"] = relationship(remote_side="Milestone.id", foreign_keys=[anchor_id])
    region: Mapped[Region | None] = relationship()
    owner = relationship("User")
    depends_on: Mapped[list["Milestone"]] = relationship(
        secondary=milestone_dependencies,
        primaryjoin=id == milestone_dependencies.c.milestone_id,
        secondaryjoin=id == milestone_dependencies.c.depends_on_id,
        order_by="Milestone.starts_at",
    )

    @property
    def finishes_at(self) -> datetime:
        return self.ends_at or self.starts_at


EVENT_STATUSES = ("proposed", "approved", "rejected")


class Event(db.Model):
    """An event of the month in one region, proposed by an organiser and moderated by its chamber."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_campaign_region_status", "campaign_id", "region_id", "status"),
        # The public programme: approved events of a campaign, counted and ordered by (start, id).
        Index("ix_events_campaign_status_start", "campaign_id", "status", "starts_at", "id"),
    )
    __audit__ = (
        "title",
        "type",
        "starts_at",
        "ends_at",
        "city",
        "venue",
        "organiser",
        "status",
        "region_id",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(60), default="")
    themes: Mapped[list] = mapped_column(db.JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    city: Mapped[str] = mapped_column(String(120), default="")
    venue: Mapped[str] = mapped_column(String(200), default="")
    organiser: Mapped[str] = mapped_column(String(200), default="")
    organiser_email: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    region: Mapped[Region] = relationship()
