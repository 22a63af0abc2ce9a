"""Press coverage: clippings (outlet, title, date, URL, region, milestone, reach estimate), their
pages, and the counts the dashboard shows by region and by media type."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from accounts.models import Region, User
from accounts.scoping import can_write, get_readable, readable, require_read, require_write, writable_region_ids
from campaign import services
from campaign.event_forms import MEDIA_TYPES, ClippingForm
from campaign.federation_models import PressClipping
from campaign.models import Campaign, Milestone
from errors import DomainError, ValidationFailed
from extensions import db
from forms import ConfirmForm, attach_errors
from input_rules import has_nul

FIELDS = ("outlet", "media_type", "title", "published_on", "url", "reach", "notes", "milestone_id")


def save_clipping(actor: User, campaign: Campaign, clipping: PressClipping | None, data: dict) -> PressClipping:
    """Record or change a clipping; a coordinator records its own region's."""
    if clipping is not None:
        require_write(actor, clipping.region_id)
    bad = [key for key, value in data.items() if has_nul(value)]
    if bad:
        raise ValidationFailed(_("Caractère NUL refusé."), {key: _("sans caractère NUL") for key in bad})
    clipping = clipping or PressClipping(campaign_id=campaign.id)
    with db.session.no_autoflush:
        if "region" in data:
            region = services.region_by_code(data["region"])
            clipping.region_id = region.id if region else None
        for key in FIELDS:
            if key in data:
                value = data[key].strip() if isinstance(data[key], str) else data[key]
                setattr(clipping, key, value if value != "" or key not in ("milestone_id", "reach") else None)
        errors = {}
        if not clipping.outlet:
            errors["outlet"] = "required"
        if not clipping.title:
            errors["title"] = "required"
        if clipping.published_on is None:
            errors["published_on"] = "required"
        if clipping.media_type and clipping.media_type not in MEDIA_TYPES:
            errors["media_type"] = _("l'un de : %(values)s", values=", ".join(MEDIA_TYPES))
        if clipping.reach is not None and clipping.reach < 0:
            errors["reach"] = _("pas négatif")
        if clipping.milestone_id:
            milestone = db.session.get(Milestone, clipping.milestone_id)
            if milestone is None or milestone.campaign_id != campaign.id:
                errors["milestone_id"] = _("jalon inconnu dans cette campagne")
        else:
            clipping.milestone_id = None
    if errors:
        raise ValidationFailed(_("Retombée invalide : vérifiez les champs signalés."), errors)
    require_write(actor, clipping.region_id)
    db.session.add(clipping)
    db.session.flush()
    return clipping


def get_clipping(actor: User, clipping_id: int) -> PressClipping:
    return get_readable(actor, PressClipping, clipping_id, _("Cette retombée n'existe pas."))


def delete_clipping(actor: User, clipping: PressClipping) -> None:
    require_write(actor, clipping.region_id)
    db.session.delete(clipping)
    db.session.flush()


def clippings_query(actor: User, campaign: Campaign, region: Region | None = None):
    query = readable(
        select(PressClipping).where(PressClipping.campaign_id == campaign.id), actor, PressClipping.region_id
    )
    if region is not None:
        query = query.where(PressClipping.region_id == region.id)
    return query.order_by(PressClipping.published_on.desc(), PressClipping.id.desc())


def coverage_by_region(campaign: Campaign) -> dict[int | None, dict]:
    """Clippings and estimated reach per region (None: national)."""
    rows = db.session.execute(
        select(PressClipping.region_id, func.count(), func.coalesce(func.sum(PressClipping.reach), 0))
        .where(PressClipping.campaign_id == campaign.id)
        .group_by(PressClipping.region_id)
    ).all()
    return {region_id: {"count": count, "reach": int(reach)} for region_id, count, reach in rows}


def coverage_by_media_type(campaign: Campaign) -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(PressClipping.media_type, func.count())
        .where(PressClipping.campaign_id == campaign.id)
        .group_by(PressClipping.media_type)
    ).all()
    return sorted(((str(MEDIA_TYPES.get(t, t or "—")), n) for t, n in rows), key=lambda x: -x[1])


