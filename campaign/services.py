"""Campaign and milestone rules: validation, scoping, lateness and timeline warnings."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import or_, select

from accounts.models import Region, User
from accounts.scoping import can_read, get_readable, readable, require_write
from campaign import brand
from campaign.models import MILESTONE_KINDS, MILESTONE_STATUSES, Campaign, Event, Milestone
from campaign.workdays import MAIL_KINDS, closed_because, hanging_day, relative_day
from dbtypes import utcnow
from errors import NotFound, PermissionDenied, ValidationFailed
from extensions import db
from i18n import _
from matching import fold

OPEN_STATUSES = ("planned", "in_progress")
CAMPAIGN_FIELDS = ("name", "description", "timezone", "starts_on", "ends_on", "primary_color")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        message = _("Fuseau horaire inconnu : %(name)s", name=name)
        raise ValidationFailed(message, {"timezone": message}) from error


PLAUSIBLE_YEARS = (1970, 2200)


def to_utc(value: datetime, tz: str, field: str = "datetime") -> datetime:
    """A datetime without offset is read in the campaign's zone; years outside 1970–2200 are refused."""
    if not PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]:
        message = _(
            "l'année doit être comprise entre %(low)s et %(high)s", low=PLAUSIBLE_YEARS[0], high=PLAUSIBLE_YEARS[1]
        )
        raise ValidationFailed(message, {field: message})
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(ZoneInfo("UTC"))


def at_local(day: date, hour: int, minute: int, tz: str) -> datetime:
    return to_utc(datetime.combine(day, time(hour, minute)), tz)


def region_keys(region: Region) -> set[str]:
    """What a region is known by, folded (matching.fold): its code, its name, its chamber's name."""
    return {fold(name) for name in (region.code, region.name, region.chamber) if name}


def find_region(text: str) -> Region | None:
    """The region of that code, or of that name or chamber case and accents aside ("ile-de-france")."""
    region = db.session.scalar(select(Region).where(Region.code == text))
    if region is None:
        region = next((r for r in db.session.scalars(select(Region)) if fold(text) in region_keys(r)), None)
    return region


def region_by_code(code: str | None) -> Region | None:
    if not code:
        return None
    region = find_region(code)
    if region is None:
        message = _("Région inconnue : %(code)s", code=code)
        raise ValidationFailed(message, {"region": message})
    return region


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Cette campagne n'existe pas."))
    return campaign


def signed_in_user() -> User | None:
    """The person behind this request: the API token's user, else the signed-in one (none outside requests)."""
    if not has_request_context():
        return None
    user = g.get("api_user")
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    return user


def default_campaign(today: date | None = None, *, public: bool = False) -> Campaign | None:
    """The edition running or last run: the latest that has started by `today`, else the latest (not an
    empty future edition while an earlier one has something to show).

    `public`: the edition the public sees first is the latest started that shows something, its
    event month begun or an event approved; one in preparation, with only its timeline and the
    regions' proposals, leaves the public on the last edition until then."""
    today = today or utcnow().astimezone(zone("Europe/Paris")).date()
    latest = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1)
    started = latest.where(Campaign.starts_on <= today)
    if public:
        approved = select(Event.id).where(Event.campaign_id == Campaign.id, Event.status == "approved").exists()
        month_begun = Campaign.ends_on <= today + timedelta(days=31)  # within its last month: the event month
        shown = db.session.scalar(started.where(or_(approved, month_begun)))
        if shown is not None:
            return shown
    return db.session.scalar(started) or db.session.scalar(latest)


CURRENT_KEY = "relais_current_campaign"


def current_campaign(user: User | None = None, *, public: bool = False) -> Campaign | None:
    """The edition people are working on: the one this person chose (users.campaign_id, remembered
    across sign-ins), else the default edition. `public`: what public pages show, whoever asks.

    Asked by many views and by every page's edition switcher: a request looks it up once (kept on
    flask.g, forgotten when a campaign or the person's choice changes and when the request ends)."""
    user = None if public else user or signed_in_user()
    key = (public, user.id if user is not None else None, user.campaign_id if user is not None else None)
    known = g.setdefault(CURRENT_KEY, {}) if has_request_context() else {}
    if key in known:
        return known[key]
    found = None
    if user is not None and user.campaign_id:
        found = db.session.get(Campaign, user.campaign_id)
    known[key] = found = found or default_campaign(public=public)
    return found


