"""Editions: the campaign each person works on, the public archive of past editions, and a new
edition made from an earlier one, its timeline shifted by the playbook's rules.

The shift keeps the plan's shape: a date on the event month's first or last day stays there; a
date up to the day after the annual general assembly (AG) moves with the AG (and the partners'
deadline stays at the end of the month before it); every other date moves by a whole number of
weeks, the nearest to the months' distance, so a Tuesday conference stays a Tuesday about as long
before the month. What hangs on one edition only (answers, deliveries, sends, coverage, events)
stays behind; what the floors above carry over (templates, press settings, sender identities...)
they register here, as mailings' hooks do.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, or_, select

from accounts.audit import record
from accounts.models import Region, User
from campaign.federation_models import EventVocabulary
from campaign.models import Campaign, Milestone
from campaign.playbook import month_end
from campaign.reminders import campaign_cli
from campaign.services import (
    PLAUSIBLE_YEARS,
    current_campaign,
    default_campaign,
    forget_current_campaign,
    to_utc,
    zone,
)
from dbtypes import MAX_ID, utcnow
from errors import NotFound, PermissionDenied, ValidationFailed
from extensions import db
from i18n import _
from matching import fold

KEY = "relais.editions"
LEADS = ("admin", "national")
CAMPAIGN_COPIED = (
    "description",
    "timezone",
    "primary_color",
    "accent_color",
    "brand_footer",
    "logo_data",
    "logo_type",
    "logo_hash",
)
MILESTONE_FRESH = {"id", "campaign_id", "status", "starts_at", "ends_at", "created_at", "updated_at"}


@dataclass
class EditionHooks:
    # copy(source, target) -> {what: count}: what a floor above carries into a new edition, in the
    # same transaction (templates, press settings, sender identities...)
    copiers: list[Callable] = field(default_factory=list)


def init_app(app: Flask) -> EditionHooks:
    return app.extensions.setdefault(KEY, EditionHooks())


def hooks() -> EditionHooks:
    return current_app.extensions.get(KEY) or EditionHooks()


# ---- the chooser ---------------------------------------------------------------------------------


def all_campaigns() -> list[Campaign]:
    return db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())).all()


def choose_campaign(user: User, campaign_id: int | None) -> Campaign | None:
    """Remember the edition this person works on (none: follow the default edition)."""
    campaign = None
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ID else None
        if campaign is None:
            message = _("Cette campagne n'existe pas.")
            raise ValidationFailed(message, {"campaign_id": message})
    user.campaign_id = campaign.id if campaign else None
    db.session.flush()
    return campaign


# ---- the public archive --------------------------------------------------------------------------


def edition_year(campaign: Campaign) -> int:
    """An edition is known by the year of its event month (its last day)."""
    return campaign.ends_on.year


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def edition_slug(campaign: Campaign) -> str:
    return slug(campaign.name)


def public_editions(today: date | None = None) -> list[Campaign]:
    """The editions the public may browse, newest first: every one that has started, and the default."""
    today = today or utcnow().astimezone(zone("Europe/Paris")).date()
    shown = default_campaign(today, public=True)
    return [c for c in all_campaigns() if c.starts_on <= today or c is shown]


def open_edition(today: date | None = None) -> Campaign | None:
    """The edition organisers propose events to: the one running or the next to come (while 2027 is
    prepared its proposals go to 2027, not to the finished 2008 the public still reads), else the default."""
    today = today or utcnow().astimezone(zone("Europe/Paris")).date()
    coming = select(Campaign).where(Campaign.ends_on >= today).order_by(Campaign.ends_on, Campaign.id).limit(1)
    return db.session.scalar(coming) or default_campaign(today, public=True)


def edition_args(campaign: Campaign, editions: list[Campaign]) -> dict:
    """The query string naming an edition: its year when no other edition has it, else its id."""
    if sum(edition_year(c) == edition_year(campaign) for c in editions) == 1:
        return {"edition": edition_year(campaign)}
    return {"campaign": campaign.id}


def public_edition(args: Mapping) -> Campaign:
    """The edition a public page shows: `?campaign=<id>`, `?edition=<year or name>`, else the default."""
    wanted, edition = args.get("campaign"), (args.get("edition") or "").strip()
    if wanted:
        campaign = db.session.get(Campaign, int(wanted)) if str(wanted).isdigit() and len(str(wanted)) < 10 else None
    elif edition:
        key = slug(edition)
        matches = [c for c in public_editions() if key in (str(edition_year(c)), edition_slug(c))]
        campaign = matches[0] if matches else None
    else:
        campaign = current_campaign(public=True)
    if campaign is None:
        raise NotFound(_("Cette édition n'existe pas."))
    return campaign


def archive(shown: Campaign) -> list[dict]:
    """The other public editions, each with its address arguments, for the pages' archive list."""
    editions = public_editions()
    return [
        {"campaign": c, "year": edition_year(c), "args": edition_args(c, editions)}
        for c in editions
        if c.id != shown.id
    ]


