"""Press relations: conference details, RSVP answers, press releases under embargo, press kit files,
partner relay kits and their reports, and the per-campaign contact-pressure settings."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db

RSVP_ANSWERS = ("yes", "no")  # what a signed link can say
RECORDED_ANSWERS = ("yes", "no", "maybe")  # what a person can record for someone (phone, email, on the spot)
ANSWER_CHANNELS = ("phone", "email", "in_person")  # None: the invitation's own link
FILE_KINDS = ("logo", "photo", "pdf")


class PressConference(db.Model):
    """What a press-conference milestone needs beyond its date, venue and city: speakers, address."""

    __tablename__ = "press_conferences"
    __audit__ = ("address", "speakers", "notes")

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    speakers: Mapped[str] = mapped_column(Text, default="")  # one a line: "Name, role"
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    milestone = relationship("Milestone")

    @property
    def speaker_list(self) -> list[str]:
        return [line.strip() for line in (self.speakers or "").splitlines() if line.strip()]


class Rsvp(db.Model):
    """One invited contact of one conference: its answer (None until it answers) and its check-in."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("milestone_id", "contact_id", name="uq_rsvps_milestone_contact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str | None] = mapped_column(String(5))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # an answer a person recorded (by phone, email, on the spot): how it came, who wrote it down, when
    channel: Mapped[str | None] = mapped_column(String(12))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_by_label: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_in: Mapped[bool] = mapped_column(default=False)  # added at the door, not invited

    milestone = relationship("Milestone")
    contact = relationship("Contact")


class PressRelease(db.Model):
    """A release for the newsroom; published once `ready` and past its (or the national) embargo."""

    __tablename__ = "press_releases"
    __table_args__ = (Index("ix_press_releases_campaign_ready", "campaign_id", "ready"),)
    __audit__ = ("title", "lead", "body", "embargo_until", "ready", "follows_national_id", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="SET NULL"))
    follows_national_id: Mapped[int | None] = mapped_column(ForeignKey("press_releases.id", ondelete="SET NULL"))
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(250))
    city: Mapped[str] = mapped_column(String(120), default="")
    lead: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    press_contact: Mapped[str] = mapped_column(Text, default="")
    embargo_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready: Mapped[bool] = mapped_column(default=False)  # a person approved it for publication
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when it went public
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign = relationship("Campaign")
    region = relationship("Region")
    milestone = relationship("Milestone")
    mailing = relationship("Mailing")
    follows_national: Mapped["PressRelease | None"] = relationship(remote_side=[id])


class RelayKit(db.Model):
    """Texts, visuals and links for partners and networks to relay, sent to them as a mailing."""

    __tablename__ = "relay_kits"
    __audit__ = ("title", "texts", "links", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(250))
    texts: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[str] = mapped_column(Text, default="")  # one URL a line
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign = relationship("Campaign")
    region = relationship("Region")
    mailing = relationship("Mailing")


class RelayReport(db.Model):
    """A partner saying, through its signed link, that it relayed the kit: where, when, link."""

    __tablename__ = "relay_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("relay_kits.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(200))
    relayed_on: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kit: Mapped[RelayKit] = relationship()
    contact = relationship("Contact")


class PressKitFile(db.Model):
    """A logo, photo or PDF of a campaign's press kit, of a release, a conference or a relay kit."""

    __tablename__ = "press_kit_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("press_releases.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"), index=True)
    relay_kit_id: Mapped[int | None] = mapped_column(ForeignKey("relay_kits.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    release = relationship("PressRelease")
    milestone = relationship("Milestone")


class PressSettings(db.Model):
    """Per campaign: the contact-pressure window (days) and the hard limit of mailings per contact and week."""

    __tablename__ = "press_settings"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    pressure_days: Mapped[int] = mapped_column(default=3)
    weekly_limit: Mapped[int] = mapped_column(default=0)  # 0: no limit
