"""Readiness per region: a checklist derived from the region's milestones, done by what happened.

The steps and their due dates come from the timeline (the regional press conference, the region's
invitation mailing, the national deadline for programmes, the event month). A step is done when
what it asks for happened: the venue entered on the conference, the approved programme, and the
facts the floors above know (invitations and the reminder sent, the press kit, the release, who
came), which they contribute through a registry (`init_app(app).sources`) as mailings' hooks do.
A region may still tick a step by hand (what Relais cannot see: a phone round, printed programmes);
what it changes (done, a new date, a new title, an owner, steps of its own) is kept in
`ReadinessItem` rows, so reading a checklist never writes.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from accounts.models import Region, User
from accounts.scoping import can_write, require_read, require_write
from campaign import services
from campaign.event_forms import ReadinessItemForm
from campaign.federation_models import ReadinessItem
from campaign.models import Campaign, Event, Milestone
from dbtypes import utcnow
from errors import NotFound, ValidationFailed
from extensions import db, found_or_added
from forms import ConfirmForm
from input_rules import has_nul


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    anchor: str  # conference | invitations | programmes | month_start | month_end
    offset_days: int
    follows: bool = False  # done when its milestone is done


RULES = (
    Rule("venue_booked", "Salle de la conférence de presse réservée", "conference", -21),
    Rule("save_the_date", "Save-the-date envoyé aux médias", "conference", -15),
    Rule("invitations_sent", "Invitations presse envoyées", "invitations", 0, follows=True),
    Rule("press_kit_ready", "Dossier de presse régional prêt", "conference", -3),
    Rule("follow_up_calls", "Relances téléphoniques des journalistes", "conference", -2),
    Rule("conference_held", "Conférence de presse tenue", "conference", 0, follows=True),
    Rule("release_sent", "Communiqué de presse régional envoyé", "conference", 0),
    Rule("programme_complete", "Programme régional complet", "programmes", 0),
    Rule("programme_printed", "Programme régional imprimé et diffusé", "month_start", -14),
    Rule("thanks_sent", "Remerciements aux journalistes qui ont publié", "month_end", 7),
)


@dataclass
class Step:
    key: str
    title: str
    due_at: datetime | None
    done: bool
    milestone: Milestone | None = None
    owner_id: int | None = None
    custom: bool = False
    evidence: str = ""  # what shows it happened ("Invitations envoyées le 13 octobre 2008"); "" when ticked

    def late(self, now: datetime) -> bool:
        return not self.done and self.due_at is not None and self.due_at < now


def anchors(region_id: int, milestones: list[Milestone]) -> dict[str, Milestone]:
    """The milestones a region's steps hang on."""
    found: dict[str, Milestone] = {}
    for m in sorted(milestones, key=lambda m: m.starts_at):
        if m.status == "cancelled":
            continue
        if m.region_id == region_id:
            if m.kind == "regional_press_conference":
                found.setdefault("conference", m)
            elif m.kind == "mailing" and "invitation" in m.title.lower():
                found.setdefault("invitations", m)
            elif m.kind == "event_period":
                found.setdefault("month", m)
        elif m.region_id is None and m.kind == "deadline" and "programme" in m.title.lower():
            found.setdefault("programmes", m)
    return found


def derived_due(rule: Rule, found: dict[str, Milestone]) -> tuple[Milestone | None, datetime | None]:
    """The milestone a step follows (if any) and its due date, from the timeline."""
    if rule.anchor in ("month_start", "month_end"):
        m = found.get("month")
        if m is None:
            return None, None
        moment = m.starts_at if rule.anchor == "month_start" else m.finishes_at
        return None, moment + timedelta(days=rule.offset_days)
    m = found.get(rule.anchor)
    if m is None and rule.anchor == "invitations" and "conference" in found:
        return None, found["conference"].starts_at - timedelta(days=10)  # press practice: D-10
    if m is None:
        return None, None
    return m, m.starts_at + timedelta(days=rule.offset_days)


# ---- what happened ------------------------------------------------------------------------------

KEY = "relais.readiness"
# source(campaign, anchors by region id) -> {region id: {step key: evidence}}: the steps that happened
FactSource = Callable[[Campaign, dict[int, dict[str, Milestone]]], dict[int, dict[str, str]]]


@dataclass
class ReadinessFacts:
    sources: list[FactSource] = field(default_factory=list)


def init_app(app: Flask) -> ReadinessFacts:
    """The registry the floors above fill with what they know (mailings sent, press kits, check-ins)."""
    return app.extensions.setdefault(KEY, ReadinessFacts())


