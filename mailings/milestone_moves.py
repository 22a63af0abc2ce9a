"""Mailings follow the milestone they were scheduled from (campaign.anchors calls this mover).

A mailing tied to a milestone (`milestone_id`: the conference an invitation is for) moves by as
many days as that milestone, at the same local time, on the working day before a weekend or a
public holiday. One already started, missed, out of the person's reach, or refused at its new time
(an embargo) stays where it is, and the proposal names it with the reason.
"""

from datetime import datetime

from sqlalchemy import select

from accounts.models import User
from accounts.scoping import can_write
from campaign.anchors import Linked, local_day, on_day
from campaign.models import Campaign
from campaign.workdays import previous_working_day
from errors import DomainError
from extensions import db
from i18n import _
from mailings import states
from mailings.hooks import hooks
from mailings.models import Mailing

MOVABLE = frozenset({"draft", "submitted", "approved", "scheduled"})


def why_it_stays(actor: User, mailing: Mailing, target: datetime, now: datetime) -> str:
    if mailing.status in ("sending", "sent") or mailing.frozen_at is not None:
        return _("déjà parti")
    if mailing.status == "missed":
        return _("manqué : à reprogrammer à la main")
    if mailing.status not in MOVABLE and mailing.status != "paused":
        return _("dans l'état « %(status)s »", status=str(states.LABELS.get(mailing.status, mailing.status)))
    if not can_write(actor, mailing.region_id):
        return _("d'une autre région : à déplacer par elle")
    if target < now:
        return _("la nouvelle heure serait déjà passée")
    for check in hooks().send_checks:  # press: an embargo decides the earliest send time
        try:
            check(mailing, target)
        except DomainError as refused:
            return refused.message
    return ""


def mailings_moved(
    actor: User, shifts: dict[int, tuple[datetime, datetime]], campaign: Campaign, now: datetime
) -> list[Linked]:
    """The mailings scheduled from the moved milestones, each with its new time (or why it stays)."""
    tz = campaign.timezone
    found = db.session.scalars(
        select(Mailing)
        .where(
            Mailing.milestone_id.in_(list(shifts)),
            Mailing.scheduled_at.is_not(None),
            Mailing.status != "cancelled",
        )
        .order_by(Mailing.scheduled_at, Mailing.id)
    ).all()
    linked = []
    for mailing in found:
        before, after = shifts[mailing.milestone_id]
        gap = local_day(after, tz) - local_day(before, tz)
        if not gap:
            continue
        day = previous_working_day(local_day(mailing.scheduled_at, tz) + gap)
        target = on_day(mailing.scheduled_at, day, tz)
        blocked = why_it_stays(actor, mailing, target, now)

        def move(mailing=mailing, target=target) -> None:
            mailing.scheduled_at = target

        linked.append(
            Linked(
                "mailing", mailing.id, mailing.name, mailing.scheduled_at, target, blocked, None if blocked else move
            )
        )
    return linked