def forget_current_campaign(*_args) -> None:
    """The editions changed (a campaign saved or deleted, a choice made), or the request ended."""
    if has_request_context():
        g.pop(CURRENT_KEY, None)


def save_campaign(actor: User, campaign: Campaign | None, data: dict) -> Campaign:
    """Create or change a campaign (national leads and admins)."""
    if actor.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale gère les campagnes."))
    campaign = campaign or Campaign()
    brand.check_colors({key: data[key] for key in ("primary_color",) if key in data})
    brand.apply_brand(campaign, data.get("brand") or {}, "brand.")
    for key in CAMPAIGN_FIELDS:
        if key in data:
            setattr(campaign, key, data[key])
    errors = {}
    if not (campaign.name or "").strip():
        errors["name"] = _("obligatoire")
    zone(campaign.timezone or "Europe/Paris")
    if campaign.starts_on is None:
        errors["starts_on"] = _("obligatoire")
    if campaign.ends_on is None:
        errors["ends_on"] = _("obligatoire")
    elif campaign.starts_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = _("pas avant la date de début")
    if errors:
        raise ValidationFailed(_("Campagne invalide : vérifiez les champs signalés."), errors)
    db.session.add(campaign)
    db.session.flush()
    forget_current_campaign()
    return campaign


def delete_campaign(actor: User, campaign: Campaign) -> None:
    if actor.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale gère les campagnes."))
    db.session.delete(campaign)
    db.session.flush()
    forget_current_campaign()


def get_milestone(actor: User, milestone_id: int) -> Milestone:
    return get_readable(actor, Milestone, milestone_id, _("Ce jalon n'existe pas."))


def save_milestone(actor: User, campaign: Campaign, milestone: Milestone | None, data: dict) -> Milestone:
    """Create or change a milestone, checking fields, region rights and dependencies."""
    if milestone is not None:
        require_write(actor, milestone.region_id)
    milestone = milestone or Milestone(campaign_id=campaign.id, status="planned")
    errors: dict[str, str] = {}
    if "region" in data:
        region = region_by_code(data["region"])
        milestone.region = region
        milestone.region_id = region.id if region else None
    for key in ("kind", "title", "description", "status", "venue", "city"):
        if key in data and data[key] is not None:
            setattr(
                milestone,
                key,
                data[key].strip() if isinstance(data[key], str) else data[key],
            )
    for key in ("starts_at", "ends_at"):
        if key in data:
            setattr(
                milestone,
                key,
                to_utc(data[key], campaign.timezone, key) if data[key] else None,
            )
    if "owner_id" in data:
        milestone.owner_id = data["owner_id"]
        if data["owner_id"] and db.session.get(User, data["owner_id"]) is None:
            errors["owner_id"] = _("utilisateur inconnu")
    if not milestone.title:
        errors["title"] = _("obligatoire")
    if milestone.kind not in MILESTONE_KINDS:
        errors["kind"] = _("l'un de : %(values)s", values=", ".join(MILESTONE_KINDS))
    if milestone.status not in MILESTONE_STATUSES:
        errors["status"] = _("l'un de : %(values)s", values=", ".join(MILESTONE_STATUSES))
    if milestone.starts_at is None:
        errors["starts_at"] = _("obligatoire")
    elif milestone.ends_at and milestone.ends_at < milestone.starts_at:
        errors["ends_at"] = _("pas avant le début")
    if "depends_on" in data:
        milestone.depends_on = dependencies(actor, campaign, milestone, data["depends_on"] or [], errors)
    if errors:
        raise ValidationFailed(_("Jalon invalide : vérifiez les champs signalés."), errors)
    require_write(actor, milestone.region_id)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def dependencies(
    actor: User, campaign: Campaign, milestone: Milestone, ids: list[int], errors: dict
) -> list[Milestone]:
    """The milestones `ids` of this campaign, each one the actor may read (as an anchor must be)."""
    found = db.session.scalars(select(Milestone).where(Milestone.id.in_(ids))).all() if ids else []
    if len(found) != len(set(ids)) or any(
        m.campaign_id != campaign.id or not can_read(actor, m.region_id) for m in found
    ):
        errors["depends_on"] = _("jalon inconnu dans cette campagne")
        return []
    if milestone.id is not None and reaches(found, milestone.id):
        errors["depends_on"] = _("créerait une dépendance circulaire")
        return []
    return list(found)


