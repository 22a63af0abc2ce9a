"""Campaign pages: the timeline, milestone forms, the playbook, region pages, calendar feeds."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from accounts.models import Region, User
from accounts.scoping import can_write, require_read
from campaign import anchors, calendar, editions, playbook, services
from campaign.forms import (
    KIND_LABELS,
    STATUS_LABELS,
    ChooseCampaignForm,
    MilestoneForm,
    NewEditionForm,
    PlaybookForm,
)
from campaign.models import Campaign, Milestone, new_calendar_token
from campaign.timeline import layout
from dbtypes import utcnow
from errors import DomainError, PermissionDenied
from extensions import db
from forms import ConfirmForm, attach_errors
from public_links import public_host

bp = Blueprint("campaign", __name__)
public = Blueprint("calendar", __name__)


bp.teardown_app_request(services.forget_current_campaign)


@bp.app_context_processor
def calendar_links() -> dict:
    return {"calendar_feed_url": calendar.feed_url, "edition_switcher": edition_switcher}


def edition_switcher() -> ChooseCampaignForm:
    """The top navigation's chooser: every edition, the one this person works on selected."""
    form = ChooseCampaignForm(formdata=None, prefix="switch")
    current = services.current_campaign()
    form.campaign_id.choices = [SelectChoice(str(c.id), c.name) for c in editions.all_campaigns()]
    form.campaign_id.data = str(current.id) if current else ""
    form.next.data = request.full_path.rstrip("?")
    return form


@bp.before_request
@login_required
def signed_in():
    """Every campaign page needs an account."""


def all_regions() -> list[Region]:
    return db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()


def campaign_milestones(campaign: Campaign) -> list[Milestone]:
    query = services.timeline_milestones(current_user, campaign).options(
        selectinload(Milestone.depends_on),
        selectinload(Milestone.region),
        selectinload(Milestone.owner),
        selectinload(Milestone.anchor),
    )
    return db.session.scalars(query).all()


@bp.route("/campaigns")
def campaigns():
    items = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc())).all()
    return render_template("campaign/list.html", campaigns=items, current=services.current_campaign())


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    if current_user.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale crée des campagnes."))
    form = PlaybookForm()
    regions = all_regions()
    form.regions.choices = [SelectChoice(r.code, r.name) for r in regions]
    if request.method == "GET":
        form.regions.data = [r.code for r in regions]
    if form.validate_on_submit():
        chosen = [r for r in regions if r.code in form.regions.data]
        campaign = playbook.build(
            current_user,
            form.name.data,
            form.ag_date.data,
            form.event_month_start.data,
            chosen,
        )
        db.session.commit()
        flash(_("Calendrier créé : ajustez les dates à votre campagne."), "success")
        return redirect(url_for("campaign.timeline", campaign_id=campaign.id))
    return render_template("campaign/new.html", form=form)


@bp.post("/campaigns/choose")
def choose():
    """Work on another edition: dashboard, press, events, coverage follow it, at the next sign-in too."""
    form = ChooseCampaignForm(prefix="switch")
    if form.validate_on_submit():
        value = form.campaign_id.data or ""
        try:
            chosen = editions.choose_campaign(current_user, int(value) if value.isdigit() else None)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            current = chosen or services.current_campaign()
            if current is not None:
                flash(_("Vous travaillez sur « %(name)s ».", name=current.name), "success")
    target = form.next.data or ""
    safe = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return redirect(target if safe else url_for("dashboard.index"))


def edition_defaults(form: NewEditionForm, source: Campaign) -> None:
    """Next year by default: the same month, the name with its year moved on."""
    month = editions.event_month(source)
    form.event_month_start.data = month.replace(year=month.year + 1)
    form.name.data = editions.retitle(source.name, month.year, month.year + 1)
    if form.name.data == source.name:
        form.name.data = f"{source.name} ({month.year + 1})"


@bp.route("/campaigns/<int:campaign_id>/new-edition", methods=["GET", "POST"])
def new_edition(campaign_id: int):
    source = services.get_campaign(campaign_id)
    if current_user.role not in editions.LEADS:
        raise PermissionDenied(_("Seule l'équipe nationale crée une nouvelle édition."))
    form = NewEditionForm()
    if request.method == "GET":
        edition_defaults(form, source)
    if form.validate_on_submit():
        data = (form.name.data, form.event_month_start.data, form.ag_date.data)
        try:
            campaign, copied = editions.new_edition(current_user, source, *data)
            editions.choose_campaign(current_user, campaign.id)
        except PermissionDenied:
            raise
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Nouvelle édition créée : %(count)s jalons recalés, vous travaillez maintenant sur elle.",
                    count=copied["milestones"],
                ),
                "success",
            )
            return redirect(url_for("campaign.timeline", campaign_id=campaign.id))
    return render_template("campaign/new_edition.html", form=form, source=source)


