"""Contacts (people), their organisations, tags and beats, lists, segments and the suppression list."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, event, select
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db
from matching import fold

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
CIVILITIES = ("madame", "monsieur")
# How a French letter addresses the person (mail is written in French, whatever the reader's UI).
CIVILITY_WORDS = {"madame": "Madame", "monsieur": "Monsieur"}
UNKNOWN_SALUTATION = "Madame, Monsieur"
SUPPRESSION_REASONS = ("unsubscribed", "bounced", "erased", "complaint")


def salutation_of(civility: str | None, last_name: str | None) -> str:
    """ "Madame Durand", "Monsieur" without a name, "Madame, Monsieur" when the civility is unknown."""
    word = CIVILITY_WORDS.get(civility or "")
    if not word:
        return UNKNOWN_SALUTATION
    return f"{word} {last_name.strip()}" if (last_name or "").strip() else word


def search_text_of(first_name, last_name, email, organisation, outlet, job_title="") -> str:
    parts = (first_name, last_name, email, organisation, outlet, job_title)
    return " ".join(fold(p) for p in parts if p)[:800]


class Organisation(db.Model):
    __tablename__ = "organisations"
    __audit__ = ("name", "kind", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # the name case and accents aside (matching.fold): "Écho Solidaire" and "ECHO solidaire" are one
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    website: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Organisation, "before_insert")
@event.listens_for(Organisation, "before_update")
def refresh_name_key(mapper, connection, organisation: Organisation) -> None:
    organisation.name_key = fold(organisation.name)[:200]


class ContactTag(db.Model):
    """A free label on a contact ("presse-eco", "vip"...), lower-cased."""

    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag", "tag", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)


class ContactBeat(db.Model):
    """A subject a journalist covers ("économie", "emploi"...), lower-cased."""

    __tablename__ = "contact_beats"
    __table_args__ = (Index("ix_contact_beats_beat", "beat", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    beat: Mapped[str] = mapped_column(String(60), primary_key=True)


class Contact(db.Model):
    """A person who receives mailings: a journalist, a partner, a network relay..."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_region_kind", "region_id", "kind", "last_name", "first_name", "id"),
        Index("ix_contacts_kind", "kind"),
        Index("ix_contacts_media_type", "media_type"),
        Index("ix_contacts_name", "last_name", "first_name", "id"),
        # the city filter lists the cities in use by jumping through it (services.distinct_labels)
        Index("ix_contacts_city", "city"),
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
    civility: Mapped[str | None] = mapped_column(String(20))  # CIVILITIES; None when unknown
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    job_title: Mapped[str] = mapped_column(String(150), default="")
    kind: Mapped[str] = mapped_column(String(20), default="other")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    city: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # media contacts
    media_type: Mapped[str | None] = mapped_column(String(30))
    media_scope: Mapped[str | None] = mapped_column(String(20))
    outlet: Mapped[str] = mapped_column(String(200), default="")
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
    tag_rows: Mapped[list[ContactTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=ContactTag.tag
    )
    beat_rows: Mapped[list[ContactBeat]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=ContactBeat.beat
    )
    tags: AssociationProxy[list[str]] = association_proxy(
        "tag_rows", "tag", creator=lambda tag: ContactTag(tag=str(tag).strip().lower())
    )
    beats: AssociationProxy[list[str]] = association_proxy(
        "beat_rows", "beat", creator=lambda beat: ContactBeat(beat=str(beat).strip().lower())
    )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def salutation(self) -> str:
        return salutation_of(self.civility, self.last_name)

    @property
    def organisation_name(self) -> str:
        return self.organisation.name if self.organisation else ""

    @property
    def suppressed(self) -> bool:
        return self.opted_out or self.bounced


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def refresh_search_text(mapper, connection, contact: Contact) -> None:
    """Keep the folded search column in step with the fields it is made of."""
    organisation = contact.__dict__.get("organisation")
    if organisation is not None:
        organisation_name = organisation.name
    elif "organisation" not in contact.__dict__ and contact.organisation_id is not None:
        query = select(Organisation.name).where(Organisation.id == contact.organisation_id)
        organisation_name = connection.scalar(query) or ""
    else:
        organisation_name = ""
    contact.search_text = search_text_of(
        contact.first_name,
        contact.last_name,
        contact.email,
        organisation_name,
        contact.outlet,
        contact.job_title,
    )


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
    filter: Mapped[dict] = mapped_column(db.JSON, default=dict)  # kind, region, tags, media_type, beats, city
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region = relationship("Region")


# The tag table under its former name, for code that joins it directly (e.g. audience queries).
contact_tags = ContactTag.__table__
contact_beats = ContactBeat.__table__


class ContactNote(db.Model):
    """One dated note on a contact, kept with its author's name (the author's account may go)."""

    __tablename__ = "contact_notes"
    __table_args__ = (Index("ix_contact_notes_contact_at", "contact_id", "created_at"),)
    __audit__ = ("body",)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))  # None: national
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship()
