"""Contacts (people), their organisations, lists, segments and the suppression list."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db

CONTACT_KINDS = ("media", "partner", "network", "institution", "internal", "other")
MEDIA_TYPES = (
    "agency",
    "national_daily",
    "regional_daily",
    "regional_weekly",
    "magazine",
    "specialised",
    "radio",
    "tv",
    "web",
)
MEDIA_SCOPES = ("national", "regional", "departement")
PARTNERSHIP_STATUSES = ("prospect", "negotiating", "confirmed", "declined")
LEGAL_BASES = ("legitimate_interest", "consent", "contract", "public_interest")


class Organisation(db.Model):
    __tablename__ = "organisations"
    __audit__ = ("name", "kind", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    website: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


contact_tags = Table(
    "contact_tags",
    db.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(60), primary_key=True, index=True),
)


class Contact(db.Model):
    """A person who receives mailings: a journalist, a partner, a network relay..."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_region_kind", "region_id", "kind"),
        Index("ix_contacts_search", "search_text"),
    )
    __audit__ = (
        "email",
        "first_name",
        "last_name",
        "kind",
        "region_id",
        "organisation_id",
        "opted_out",
        "bounced",
        "legal_basis",
        "source",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    job_title: Mapped[str] = mapped_column(String(150), default="")
    kind: Mapped[str] = mapped_column(String(20), default="other")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    # media contacts
    media_type: Mapped[str | None] = mapped_column(String(30))
    media_scope: Mapped[str | None] = mapped_column(String(20))
    outlet: Mapped[str] = mapped_column(String(200), default="")
    beats: Mapped[list] = mapped_column(db.JSON, default=list)
    # partners
    partnership_status: Mapped[str | None] = mapped_column(String(20))
    partnership_level: Mapped[str] = mapped_column(String(50), default="")
    # GDPR
    source: Mapped[str] = mapped_column(String(200), default="")
    legal_basis: Mapped[str] = mapped_column(String(30), default="legitimate_interest")
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced: Mapped[bool] = mapped_column(default=False)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    # accent- and case-free "first last email organisation outlet", for search on every engine
    search_text: Mapped[str] = mapped_column(String(800), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    region = relationship("Region")

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Suppression(db.Model):
    """An address that must never be written to again: only a hash, never a name."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # unsubscribed, bounced, erased, complaint
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


list_members = Table(
    "list_members",
    db.metadata,
    Column("list_id", ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "contact_id",
        ForeignKey("contacts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class ContactList(db.Model):
    """A static list of contacts."""

    __tablename__ = "contact_lists"
    __audit__ = ("name", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region = relationship("Region")


class Segment(db.Model):
    """A saved filter, resolved each time it is used."""

    __tablename__ = "segments"
    __audit__ = ("name", "filter", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    filter: Mapped[dict] = mapped_column(db.JSON, default=dict)  # kind, region, tags, media_type, beats
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region = relationship("Region")