# ---- a new edition from an earlier one -----------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """How the dates of one edition become the next one's."""

    old_month: date
    new_month: date
    weeks: timedelta
    old_ag: date | None = None
    new_ag: date | None = None

    def day(self, day: date, kind: str = "") -> date:
        if day == self.old_month:
            return self.new_month
        if day == month_end(self.old_month):
            return month_end(self.new_month)
        if self.old_ag and self.new_ag and day <= self.old_ag + timedelta(days=1):
            if kind == "partner_deadline" and day == self.old_ag.replace(day=1) - timedelta(days=1):
                return self.new_ag.replace(day=1) - timedelta(days=1)
            return day + (self.new_ag - self.old_ag)
        return day + self.weeks

    def moment(self, value: datetime, tz: str, kind: str = "") -> datetime:
        """The same wall-clock time on the shifted day, in the campaign's zone (summer time aside)."""
        local = value.astimezone(zone(tz))
        return to_utc(datetime.combine(self.day(local.date(), kind), local.time()), tz)


def event_month(campaign: Campaign) -> date:
    return campaign.ends_on.replace(day=1)


def ag_day(campaign: Campaign) -> date | None:
    """The AG: the national internal launch's day, when the edition has one."""
    launch = db.session.scalar(
        select(func.min(Milestone.starts_at)).where(
            Milestone.campaign_id == campaign.id, Milestone.kind == "internal_launch", Milestone.region_id.is_(None)
        )
    )
    return launch.astimezone(zone(campaign.timezone)).date() if launch else None


def plan_shift(source: Campaign, event_month_start: date, ag_date: date | None) -> Shift:
    old_month, old_ag = event_month(source), ag_day(source)
    weeks = timedelta(weeks=round((event_month_start - old_month).days / 7))
    new_ag = ag_date or (old_ag + weeks if old_ag else None)
    return Shift(old_month, event_month_start, weeks, old_ag, new_ag)


def check_request(actor: User | None, name: str, event_month_start: date | None, ag_date: date | None) -> None:
    if actor is not None and actor.role not in LEADS:
        raise PermissionDenied(_("Seule l'équipe nationale crée une nouvelle édition."))
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("obligatoire")
    elif len(name.strip()) > 200:
        errors["name"] = _("200 caractères au plus")
    if event_month_start is None:
        errors["event_month_start"] = _("obligatoire")
    elif event_month_start.day != 1:
        errors["event_month_start"] = _("le premier jour d'un mois")
    elif not PLAUSIBLE_YEARS[0] <= event_month_start.year < PLAUSIBLE_YEARS[1]:
        low, high = PLAUSIBLE_YEARS
        errors["event_month_start"] = _("l'année doit être comprise entre %(low)s et %(high)s", low=low, high=high)
    elif ag_date is not None and not PLAUSIBLE_YEARS[0] <= ag_date.year < PLAUSIBLE_YEARS[1]:
        low, high = PLAUSIBLE_YEARS
        errors["ag_date"] = _("l'année doit être comprise entre %(low)s et %(high)s", low=low, high=high)
    elif ag_date is not None and ag_date >= event_month_start:
        errors["ag_date"] = _("avant le mois d'événements")
    if errors:
        raise ValidationFailed(_("Nouvelle édition invalide : vérifiez les champs signalés."), errors)


def retitle(text: str, old_year: int, new_year: int) -> str:
    return re.sub(rf"\b{old_year}\b", str(new_year), text or "")


