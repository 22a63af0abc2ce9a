"""Sender identities: the names and addresses a region (or the national team) sends as, configured
once and offered in every mailing form. `RELAIS_MAIL_SENDERS` (mailings.senders) stays the outer
bound: an identity is accepted only within what it allows."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from accounts.scoping import require_write
from contacts.i18n import _
from dbtypes import UTCDateTime, utcnow
from errors import ValidationFailed
from extensions import db


class SenderIdentity(db.Model):
    """ "CRESS Bretagne <presse@cress-bretagne.example>": one way a region (None: national) signs."""

    __tablename__ = "sender_identities"
    __audit__ = ("name", "email", "reply_to", "region_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region = relationship("Region")

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"


def identities_for(region_id: int | None) -> list[SenderIdentity]:
    """What a mailing of this region (None: national) may send as: its region's identities first,
    then the national team's."""
    query = select(SenderIdentity).where(
        SenderIdentity.region_id.is_(None)
        if region_id is None
        else or_(SenderIdentity.region_id.is_(None), SenderIdentity.region_id == region_id)
    )
    found = db.session.scalars(query.order_by(SenderIdentity.name, SenderIdentity.id)).all()
    return sorted(found, key=lambda i: i.region_id is None)


def all_identities() -> list[SenderIdentity]:
    return db.session.scalars(select(SenderIdentity).order_by(SenderIdentity.region_id, SenderIdentity.name)).all()


def add_identity(user: User, region_id: int | None, name: str, email: str, reply_to: str, allowed) -> SenderIdentity:
    """A new identity for a region (or national); `allowed(region_id, address)` is the configured bound."""
    require_write(user, region_id)
    name, email, reply_to = " ".join((name or "").split()), (email or "").strip().lower(), (reply_to or "").strip()
    problems = {}
    if not name or len(name) > 120:
        problems["from_name"] = _("obligatoire, 120 caractères au plus")
    if "@" not in email or len(email) > 254 or any(c in email for c in " \r\n<>,;"):
        problems["from_email"] = _("adresse invalide")
    elif not allowed(region_id, email):
        problems["from_email"] = _("pas une adresse d'expéditeur de cette région ni de la fédération")
    if reply_to and ("@" not in reply_to or len(reply_to) > 254 or any(c in reply_to for c in " \r\n<>,;")):
        problems["reply_to"] = _("adresse invalide")
    same_region = SenderIdentity.region_id.is_(None) if region_id is None else SenderIdentity.region_id == region_id
    same = select(SenderIdentity.id).where(SenderIdentity.email == email, same_region).limit(1)
    if not problems and db.session.scalar(same):
        problems["from_email"] = _("cette identité existe déjà")
    if problems:
        raise ValidationFailed(_("Identité d'expéditeur invalide."), problems)
    identity = SenderIdentity(region_id=region_id, name=name, email=email, reply_to=reply_to)
    db.session.add(identity)
    db.session.flush()
    return identity


def remove_identity(user: User, identity: SenderIdentity) -> None:
    require_write(user, identity.region_id)
    db.session.delete(identity)
    db.session.flush()