# ---- pages --------------------------------------------------------------------------------------

bp = Blueprint("coverage", __name__)


@bp.before_request
@login_required
def signed_in():
    """Coverage pages need an account."""


def the_campaign() -> Campaign:
    return services.current_campaign() or abort(404)


@bp.route("/coverage")
def index():
    campaign = the_campaign()
    region = None
    if has_nul(request.args.get("region")):
        abort(400)
    if request.args.get("region"):
        region = db.session.scalar(select(Region).where(Region.code == request.args["region"])) or abort(404)
        require_read(current_user, region.id)
    items = db.session.scalars(
        clippings_query(current_user, campaign, region).options(
            selectinload(PressClipping.region), selectinload(PressClipping.milestone)
        )
    ).all()
    return render_template(
        "events/coverage.html",
        campaign=campaign,
        region=region,
        clippings=items,
        total_reach=sum(c.reach or 0 for c in items),
        media_types=MEDIA_TYPES,
        can_write=lambda c: can_write(current_user, c.region_id),
        confirm=ConfirmForm(),
    )


def clipping_form(campaign: Campaign, clipping: PressClipping | None) -> ClippingForm:
    form = ClippingForm(obj=clipping)
    regions = db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()
    allowed = writable_region_ids(current_user, [r.id for r in regions])
    form.region.choices = ([SelectChoice("", _("National"))] if can_write(current_user, None) else []) + [
        SelectChoice(r.code, r.name) for r in regions if r.id in allowed
    ]
    milestones = db.session.scalars(
        readable(select(Milestone).where(Milestone.campaign_id == campaign.id), current_user, Milestone.region_id)
        .where(
            Milestone.kind.in_(("national_press_conference", "regional_press_conference", "press_release", "mailing"))
        )
        .order_by(Milestone.starts_at)
    ).all()
    form.milestone_id.choices = [SelectChoice(0, "—")] + [SelectChoice(m.id, m.title) for m in milestones]
    if request.method == "GET":
        if clipping is not None:
            form.region.data = clipping.region.code if clipping.region else ""
            form.milestone_id.data = clipping.milestone_id or 0
        else:
            form.region.data = request.args.get("region") or (current_user.region.code if current_user.region else "")
    return form


def save_from_form(campaign: Campaign, clipping: PressClipping | None):
    form = clipping_form(campaign, clipping)
    if form.validate_on_submit():
        data = {key: form[key].data for key in FIELDS if key in form}
        data["region"] = form.region.data or None
        data["milestone_id"] = form.milestone_id.data or None
        data["media_type"] = form.media_type.data or ""
        try:
            saved = save_clipping(current_user, campaign, clipping, data)
        except ValidationFailed as error:
            db.session.rollback()
            attach_errors(form, error)
        except DomainError:
            db.session.rollback()
            raise
        else:
            db.session.commit()
            flash(_("Retombée enregistrée."), "success")
            return redirect(url_for("coverage.index", region=saved.region.code if saved.region else None))
    return render_template("events/coverage_form.html", form=form, campaign=campaign, clipping=clipping)


@bp.route("/coverage/new", methods=["GET", "POST"])
def new():
    if current_user.role == "viewer":
        abort(403)
    return save_from_form(the_campaign(), None)


@bp.route("/coverage/<int:clipping_id>/edit", methods=["GET", "POST"])
def edit(clipping_id: int):
    clipping = get_clipping(current_user, clipping_id)
    require_write(current_user, clipping.region_id)
    return save_from_form(clipping.campaign, clipping)


@bp.route("/coverage/<int:clipping_id>/delete", methods=["POST"])
def delete(clipping_id: int):
    clipping = get_clipping(current_user, clipping_id)
    require_write(current_user, clipping.region_id)
    if ConfirmForm().validate_on_submit():
        delete_clipping(current_user, clipping)
        db.session.commit()
        flash(_("Retombée supprimée."), "success")
    return redirect(url_for("coverage.index"))