@bp.route("/campaigns/<int:campaign_id>")
def timeline(campaign_id: int):
    campaign = services.get_campaign(campaign_id)
    region_code, kind = (
        request.args.get("region") or None,
        request.args.get("kind") or None,
    )
    milestones = campaign_milestones(campaign)
    assessments = services.assess(campaign, milestones, utcnow())
    shown = [
        m
        for m in milestones
        if (not kind or m.kind == kind)
        and (not region_code or (m.region.code if m.region else "national") == region_code)
    ]
    lanes = [r for r in all_regions() if current_user.role != "regional" or r.id == current_user.region_id]
    lanes = [r for r in lanes if not region_code or r.code == region_code]
    view = layout(
        campaign,
        shown,
        assessments,
        lanes,
        utcnow(),
        include_national=region_code in (None, "national"),
    )
    return render_template(
        "campaign/timeline.html",
        campaign=campaign,
        view=view,
        milestones=shown,
        assessments=assessments,
        regions=all_regions(),
        region_code=region_code,
        kind=kind,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
        can_write=lambda m: can_write(current_user, m.region_id),
        confirm=ConfirmForm(),
        edition_form=edition_form(campaign),
    )


def edition_form(source: Campaign) -> NewEditionForm | None:
    """The "new edition from this one" form, for those who may use it."""
    if current_user.role not in editions.LEADS:
        return None
    form = NewEditionForm(formdata=None)
    edition_defaults(form, source)
    return form


def milestone_form(campaign: Campaign, milestone: Milestone | None) -> MilestoneForm:
    form = MilestoneForm(obj=milestone)
    regions = all_regions()
    writable = [r for r in regions if can_write(current_user, r.id)]
    form.region.choices = ([SelectChoice("", _("National"))] if can_write(current_user, None) else []) + [
        SelectChoice(r.code, r.name) for r in writable
    ]
    people = db.session.scalars(select(User).where(User.active).order_by(User.email)).all()
    form.owner_id.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, u.label) for u in people]
    others = db.session.scalars(services.timeline_milestones(current_user, campaign)).all()  # what it may read
    form.depends_on.choices = [SelectChoice(m.id, m.title) for m in others if milestone is None or m.id != milestone.id]
    form.anchor_id.choices = [SelectChoice(0, _("— (date libre)"))] + form.depends_on.choices
    if form.anchor_id.data is None:  # a milestone without anchor, or a post without the field: none
        form.anchor_id.data = 0
    if request.method == "GET":
        tz = services.zone(campaign.timezone)
        if milestone is not None:
            form.region.data = milestone.region.code if milestone.region else ""
            form.starts_at.data = milestone.starts_at.astimezone(tz).replace(tzinfo=None)
            form.ends_at.data = milestone.ends_at.astimezone(tz).replace(tzinfo=None) if milestone.ends_at else None
            form.depends_on.data = [m.id for m in milestone.depends_on]
            form.owner_id.data = milestone.owner_id or 0
            form.anchor_id.data = milestone.anchor_id or 0
        else:
            form.region.data = request.args.get("region", "")
    return form


def form_data(form: MilestoneForm) -> dict:
    return {
        "title": form.title.data,
        "kind": form.kind.data,
        "region": form.region.data or None,
        "starts_at": form.starts_at.data,
        "ends_at": form.ends_at.data,
        "status": form.status.data,
        "owner_id": form.owner_id.data or None,
        "depends_on": form.depends_on.data,
        "venue": form.venue.data,
        "city": form.city.data,
        "description": form.description.data,
        "anchor_id": form.anchor_id.data or None,
        "offset_days": form.offset_days.data,
        "allow_weekend": form.allow_weekend.data,
    }


def save_from_form(campaign: Campaign, milestone: Milestone | None):
    """Save the form; when the start moved and other dates hang on it, first show what would move with
    it (nothing is saved), then apply the person's choice: everything in one change, or this one only."""
    form = milestone_form(campaign, milestone)
    proposal = None
    if form.validate_on_submit():
        choice = request.form.get("move_dependents")  # "yes", "no", or absent: not asked yet
        if choice and request.form.get("proposed_for") != form.starts_at.data.isoformat():
            choice = None  # the date changed since the list was shown: show the new list
        try:
            saved, moved = anchors.save(current_user, campaign, milestone, form_data(form), choice == "yes")
        except PermissionDenied:
            raise
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            if moved is not None and choice is None:
                proposal = moved.out(campaign.timezone)
                db.session.rollback()  # nothing changes before the person chooses
            else:
                db.session.commit()
                flash_saved(moved)
                return redirect(url_for("campaign.timeline", campaign_id=campaign.id, _anchor=f"m{saved.id}"))
    return render_template(
        "campaign/milestone_form.html",
        form=form,
        campaign=campaign,
        milestone=milestone,
        proposal=proposal,
        hanging=anchors.hanging_on(current_user, milestone) if milestone is not None else [],
    )


