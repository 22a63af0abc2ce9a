"""Dates that move together: a milestone hangs on another (its anchor) `offset_days` days away.

The playbook hangs invitations at D-10 of their conference, the reminder at D-2, the regional
conferences in the national press week (D+2), each region's month on the national month. Moving an
anchor proposes to move, transitively, what hangs on it: each dependent keeps its rule (a mail
milestone lands on the working day before a weekend or a holiday, unless a person allowed it); one
moved by hand off its rule keeps its own gap. Mailings scheduled from a moved milestone are found by
the floors above (mailings registers a mover: this package does not import them). The whole move is
applied in the caller's transaction, and written to the audit log as one entry.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import select

from accounts.audit import record
from accounts.models import User
from accounts.scoping import can_read, can_write, readable
from campaign import services
from campaign.models import Campaign, Milestone
from campaign.workdays import MAIL_KINDS, check_send_day, hanging_day, previous_working_day
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from formatting import date_time
from i18n import _

ANCHOR_FIELDS = ("anchor_id", "offset_days", "allow_weekend")
MOVERS_KEY = "relais.campaign.movers"
OFFSET_LIMIT = 400  # days: a campaign lasts a year at most


@dataclass
class Move:
    """One milestone that hangs on the moved one, with where it would go; `blocked` says why it stays."""

    milestone: Milestone
    before: datetime
    after: datetime
    blocked: str = ""


@dataclass
class Linked:
    """Something outside the timeline scheduled from a moved milestone (a mailing), moved or named."""

    kind: str
    id: int
    title: str
    before: datetime
    after: datetime
    blocked: str = ""
    apply: Callable[[], None] | None = None


@dataclass
class Proposal:
    milestone: Milestone
    before: datetime
    after: datetime
    moves: list[Move] = field(default_factory=list)
    linked: list[Linked] = field(default_factory=list)
    applied: bool = False

    @property
    def movable(self) -> list[Move]:
        return [m for m in self.moves if not m.blocked]

    @property
    def empty(self) -> bool:
        return not self.moves and not self.linked

    def out(self, tz: str) -> dict:
        zone = ZoneInfo(tz)
        return {
            "applied": self.applied,
            "title": self.milestone.title,
            "from": self.before.astimezone(zone),
            "to": self.after.astimezone(zone),
            "milestones": [
                {
                    "id": m.milestone.id,
                    "title": m.milestone.title,
                    "from": m.before.astimezone(zone),
                    "to": m.after.astimezone(zone),
                    "moved": self.applied and not m.blocked,
                    "warning": m.blocked,
                }
                for m in self.moves
            ],
            "mailings": [
                {
                    "id": item.id,
                    "name": item.title,
                    "from": item.before.astimezone(zone),
                    "to": item.after.astimezone(zone),
                    "moved": self.applied and not item.blocked,
                    "warning": item.blocked,
                }
                for item in self.linked
                if item.kind == "mailing"
            ],
        }


# ---- what the floors above add: movers of what is scheduled from a milestone ------------------

# mover(actor, shifts, campaign, now) -> list[Linked]; shifts: {milestone id: (before, after)}
Mover = Callable[[User, dict[int, tuple[datetime, datetime]], Campaign, datetime], list[Linked]]


def register_mover(app: Flask, mover: Mover) -> None:
    app.extensions.setdefault(MOVERS_KEY, []).append(mover)


def movers() -> list[Mover]:
    return current_app.extensions.get(MOVERS_KEY, [])


# ---- days in the campaign's zone --------------------------------------------------------------


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def on_day(moment: datetime, day: date, tz: str) -> datetime:
    """The same local time as `moment`, on `day` (daylight saving time taken into account)."""
    zone = ZoneInfo(tz)
    here = moment.astimezone(zone)
    return datetime.combine(day, here.time().replace(tzinfo=None), zone).astimezone(moment.tzinfo)


def rule_day(m: Milestone, anchor_start: datetime, offset: int, tz: str) -> date:
    """Where the rule puts `m`: `offset` days from its anchor's day, a send on a working day."""
    return hanging_day(local_day(anchor_start, tz), offset, m.kind in MAIL_KINDS and not m.allow_weekend)


