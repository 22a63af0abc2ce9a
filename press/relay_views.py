"""Relay kit pages (signed in: write, send, see who relayed what) and the partner's public report page."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from campaign.services import current_campaign, zone
from errors import DomainError, NotFound
from extensions import db
from forms import attach_errors
from press import relay
from press.forms import FileForm, RelayKitForm, RelayReportForm, SendForm
from press.newsroom import files_of

bp = Blueprint("relay", __name__, url_prefix="/press/relay")
public = Blueprint("relay_public", __name__)


@bp.before_request
@login_required
def signed_in():
    """Kits are written by signed-in teams; partners report through their signed link."""


@bp.route("/", methods=["GET", "POST"])
def index():
    campaign = current_campaign() or abort(404)
    form = RelayKitForm()
    if form.validate_on_submit():
        try:
            kit = relay.save_kit(current_user, None, {f: form[f].data for f in ("title", "texts", "links")}, campaign)
            db.session.commit()
            return redirect(url_for("relay.kit", kit_id=kit.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    kits = relay.kits(current_user, campaign)
    return render_template(
        "relay/index.html",
        campaign=campaign,
        kits=[(k, relay.reports(k)) for k in kits],
        form=form,
        tz=zone(campaign.timezone),
    )


@bp.route("/<int:kit_id>", methods=["GET", "POST"])
def kit(kit_id: int):
    item = relay.get_kit(current_user, kit_id)
    form = RelayKitForm(obj=item)
    if form.validate_on_submit():
        try:
            relay.save_kit(current_user, item, {f: form[f].data for f in ("title", "texts", "links")})
            db.session.commit()
            flash(_("Kit enregistré."), "success")
            return redirect(url_for("relay.kit", kit_id=item.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    return render_template(
        "relay/kit.html",
        kit=item,
        form=form,
        send_form=SendForm(),
        file_form=FileForm(),
        files=files_of(relay_kit_id=item.id),
        reports=relay.reports(item),
        partners=len(relay.partner_ids(item)),
        tz=zone(item.campaign.timezone),
    )


@bp.post("/<int:kit_id>/send")
def send(kit_id: int):
    item = relay.get_kit(current_user, kit_id)
    form = SendForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        mailing = relay.send_kit(
            current_user, item, {"from_name": form.from_name.data, "from_email": form.from_email.data}
        )
        db.session.commit()
        flash(_("Kit envoyé à %(n)s partenaires et réseaux.", n=len(mailing.audience["contact_ids"])), "success")
    except DomainError as error:
        db.session.rollback()
        flash(_("Rien n'a été envoyé : %(reason)s", reason=error.message), "error")
    return redirect(url_for("relay.kit", kit_id=item.id))


@public.route("/relay/<token>", methods=["GET", "POST"])
def report(token: str):
    link = relay.read_link(token)
    if link is None:
        return render_template("relay/report.html", link=None), 404
    form = RelayReportForm()
    if form.validate_on_submit():
        try:
            relay.report(token, {f: form[f].data for f in ("channel", "relayed_on", "url")})
            db.session.commit()
            return render_template("relay/report.html", link=link, form=None, done=True)
        except NotFound:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    status = 422 if request.method == "POST" else 200
    return render_template("relay/report.html", link=link, form=form, done=False), status
