"""The charter's settings page (national team) and the logo served from the app (public)."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import undefer

from campaign import brand, services
from campaign.forms import BrandForm
from campaign.models import Campaign
from errors import DomainError, PermissionDenied
from extensions import db
from forms import attach_errors

bp = Blueprint("brand_admin", __name__)
public = Blueprint("brand", __name__)


@bp.before_request
@login_required
def signed_in():
    """Only signed-in people see the settings page."""


@bp.route("/campaigns/<int:campaign_id>/brand", methods=["GET", "POST"])
def settings(campaign_id: int):
    campaign = services.get_campaign(campaign_id)
    if current_user.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale modifie la charte."))
    form = BrandForm(obj=campaign)
    if request.method == "GET":
        form.footer.data = campaign.brand_footer
    status = 200
    if form.validate_on_submit():
        upload = form.logo.data
        logo = upload.read(brand.LOGO_MAX_BYTES + 1) if upload and upload.filename else None
        data = {"primary_color": form.primary_color.data, "accent_color": form.accent_color.data}
        data["footer"] = form.footer.data or ""
        try:
            brand.save_brand(current_user, campaign, data, logo=logo, drop_logo=form.remove_logo.data)
        except PermissionDenied:
            raise
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
            status = 422
        else:
            db.session.commit()
            flash(
                _("Charte enregistrée : elle s'applique aux envois, à la salle de presse et aux imprimés."), "success"
            )
            return redirect(url_for("brand_admin.settings", campaign_id=campaign.id))
    elif request.method == "POST":
        status = 422
    return render_template(
        "campaign/brand.html", campaign=campaign, form=form, current=brand.brand_of(campaign)
    ), status


@public.route("/brand/<int:campaign_id>/logo")
def logo(campaign_id: int):
    """The common logo; its address carries its hash, so it can be cached for long."""
    query = select(Campaign).where(Campaign.id == campaign_id).options(undefer(Campaign.logo_data))
    campaign = db.session.scalar(query)
    if campaign is None or not campaign.logo_data:
        abort(404)
    response = Response(campaign.logo_data, mimetype=campaign.logo_type)
    response.set_etag(campaign.logo_hash)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response.make_conditional(request)
