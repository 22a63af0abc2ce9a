"""The dashboard of the current campaign."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.scoping import readable
from campaign import services
from campaign.forms import KIND_LABELS, STATUS_LABELS
from campaign.models import Milestone, Region
from dbtypes import utcnow
from extensions import db

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
    return render_template(
        "dashboard/index.html",
        campaign=campaign,
        progress=progress,
        regions=regions,
        conferences=conferences,
        attention=attention,
        assessments=assessments,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
    )