def follows_rule(m: Milestone, anchor_start: datetime, tz: str) -> bool:
    return m.offset_days is not None and rule_day(m, anchor_start, m.offset_days, tz) == local_day(m.starts_at, tz)


def shift_to(m: Milestone, start: datetime) -> None:
    """Move `m` to `start`, its end with it (the same length)."""
    if m.ends_at is not None:
        m.ends_at = m.ends_at + (start - m.starts_at)
    m.starts_at = start


# ---- the proposal ----------------------------------------------------------------------------


def propose(actor: User, milestone: Milestone, before: datetime, now: datetime | None = None) -> Proposal:
    """What would move with `milestone` now that it went from `before` to its current start."""
    campaign, now = milestone.campaign, now or utcnow()
    tz = campaign.timezone
    proposal = Proposal(milestone, before, milestone.starts_at)
    everything = db.session.scalars(
        select(Milestone).where(Milestone.campaign_id == campaign.id).order_by(Milestone.starts_at, Milestone.id)
    ).all()
    children: dict[int, list[Milestone]] = {}
    for m in everything:
        if m.anchor_id is not None:
            children.setdefault(m.anchor_id, []).append(m)
    old, new = {milestone.id: before}, {milestone.id: milestone.starts_at}
    queue, seen = [milestone], {milestone.id}
    while queue:
        parent = queue.pop(0)
        for child in children.get(parent.id, []):
            if child.id in seen:
                continue
            seen.add(child.id)
            if follows_rule(child, old[parent.id], tz):
                day = rule_day(child, new[parent.id], child.offset_days, tz)
            else:  # moved by hand off its rule: it keeps its own gap
                gap = local_day(new[parent.id], tz) - local_day(old[parent.id], tz)
                day = local_day(child.starts_at, tz) + gap
                if child.kind in MAIL_KINDS and not child.allow_weekend:
                    day = previous_working_day(day)
            target = on_day(child.starts_at, day, tz)
            if target == child.starts_at:
                continue
            blocked = ""
            if child.status == "done":
                blocked = _("déjà fait : il reste où il est")
            elif not can_write(actor, child.region_id):
                blocked = _("d'une autre région : à déplacer par elle")
            proposal.moves.append(Move(child, child.starts_at, target, blocked))
            if not blocked:
                old[child.id], new[child.id] = child.starts_at, target
                queue.append(child)
    shifts = {key: (old[key], new[key]) for key in new if old[key] != new[key]}
    if shifts:
        for mover in movers():
            proposal.linked.extend(mover(actor, shifts, campaign, now))
    return proposal


def apply(proposal: Proposal) -> Proposal:
    """Move every movable dependent and linked item, and audit the whole move as one entry."""
    tz = proposal.milestone.campaign.timezone
    lines = []
    for move in proposal.movable:
        shift_to(move.milestone, move.after)
        lines.append(f"{move.milestone.title} : {date_time(move.before, tz)} → {date_time(move.after, tz)}")
    for item in proposal.linked:
        if not item.blocked and item.apply is not None:
            item.apply()
            lines.append(f"{item.title} : {date_time(item.before, tz)} → {date_time(item.after, tz)}")
    proposal.applied = True
    db.session.flush()
    if lines:
        record(
            "move",
            "milestones",
            str(proposal.milestone.id),
            {"starts_at": [date_time(proposal.before, tz), date_time(proposal.after, tz)], "moved_with": lines},
        )
    return proposal


# ---- saving a milestone with its anchor ------------------------------------------------------


