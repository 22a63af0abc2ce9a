"""The dashboard of the current campaign."""

import threading
import time

from babel.dates import format_date
from flask import Blueprint, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from accounts.models import Region
from accounts.scoping import readable
from campaign import coverage, readiness, services
from campaign import events as event_services
from campaign.forms import KIND_LABELS, STATUS_LABELS
from campaign.models import Event, Milestone
from contacts.models import Contact
from dashboard import charts
from dbtypes import utcnow
from extensions import db
from mail_outbox import mail_state
from mailings.approval import waiting
from mailings.models import Mailing

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@login_required
def index():
    campaign = services.current_campaign()
    if campaign is None:
        return render_template("dashboard/empty.html")
    query = readable(
        select(Milestone).where(Milestone.campaign_id == campaign.id),
        current_user,
        Milestone.region_id,
    )
    milestones = db.session.scalars(
        query.options(selectinload(Milestone.depends_on), selectinload(Milestone.region))
    ).all()
    now = utcnow()
    assessments = services.assess(campaign, milestones, now)
    progress = {
        "done": sum(m.status == "done" for m in milestones),
        "late": sum(assessments[m.id].late for m in milestones),
        "upcoming": sum(m.status in services.OPEN_STATUSES and m.starts_at >= now for m in milestones),
        "total": sum(m.status != "cancelled" for m in milestones),
    }
    conferences = {m.region_id: m for m in milestones if m.kind == "regional_press_conference"}
    regions = db.session.scalars(
        readable(select(Region).where(Region.active), current_user, Region.id).order_by(Region.name)
    ).all()
    attention = sorted(
        (m for m in milestones if assessments[m.id].late or assessments[m.id].warnings),
        key=lambda m: m.starts_at,
    )
    federation = federation_figures(campaign, regions, milestones, now)
    return render_template(
        "dashboard/index.html",
        campaign=campaign,
        troubled_mailings=troubled_mailings(campaign),
        waiting_mailings=waiting(current_user),  # submitted ones for national, sent back ones for a region
        progress=progress,
        regions=regions,
        conferences=conferences,
        attention=attention,
        assessments=assessments,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
        mail_server=mail_server_panel(),
        **federation,
    )


def mail_server_panel() -> dict:
    """Where mail goes and whether it can: the outbox, or the SMTP server's answer to an EHLO."""
    state, detail = mail_state()
    config = current_app.config
    return {"state": state, "detail": detail, "host": config["MAIL_SERVER"], "port": config["MAIL_PORT"]}


def federation_figures(campaign, regions: list[Region], milestones: list[Milestone], now) -> dict:
    """The regions table and the charts: events, readiness, mailings, contacts, coverage."""
    region_ids = [r.id for r in regions]
    events = event_counts(campaign, region_ids)
    tz = services.zone(campaign.timezone)
    rows = [(r.name, (events.get((r.id, "approved"), 0), events.get((r.id, "proposed"), 0))) for r in regions]
    approved, proposed = _("approuvés"), _("proposés")
    due = [(charts.as_date(m.finishes_at, tz), m.status == "done") for m in milestones if m.status != "cancelled"]
    return {
        "events": events,
        "readiness": readiness.readiness_by_region(campaign, regions, now),
        "mailings_sent": mailings_sent_by_region(campaign, region_ids),
        "contacts": recent("contacts", region_ids, lambda: contacts_by_region(region_ids)),
        "coverage": coverage.coverage_by_region(campaign),
        "media_coverage": coverage.coverage_by_media_type(campaign),
        "region_chart": charts.bar_chart(_("Événements par région"), (approved, proposed), rows),
        "theme_chart": charts.bar_chart(
            _("Événements par thème"),
            (approved, proposed),
            recent("themes", (campaign.id, *region_ids), lambda: theme_rows(campaign, region_ids)),
        ),
        "progress_chart": charts.progress_chart(
            _("Avancement de la campagne"),
            campaign.starts_on,
            campaign.ends_on,
            due,
            now.astimezone(tz).date(),
            (_("jalons prévus (cumul)"), _("jalons faits (cumul)")),
            lambda d: format_date(d, "MMM y", locale=str(get_locale() or "fr")),
        ),
    }


_recent: dict[tuple, tuple[float, object]] = {}
_recent_lock = threading.Lock()


def recent(name: str, key, compute):
    """The figures that grow with the data (contacts per region over every contact, themes over
    every event), computed at most once a minute per process (RELAIS_DASHBOARD_CACHE_SECONDS):
    the page's time then stays flat however large the federation's files get. Plain values only."""
    seconds = current_app.config["DASHBOARD_CACHE_SECONDS"]
    if not seconds:
        return compute()
    full_key = (str(db.engine.url), name, tuple(key) if isinstance(key, list | tuple) else key)
    now = time.monotonic()
    with _recent_lock:
        found = _recent.get(full_key)
    if found and found[0] > now:
        return found[1]
    value = compute()
    with _recent_lock:
        if len(_recent) > 512:
            _recent.clear()
        _recent[full_key] = (now + seconds, value)
    return value


def event_counts(campaign, region_ids: list[int]) -> dict[tuple[int, str], int]:
    query = (
        select(Event.region_id, Event.status, func.count())
        .where(Event.campaign_id == campaign.id, Event.region_id.in_(region_ids))
        .group_by(Event.region_id, Event.status)
    )
    return {(region_id, status): n for region_id, status, n in db.session.execute(query)}


def theme_rows(campaign, region_ids: list[int]) -> list[tuple[str, tuple[int, int]]]:
    """Approved and proposed events per theme, the busiest first (themes are a JSON list)."""
    _types, themes = event_services.vocabulary(campaign)
    counts: dict[str, list[int]] = {t: [0, 0] for t in themes}
    query = select(Event.themes, Event.status).where(
        Event.campaign_id == campaign.id, Event.region_id.in_(region_ids), Event.status.in_(("approved", "proposed"))
    )
    for event_themes, status in db.session.execute(query):
        for theme in event_themes or []:
            counts.setdefault(theme, [0, 0])[0 if status == "approved" else 1] += 1
    used = [(t, tuple(v)) for t, v in counts.items() if sum(v)]
    return sorted(used, key=lambda row: (-sum(row[1]), row[0]))


def contacts_by_region(region_ids: list[int]) -> dict[int, int]:
    query = select(Contact.region_id, func.count()).where(Contact.region_id.in_(region_ids)).group_by(Contact.region_id)
    return dict(db.session.execute(query).all())


def troubled_mailings(campaign) -> list:
    """The campaign's mailings that say something is wrong (server unreachable, paused, missed)."""
    query = select(Mailing).where(
        Mailing.campaign_id == campaign.id,
        Mailing.status.in_(("sending", "paused", "missed")),
        Mailing.status_reason != "",
    )
    return db.session.scalars(readable(query, current_user, Mailing.region_id).order_by(Mailing.id)).all()


def mailings_sent_by_region(campaign, region_ids: list[int]) -> dict[int, int]:
    """Mailings of the campaign that finished sending, per region (0 until mailings are sent)."""
    query = (
        select(Mailing.region_id, func.count())
        .where(Mailing.campaign_id == campaign.id, Mailing.status == "sent", Mailing.region_id.in_(region_ids))
        .group_by(Mailing.region_id)
    )
    return dict(db.session.execute(query).all())