def reaches(start: list[Milestone], target_id: int) -> bool:
    seen, todo = set(), list(start)
    while todo:
        current = todo.pop()
        if current.id == target_id:
            return True
        if current.id not in seen:
            seen.add(current.id)
            todo.extend(current.depends_on)
    return False


def delete_milestone(actor: User, milestone: Milestone) -> None:
    require_write(actor, milestone.region_id)
    db.session.delete(milestone)
    db.session.flush()


@dataclass
class Warning_:
    code: str
    message: str


@dataclass
class Assessment:
    late: bool = False
    warnings: list[Warning_] = field(default_factory=list)


def press_week(campaign: Campaign, milestones: list[Milestone]) -> tuple[date, date] | None:
    """Monday to Sunday of the national press conference's week, in the campaign's zone."""
    national = [m for m in milestones if m.kind == "national_press_conference" and m.status != "cancelled"]
    if not national:
        return None
    day = min(national, key=lambda m: m.starts_at).starts_at.astimezone(zone(campaign.timezone)).date()
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def assess(campaign: Campaign, milestones: list[Milestone], now: datetime) -> dict[int, Assessment]:
    """Late items and the timeline's conflicts, for every milestone of the campaign."""
    week = press_week(campaign, milestones)
    tz = zone(campaign.timezone)
    by_id = {m.id: m for m in milestones}
    result: dict[int, Assessment] = {}
    for m in milestones:
        a = Assessment(late=m.status in OPEN_STATUSES and m.finishes_at < now)
        if m.kind == "regional_press_conference" and week and m.status != "cancelled":
            day = m.starts_at.astimezone(tz).date()
            if not week[0] <= day <= week[1]:
                start, end = week[0].strftime("%d/%m"), week[1].strftime("%d/%m")
                message = _(
                    "conférence régionale hors de la semaine de la conférence nationale (%(start)s – %(end)s)",
                    start=start,
                    end=end,
                )
                a.warnings.append(Warning_("outside_press_week", message))
        send = m.kind in MAIL_KINDS and m.status in OPEN_STATUSES and not m.allow_weekend
        if send and (why := closed_because(m.starts_at.astimezone(tz).date())):
            message = _("envoi prévu %(why)s : rien ne part un week-end ou un jour férié", why=why)
            a.warnings.append(Warning_("closed_day", message))
        if (anchor := by_id.get(m.anchor_id)) and (off := off_anchor(m, anchor, tz)):
            a.warnings.append(Warning_("off_anchor", off))
        for dep in m.depends_on:
            if m.starts_at < dep.finishes_at and dep.status != "cancelled":
                a.warnings.append(
                    Warning_(
                        "before_dependency",
                        _("commence avant la fin de « %(title)s », dont il dépend", title=dep.title),
                    )
                )
        result[m.id] = a
    return result


def off_anchor(m: Milestone, anchor: Milestone, tz: ZoneInfo) -> str:
    """An open milestone no longer where its anchor's rule puts it (the anchor moved without it)."""
    if m.offset_days is None or m.status not in OPEN_STATUSES or anchor.status == "cancelled":
        return ""
    anchor_day, day = anchor.starts_at.astimezone(tz).date(), m.starts_at.astimezone(tz).date()
    gap = (day - anchor_day).days
    if gap == m.offset_days or day == hanging_day(
        anchor_day, m.offset_days, m.kind in MAIL_KINDS and not m.allow_weekend
    ):
        return ""  # on its rule (a send on a closed day is the closed_day warning's)
    return _(
        "à %(gap)s de « %(title)s » au lieu de %(rule)s : déplacez-le avec lui ou changez l'écart",
        gap=relative_day(gap),
        title=anchor.title,
        rule=relative_day(m.offset_days),
    )


def timeline_milestones(
    actor: User,
    campaign: Campaign,
    region_code: str | None = None,
    kind: str | None = None,
):
    """The milestones this user may read, optionally narrowed to one region's lane and one kind."""

    query = readable(
        select(Milestone).where(Milestone.campaign_id == campaign.id),
        actor,
        Milestone.region_id,
    )
    if region_code == "national":
        query = query.where(Milestone.region_id.is_(None))
    elif region_code:
        region = region_by_code(region_code)
        query = query.where(Milestone.region_id == region.id)
    if kind:
        query = query.where(Milestone.kind == kind)
    return query.order_by(Milestone.starts_at, Milestone.id)