def copy_milestones(source: Campaign, target: Campaign, shift: Shift) -> int:
    """Every milestone (of the regions still active), shifted and planned again; dependencies (and any column pointing at another
    milestone, such as an anchor) point into the new edition."""
    olds = db.session.scalars(  # a region no longer active (merged, left) gets nothing in the new edition
        select(Milestone)
        .outerjoin(Region, Region.id == Milestone.region_id)
        .where(Milestone.campaign_id == source.id, or_(Milestone.region_id.is_(None), Region.active))
        .order_by(Milestone.starts_at, Milestone.id)
    ).all()
    links = [
        c.name
        for c in Milestone.__table__.columns
        if any(fk.column.table.name == "milestones" for fk in c.foreign_keys)
    ]
    copied = [c.name for c in Milestone.__table__.columns if c.name not in MILESTONE_FRESH and c.name not in links]
    years = (edition_year(source), shift.new_month.year)
    mapping: dict[int, Milestone] = {}
    for old in olds:
        new = Milestone(campaign_id=target.id, status="planned", **{name: getattr(old, name) for name in copied})
        new.title, new.description = retitle(old.title, *years), retitle(old.description, *years)
        new.starts_at = shift.moment(old.starts_at, source.timezone, old.kind)
        if old.ends_at is not None:
            new.ends_at = max(new.starts_at, shift.moment(old.ends_at, source.timezone))
        db.session.add(new)
        mapping[old.id] = new
    db.session.flush()
    for old in olds:
        new = mapping[old.id]
        new.depends_on = [mapping[d.id] for d in old.depends_on if d.id in mapping]
        for name in links:
            linked = mapping.get(getattr(old, name))
            setattr(new, name, linked.id if linked else None)
    return len(olds)


def copy_vocabulary(source: Campaign, target: Campaign) -> int:
    entries = db.session.scalars(select(EventVocabulary).where(EventVocabulary.campaign_id == source.id)).all()
    for entry in entries:
        db.session.add(
            EventVocabulary(campaign_id=target.id, kind=entry.kind, label=entry.label, position=entry.position)
        )
    return len(entries)


def new_edition(
    actor: User | None, source: Campaign, name: str, event_month_start: date | None, ag_date: date | None = None
) -> tuple[Campaign, dict]:
    """A new campaign from `source`, dated by `event_month_start` (and the AG, when given), with what
    carries over; answers it and what was copied. Flushes, never commits (one transaction)."""
    check_request(actor, name, event_month_start, ag_date)
    shift = plan_shift(source, event_month_start, ag_date)
    target = Campaign(name=name.strip(), **{key: getattr(source, key) for key in CAMPAIGN_COPIED})
    target.starts_on = min(shift.day(source.starts_on), shift.new_ag or event_month_start)
    target.ends_on = shift.day(source.ends_on)
    db.session.add(target)
    db.session.flush()
    forget_current_campaign()
    copied = {"milestones": copy_milestones(source, target, shift), "vocabulary": copy_vocabulary(source, target)}
    for copier in hooks().copiers:
        copied.update(copier(source, target))
    record(
        "new_edition",
        "campaigns",
        str(target.id),
        {"from": source.id, "event_month_start": event_month_start.isoformat(), "copied": copied},
        actor,
    )
    db.session.flush()
    return target, copied


@campaign_cli.command("new-edition")
@click.argument("source_id", type=int)
@click.option("--name", required=True, help="Name of the new edition.")
@click.option(
    "--month", "month", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day of its event month."
)
@click.option("--ag", "ag", type=click.DateTime(["%Y-%m-%d"]), help="Its annual general assembly (optional).")
@with_appcontext
def new_edition_command(source_id: int, name: str, month: datetime, ag: datetime | None) -> None:
    """A new edition from campaign SOURCE_ID: the timeline shifted to MONTH, templates and the rest carried over."""
    source = db.session.get(Campaign, source_id)
    if source is None:
        raise click.ClickException(f"no campaign {source_id}")
    try:
        campaign, copied = new_edition(None, source, name, month.date(), ag.date() if ag else None)
    except ValidationFailed as error:
        db.session.rollback()
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in error.fields.items())) from error
    db.session.commit()
    counts = ", ".join(f"{key} {value}" for key, value in copied.items())
    click.echo(f"campaign {campaign.id}: {campaign.name} ({campaign.starts_on} – {campaign.ends_on}); copied: {counts}")
