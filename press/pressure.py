"""Contact pressure: who in a mailing's audience gets another mailing of the campaign around the
same time (shown to the sender, excluded in one click), and a hard limit per contact and week."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from accounts.models import User
from accounts.scoping import require_role, require_write
from campaign.models import Campaign
from contacts.models import Contact
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from i18n import _
from mailings.audience import mailing_audience
from mailings.models import Delivery, Mailing
from press.models import PressSettings

COUNTED = ("sent", "sending", "retry", "pending", "unknown")
IGNORED_MAILINGS = ("draft", "cancelled", "missed")


def settings(campaign_id: int) -> PressSettings:
    found = db.session.get(PressSettings, campaign_id)
    if found is not None:
        return found
    config = current_app.config
    return PressSettings(
        campaign_id=campaign_id,
        pressure_days=int(config.get("PRESS_PRESSURE_DAYS", 3)),
        weekly_limit=int(config.get("PRESS_WEEKLY_LIMIT", 0)),
    )


def save_settings(user: User, campaign: Campaign, pressure_days, weekly_limit) -> PressSettings:
    require_role(user, "admin", "national")
    problems = {}
    values = {}
    for field, value, top in (("pressure_days", pressure_days, 60), ("weekly_limit", weekly_limit, 50)):
        try:
            values[field] = int(value)
            if not 0 <= values[field] <= top:
                raise ValueError
        except (TypeError, ValueError):
            problems[field] = f"a whole number from 0 to {top}"
    if problems:
        raise ValidationFailed(_("Réglages invalides : vérifiez les champs signalés."), problems)
    record = db.session.get(PressSettings, campaign.id) or PressSettings(campaign_id=campaign.id)
    record.pressure_days, record.weekly_limit = values["pressure_days"], values["weekly_limit"]
    db.session.add(record)
    db.session.flush()
    return record


@dataclass
class Overlap:
    contact_id: int
    name: str
    email: str
    other_id: int
    other_name: str
    other_at: datetime


def when(mailing: Mailing, now: datetime) -> datetime:
    return mailing.started_at or mailing.scheduled_at or now


def recipients_of(mailing: Mailing):
    if mailing.frozen_at is not None:
        return select(Delivery.contact_id).where(Delivery.mailing_id == mailing.id, Delivery.status.in_(COUNTED))
    return mailing_audience(mailing)


def overlaps(mailing: Mailing, days: int | None = None, now: datetime | None = None) -> list[Overlap]:
    """Contacts of this audience who get another mailing of the campaign within `days` of this one."""
    now = now or utcnow()
    days = settings(mailing.campaign_id).pressure_days if days is None else days
    ours = mailing_audience(mailing)
    if ours is None or days <= 0:
        return []
    at = when(mailing, now)
    others = db.session.scalars(
        select(Mailing).where(
            Mailing.campaign_id == mailing.campaign_id,
            Mailing.id != mailing.id,
            Mailing.status.not_in(IGNORED_MAILINGS),
            or_(Mailing.started_at.is_not(None), Mailing.scheduled_at.is_not(None)),
        )
    ).all()
    found: list[Overlap] = []
    for other in others:
        other_at = when(other, now)
        theirs = recipients_of(other)
        if abs(other_at - at) > timedelta(days=days) or theirs is None:
            continue
        rows = db.session.execute(
            select(Contact.id, Contact.first_name, Contact.last_name, Contact.email)
            .where(Contact.id.in_(ours), Contact.id.in_(theirs))
            .order_by(Contact.last_name, Contact.id)
        )
        for cid, first, last, email in rows:
            name = " ".join(p for p in (first, last) if p) or email
            found.append(Overlap(cid, name, email, other.id, other.name, other_at))
    return found


def exclude(user: User, mailing: Mailing, contact_ids: list[int]) -> int:
    """Leave these contacts out of the audience (kept as `exclude_contact_ids`) until it is frozen."""
    require_write(user, mailing.region_id)
    if mailing.frozen_at is not None or mailing.status in ("sending", "sent", "cancelled"):
        raise ValidationFailed(_("Les destinataires sont déjà arrêtés."), {"status": mailing.status})
    audience = dict(mailing.audience or {})
    before = set(audience.get("exclude_contact_ids") or [])
    audience["exclude_contact_ids"] = sorted(before | {int(i) for i in contact_ids})
    mailing.audience = audience
    db.session.flush()
    return len(audience["exclude_contact_ids"]) - len(before)


def at_weekly_limit(mailing: Mailing, now: datetime):
    """A select of the contacts already at the week's limit (other mailings), or None without a limit."""
    limit = settings(mailing.campaign_id).weekly_limit
    if not limit:
        return None
    since = now - timedelta(days=7)
    return (
        select(Delivery.contact_id)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(
            Delivery.mailing_id != mailing.id,
            Delivery.contact_id.is_not(None),
            or_(
                (Delivery.status == "sent") & (Delivery.sent_at >= since),
                Delivery.status.in_(("pending", "sending", "retry", "unknown")) & (Mailing.started_at >= since),
            ),
        )
        .group_by(Delivery.contact_id)
        .having(func.count() >= limit)
    )


def weekly_limit_exclusions(mailing: Mailing, now: datetime) -> tuple[str, object]:
    """Hook of the recipient list: who the weekly limit will leave out, as contact pressure."""
    return "pressure", at_weekly_limit(mailing, now)


def apply_weekly_limit(mailing: Mailing, now: datetime) -> int:
    """Hook of `services.start`: skip the frozen deliveries of contacts already at the week's limit."""
    recent = at_weekly_limit(mailing, now)
    if recent is None:
        return 0
    limit = settings(mailing.campaign_id).weekly_limit
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.mailing_id == mailing.id, Delivery.status == "pending", Delivery.contact_id.in_(recent))
        .values(
            status="skipped", last_error=_("limite hebdomadaire (%(n)s envois en 7 jours)", n=limit), updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