def anchor_of(actor: User, campaign: Campaign, milestone: Milestone, anchor_id: int | None, errors: dict):
    if not anchor_id:
        return None
    anchor = db.session.get(Milestone, anchor_id)
    if anchor is None or anchor.campaign_id != campaign.id or not can_read(actor, anchor.region_id):
        errors["anchor_id"] = _("jalon inconnu dans cette campagne")
        return None
    current, steps = anchor, 0
    while current is not None and steps <= 10_000:
        if current.id == milestone.id:
            errors["anchor_id"] = _("créerait une boucle : ce jalon ne peut pas dépendre de lui-même")
            return None
        current, steps = current.anchor, steps + 1
    return anchor


def place(milestone: Milestone, before: datetime | None, old_offset: int | None, data: dict, tz: str) -> None:
    """Keep the anchor's rule and the date in agreement: a new gap typed alone moves the date; a date
    moved by hand becomes the new gap (unless it still follows the rule, a weekend moved to Friday)."""
    anchor = milestone.anchor
    if anchor is None:
        milestone.offset_days = None
        return
    typed = data.get("offset_days")
    date_moved = before is None or milestone.starts_at != before
    if typed is not None and typed != old_offset:
        if not date_moved:  # the gap alone changed: the date follows it
            shift_to(milestone, on_day(milestone.starts_at, rule_day(milestone, anchor.starts_at, typed, tz), tz))
        milestone.offset_days = typed
    if not follows_rule(milestone, anchor.starts_at, tz):
        milestone.offset_days = (local_day(milestone.starts_at, tz) - local_day(anchor.starts_at, tz)).days


def save(
    actor: User,
    campaign: Campaign,
    milestone: Milestone | None,
    data: dict,
    move_dependents: bool = False,
    now: datetime | None = None,
) -> tuple[Milestone, Proposal | None]:
    """services.save_milestone, plus the anchor, the weekend rule of sends and the move of what hangs
    on it (applied when `move_dependents`, else only proposed). The caller commits."""
    before = milestone.starts_at if milestone is not None else None
    old_offset = milestone.offset_days if milestone is not None else None
    if before is not None and milestone.ends_at is not None and data.get("starts_at") and "ends_at" not in data:
        start = services.to_utc(data["starts_at"], campaign.timezone, "starts_at")
        data = {**data, "ends_at": milestone.ends_at + (start - before)}  # a new start alone keeps the length
    saved = services.save_milestone(
        actor, campaign, milestone, {k: v for k, v in data.items() if k not in ANCHOR_FIELDS}
    )
    errors: dict[str, str] = {}
    if "allow_weekend" in data and data["allow_weekend"] is not None:
        saved.allow_weekend = bool(data["allow_weekend"])
    if "anchor_id" in data:
        saved.anchor = anchor_of(actor, campaign, saved, data["anchor_id"], errors)
    typed = data.get("offset_days")
    if typed is not None and not -OFFSET_LIMIT <= typed <= OFFSET_LIMIT:
        errors["offset_days"] = _("entre -%(limit)s et %(limit)s jours", limit=OFFSET_LIMIT)
    if not errors:
        place(saved, before, old_offset, data, campaign.timezone)
    planned = before is None or saved.starts_at != before or {"kind", "status", "allow_weekend"} & set(data)
    if planned and saved.kind in MAIL_KINDS and saved.status in services.OPEN_STATUSES and "starts_at" not in errors:
        try:
            check_send_day(saved.starts_at, campaign.timezone, "starts_at", _("Début"), saved.allow_weekend)
        except ValidationFailed as refused:
            errors.update(refused.fields)
    if errors:
        raise ValidationFailed(_("Jalon invalide : vérifiez les champs signalés."), errors)
    db.session.flush()
    if before is None or before == saved.starts_at:
        return saved, None
    proposal = propose(actor, saved, before, now)
    if proposal.empty:
        return saved, None
    if move_dependents:
        apply(proposal)
    return saved, proposal


def hanging_on(actor: User, milestone: Milestone) -> list[Milestone]:
    """What hangs directly on `milestone` that `actor` may read, by date."""
    query = select(Milestone).where(Milestone.anchor_id == milestone.id)
    return db.session.scalars(
        readable(query, actor, Milestone.region_id).order_by(Milestone.starts_at, Milestone.id)
    ).all()