def own_facts(campaign: Campaign, found_by_region: dict[int, dict[str, Milestone]]) -> dict[int, dict[str, str]]:
    """What campaign itself sees: the conference's venue, the region's programme moderated."""
    facts: dict[int, dict[str, str]] = {region_id: {} for region_id in found_by_region}
    events = db.session.execute(
        select(Event.region_id, Event.status, func.count())
        .where(Event.campaign_id == campaign.id, Event.region_id.in_(list(found_by_region)))
        .group_by(Event.region_id, Event.status)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for region_id, status, count in events:
        counts.setdefault(region_id, {})[status] = count
    for region_id, found in found_by_region.items():
        conference = found.get("conference")
        if conference is not None and (conference.venue or "").strip():
            place = ", ".join(p for p in (conference.venue, conference.city) if p)
            facts[region_id]["venue_booked"] = _("Lieu : %(place)s", place=place)
        mine = counts.get(region_id, {})
        if mine.get("approved") and not mine.get("proposed"):
            facts[region_id]["programme_complete"] = _(
                "événements validés : %(n)s, aucun en attente", n=mine["approved"]
            )
    return facts


def facts_for(campaign: Campaign, found_by_region: dict[int, dict[str, Milestone]]) -> dict[int, dict[str, str]]:
    """Every fact about these regions, campaign's own first, then the registered sources'."""
    facts = own_facts(campaign, found_by_region)
    registry = current_app.extensions.get(KEY) or ReadinessFacts()
    for source in registry.sources:
        for region_id, found in source(campaign, found_by_region).items():
            for key, evidence in found.items():
                facts.setdefault(region_id, {}).setdefault(key, evidence)
    return facts


def checklist(
    campaign: Campaign,
    region: Region,
    milestones: list[Milestone],
    rows: list[ReadinessItem],
    facts: dict[str, str] | None = None,
) -> list[Step]:
    """The region's steps: the derived ones (where their milestone exists), then its own."""
    found = anchors(region.id, milestones)
    if facts is None:
        facts = facts_for(campaign, {region.id: found}).get(region.id, {})
    by_key = {r.key: r for r in rows if r.region_id == region.id}
    steps = []
    for rule in RULES:
        milestone, due = derived_due(rule, found)
        if due is None:
            continue
        row = by_key.get(rule.key)
        followed = rule.follows and milestone is not None and milestone.status == "done"
        evidence = facts.get(rule.key, "")
        if followed and not evidence:
            evidence = _("« %(title)s » est fait", title=milestone.title)
        steps.append(
            Step(
                rule.key,
                row.title if row else rule.title,
                row.due_at if row and row.due_at else due,
                bool(row and row.done) or bool(evidence),
                milestone,
                row.owner_id if row else None,
                evidence=evidence,
            )
        )
    for row in sorted((r for r in by_key.values() if r.key.startswith("custom-")), key=lambda r: (r.position, r.id)):
        steps.append(Step(row.key, row.title, row.due_at, row.done, None, row.owner_id, custom=True))
    return steps


def campaign_state(campaign: Campaign) -> tuple[list[Milestone], list[ReadinessItem]]:
    milestones = db.session.scalars(select(Milestone).where(Milestone.campaign_id == campaign.id)).all()
    rows = db.session.scalars(select(ReadinessItem).where(ReadinessItem.campaign_id == campaign.id)).all()
    return list(milestones), list(rows)


def readiness_by_region(campaign: Campaign, regions: list[Region], now: datetime) -> dict[int, dict]:
    """For the dashboard: steps done, total and late for each region."""
    milestones, rows = campaign_state(campaign)
    facts = facts_for(campaign, {region.id: anchors(region.id, milestones) for region in regions})
    out = {}
    for region in regions:
        steps = checklist(campaign, region, milestones, rows, facts.get(region.id, {}))
        done = sum(s.done for s in steps)
        out[region.id] = {
            "done": done,
            "total": len(steps),
            "late": sum(s.late(now) for s in steps),
            "percent": round(100 * done / len(steps)) if steps else 0,
        }
    return out


def region_steps(campaign: Campaign, region: Region) -> list[Step]:
    milestones, rows = campaign_state(campaign)
    return checklist(campaign, region, milestones, rows)


def row_for(campaign: Campaign, region: Region, step: Step) -> ReadinessItem:
    query = select(ReadinessItem).where(
        ReadinessItem.campaign_id == campaign.id,
        ReadinessItem.region_id == region.id,
        ReadinessItem.key == step.key,
    )
    new = ReadinessItem(campaign_id=campaign.id, region_id=region.id, key=step.key, title=step.title, done=False)
    return found_or_added(query, new)  # two coordinators ticking the same step at once: one row


def update_step(actor: User, campaign: Campaign, region: Region, key: str, data: dict, now: datetime) -> ReadinessItem:
    """Change one step of a region's checklist (its coordinators or the national team)."""
    require_write(actor, region.id)
    step = next((s for s in region_steps(campaign, region) if s.key == key), None)
    if step is None:
        raise NotFound(_("Cette étape n'existe pas."))
    if has_nul(data.get("title")):
        raise ValidationFailed(_("Étape invalide."), {"title": _("sans caractère NUL")})
    row = row_for(campaign, region, step)
    if "title" in data:
        title = (data["title"] or "").strip()
        if not title or len(title) > 200:
            raise ValidationFailed(_("Étape invalide."), {"title": _("obligatoire, 200 caractères au plus")})
        row.title = title
    if "due_at" in data:
        row.due_at = services.to_utc(data["due_at"], campaign.timezone) if data["due_at"] else None
    if "owner_id" in data:
        if data["owner_id"] and db.session.get(User, data["owner_id"]) is None:
            raise ValidationFailed(_("Étape invalide."), {"owner_id": _("utilisateur inconnu")})
        row.owner_id = data["owner_id"] or None
    if "done" in data and bool(data["done"]) != row.done:
        row.done, row.done_at = bool(data["done"]), now if data["done"] else None
    db.session.flush()
    return row


def add_step(actor: User, campaign: Campaign, region: Region, title: str, due_at: datetime | None) -> ReadinessItem:
    """A step of the region's own."""
    require_write(actor, region.id)
    title = (title or "").strip()
    if not title or len(title) > 200 or has_nul(title):
        raise ValidationFailed(_("Étape invalide."), {"title": _("obligatoire, 200 caractères au plus")})
    row = ReadinessItem(
        campaign_id=campaign.id,
        region_id=region.id,
        key=f"custom-{secrets.token_hex(6)}",
        title=title,
        due_at=services.to_utc(due_at, campaign.timezone) if due_at else None,
        done=False,
        position=len(RULES) + 1,
    )
    db.session.add(row)
    db.session.flush()
    return row


# ---- pages --------------------------------------------------------------------------------------

bp = Blueprint("readiness", __name__)


@bp.before_request
@login_required
def signed_in():
    """The checklists need an account."""


def region_and_campaign(code: str) -> tuple[Region, Campaign]:
    if has_nul(code):
        abort(404)
    region = db.session.scalar(select(Region).where(Region.code == code)) or abort(404)
    require_read(current_user, region.id)
    return region, services.current_campaign() or abort(404)


def owner_choices(form, region: Region) -> None:
    people = db.session.scalars(
        select(User).where(User.active, (User.region_id == region.id) | User.role.in_(("national", "admin")))
    ).all()
    form.owner_id.choices = [SelectChoice(0, _("Coordination de la région"))] + [
        SelectChoice(u.id, u.label) for u in sorted(people, key=lambda u: u.label)
    ]


@bp.route("/regions/<code>/readiness", methods=["GET", "POST"])
def page(code: str):
    region, campaign = region_and_campaign(code)
    form = ReadinessItemForm()
    owner_choices(form, region)
    if request.method == "POST":
        require_write(current_user, region.id)
    if request.method == "POST" and form.validate_on_submit():
        add_step(current_user, campaign, region, form.title.data, form.due_at.data)
        db.session.commit()
        flash(_("Étape ajoutée."), "success")
        return redirect(url_for("readiness.page", code=code))
    steps = region_steps(campaign, region)
    people = {u.id: u for u in db.session.scalars(select(User))}
    return render_template(
        "events/readiness.html",
        region=region,
        campaign=campaign,
        steps=steps,
        now=utcnow(),
        form=form,
        confirm=ConfirmForm(),
        people=people,
        writable=can_write(current_user, region.id),
    )


def step_or_404(campaign: Campaign, region: Region, key: str) -> Step:
    return next((s for s in region_steps(campaign, region) if s.key == key), None) or abort(404)


@bp.route("/regions/<code>/readiness/<key>/toggle", methods=["POST"])
def toggle(code: str, key: str):
    region, campaign = region_and_campaign(code)
    step = step_or_404(campaign, region, key)
    require_write(current_user, region.id)
    if ConfirmForm().validate_on_submit():
        update_step(current_user, campaign, region, key, {"done": not step.done}, utcnow())
        db.session.commit()
    return redirect(url_for("readiness.page", code=code, _anchor=f"step-{key}"))


@bp.route("/regions/<code>/readiness/<key>/edit", methods=["GET", "POST"])
def edit(code: str, key: str):
    region, campaign = region_and_campaign(code)
    step = step_or_404(campaign, region, key)
    require_write(current_user, region.id)
    form = ReadinessItemForm()
    owner_choices(form, region)
    if request.method == "GET":
        tz = services.zone(campaign.timezone)
        form.title.data, form.done.data, form.owner_id.data = step.title, step.done, step.owner_id or 0
        form.due_at.data = step.due_at.astimezone(tz).replace(tzinfo=None) if step.due_at else None
    if form.validate_on_submit():
        data = {
            "title": form.title.data,
            "due_at": form.due_at.data,
            "owner_id": form.owner_id.data,
            "done": form.done.data,
        }
        update_step(current_user, campaign, region, key, data, utcnow())
        db.session.commit()
        flash(_("Étape enregistrée."), "success")
        return redirect(url_for("readiness.page", code=code))
    return render_template("events/readiness_edit.html", region=region, campaign=campaign, step=step, form=form)