def flash_saved(moved: anchors.Proposal | None) -> None:
    if moved is None:
        flash(_("Jalon enregistré."), "success")
        return
    if not moved.applied:
        flash(_("Jalon enregistré ; ce qui en dépend reste à sa place."), "success")
        return
    flash(
        _(
            "Jalon enregistré, avec %(milestones)s jalon(s) et %(mailings)s envoi(s) qui en dépendent.",
            milestones=len(moved.movable),
            mailings=len([item for item in moved.linked if not item.blocked]),
        ),
        "success",
    )
    for item in [*moved.moves, *moved.linked]:
        if item.blocked:
            title = item.milestone.title if isinstance(item, anchors.Move) else item.title
            flash(_("Non déplacé : « %(title)s » (%(why)s).", title=title, why=item.blocked), "warning")


@bp.route("/campaigns/<int:campaign_id>/milestones/new", methods=["GET", "POST"])
def new_milestone(campaign_id: int):
    campaign = services.get_campaign(campaign_id)
    if current_user.role == "viewer":
        raise PermissionDenied(_("Compte en lecture seule."))
    return save_from_form(campaign, None)


@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
def edit_milestone(milestone_id: int):
    milestone = services.get_milestone(current_user, milestone_id)
    if not can_write(current_user, milestone.region_id):
        raise PermissionDenied(_("Vous ne pouvez modifier que les jalons de votre région."))
    return save_from_form(milestone.campaign, milestone)


@bp.route("/milestones/<int:milestone_id>/done", methods=["POST"])
def mark_done(milestone_id: int):
    milestone = services.get_milestone(current_user, milestone_id)
    if ConfirmForm().validate_on_submit():
        services.save_milestone(current_user, milestone.campaign, milestone, {"status": "done"})
        db.session.commit()
        flash(_("« %(title)s » est fait.", title=milestone.title), "success")
    return redirect(
        url_for(
            "campaign.timeline",
            campaign_id=milestone.campaign_id,
            _anchor=f"m{milestone.id}",
        )
    )


@bp.route("/milestones/<int:milestone_id>/delete", methods=["POST"])
def delete_milestone(milestone_id: int):
    milestone = services.get_milestone(current_user, milestone_id)
    campaign_id = milestone.campaign_id
    if ConfirmForm().validate_on_submit():
        services.delete_milestone(current_user, milestone)
        db.session.commit()
        flash(_("Jalon supprimé."), "success")
    return redirect(url_for("campaign.timeline", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/calendar/revoke", methods=["POST"])
def revoke_calendar(campaign_id: int):
    campaign = services.get_campaign(campaign_id)
    if current_user.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale gère les flux d'agenda."))
    if ConfirmForm().validate_on_submit():
        campaign.calendar_token = new_calendar_token()
        db.session.commit()
        flash(_("Ancienne adresse d'agenda révoquée ; voici la nouvelle."), "success")
    return redirect(url_for("campaign.timeline", campaign_id=campaign.id))


@bp.route("/regions/<code>")
def region(code: str):
    region = db.session.scalar(select(Region).where(Region.code == code)) or abort(404)
    require_read(current_user, region.id)
    campaign = services.current_campaign()  # the edition this person works on, not every edition's
    everything = campaign_milestones(campaign) if campaign else []
    milestones = [m for m in everything if m.region_id == region.id]
    assessments = services.assess(campaign, everything, utcnow()) if campaign else {}
    coordinators = db.session.scalars(select(User).where(User.region_id == region.id)).all()
    return render_template(
        "campaign/region.html",
        region=region,
        campaign=campaign,
        milestones=milestones,
        assessments=assessments,
        coordinators=coordinators,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
    )


@public.route("/calendar/<token>.ics")
def feed(token: str):
    campaign = db.session.scalar(select(Campaign).where(Campaign.calendar_token == token))
    code = request.args.get("region")
    if campaign is None:  # a regional reader's feed: its region, whatever the query string says
        campaign, code = calendar.read_region_token(token) or abort(404)
    query = select(Milestone).where(Milestone.campaign_id == campaign.id).order_by(Milestone.starts_at)
    title = campaign.name
    if code:
        region = db.session.scalar(select(Region).where(Region.code == code)) or abort(404)
        query = query.where((Milestone.region_id == region.id) | Milestone.region_id.is_(None))
        title = f"{campaign.name} — {region.name}"
    body = calendar.timeline_calendar(campaign, db.session.scalars(query).all(), public_host(), title)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": "inline; filename=relais.ics"},
    )
