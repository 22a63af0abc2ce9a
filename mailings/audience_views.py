"""Mailing pages about the audience and the sender: edit a draft, the contact picker's search, the
recipient list before sending, the send-now confirmation, and the sender identities (on the
mailings blueprint, like the other mailing pages)."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Region
from accounts.scoping import can_read, can_write, require_write
from campaign.services import region_by_code
from errors import DomainError
from extensions import db
from forms import ConfirmForm
from mailings import services, states
from mailings.audience import EXCLUSIONS, recipient_rows
from mailings.audience import summary as audience_summary
from mailings.forms import MailingForm, SenderIdentityForm
from mailings.identities import SenderIdentity, add_identity, all_identities, remove_identity
from mailings.mailing_form import fill_from, form_context, mailing_choices, mailing_data, place_errors, search
from mailings.senders import allowed_by_config
from mailings.views import bp

RECIPIENTS_PAGE = 50

REASONS = {
    "opted_out": _l("désinscrit"),
    "bounced": _l("adresse en échec"),
    "stopped_stream": _l("a choisi de ne plus recevoir ces envois"),
    "erased": _l("effacé (RGPD)"),
    "pressure": _l("pression sur le contact (écarté)"),
    "other_region": _l("d'une autre région"),
    "no_address": _l("sans adresse"),
}


@bp.app_template_global()
def mailing_recipients(mailing, page: int = 1, excluded: bool | None = None) -> dict:
    """The recipient list a page shows before sending (who receives it, who is left out and why)."""
    found = recipient_rows(current_user, mailing, max(page, 1), RECIPIENTS_PAGE, excluded)
    found["pages"] = max(1, -(-found["total"] // RECIPIENTS_PAGE))
    found["reasons"] = {code: str(REASONS[code]) for code in EXCLUSIONS}
    found["summary"] = audience_summary(mailing.audience or {})
    return found


@bp.app_template_global()
def can_edit_mailing(mailing) -> bool:
    """A draft (or a mailing sent back) that this person may write: the page offers "Modifier"."""
    return states.can_edit(mailing.status) and can_write(current_user, mailing.region_id)


@bp.route("/mailings/contacts.json")
def contact_search():
    """The contact picker's search-as-you-type: contacts the user reads, within the mailing's reach."""
    region_id = current_user.region_id if current_user.role == "regional" else None
    code = request.args.get("region") or ""
    if code and region_id is None:
        try:
            region = region_by_code(code)
        except DomainError:
            region = None
        region_id = region.id if region else None
    return jsonify({"items": search(current_user, request.args.get("q", ""), region_id)})


@bp.route("/mailings/<int:mailing_id>/edit", methods=["GET", "POST"])
def mailing_edit(mailing_id: int):
    """A draft (a mailing sent back included) is edited here; anything further along is not."""
    mailing = services.get_mailing(current_user, mailing_id)
    if not can_write(current_user, mailing.region_id):
        abort(403)
    if not states.can_edit(mailing.status):
        flash(_("Un envoi « %(status)s » ne se modifie plus.", status=states.LABELS[mailing.status]), "error")
        return redirect(url_for("mailings.mailing_page", mailing_id=mailing.id))
    form = MailingForm(obj=mailing)
    offered = mailing_choices(form, current_user, mailing.campaign, mailing.region_id)
    if request.method == "GET":
        fill_from(form, mailing, offered)
    audience_errors: list[str] = []
    if not request.form.get("search_contacts") and form.validate_on_submit():
        try:
            services.save_mailing(current_user, mailing, mailing_data(form, mailing.campaign, offered))
            db.session.commit()
            flash(_("Envoi enregistré."), "success")
            return redirect(url_for("mailings.mailing_page", mailing_id=mailing.id, _anchor="recipients"))
        except DomainError as error:
            db.session.rollback()
            audience_errors = place_errors(form, error, offered)
    return render_template(
        "mailings/edit.html",
        mailing=mailing,
        form=form,
        offered=offered,
        audience_errors=audience_errors,
        region_code=mailing.region.code if mailing.region else "",
        **form_context(current_user, mailing.region_id, mailing.audience),
    )


@bp.route("/mailings/<int:mailing_id>/send-now")
def mailing_send_now_confirm(mailing_id: int):
    """ "Envoyer maintenant" asks first, with the number of people it goes to (works without JavaScript)."""
    mailing = services.get_mailing(current_user, mailing_id)
    if not (can_write(current_user, mailing.region_id) and states.can("send_now", mailing.status)):
        flash(_("Action impossible."), "error")
        return redirect(url_for("mailings.mailing_page", mailing_id=mailing.id))
    return render_template(
        "mailings/send_now.html", mailing=mailing, found=mailing_recipients(mailing, 1, True), confirm=ConfirmForm()
    )


# ---- sender identities ------------------------------------------------------------------------


def identity_regions() -> list:
    """Where the user may add an identity: national (national leads, admins) and the regions it writes."""
    regions = db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()
    national = [("", _("Équipe nationale"))] if can_write(current_user, None) else []
    return national + [(r.code, r.name) for r in regions if can_write(current_user, r.id)]


@bp.route("/mailings/senders", methods=["GET", "POST"])
def sender_identities():
    """The identities each region and the national team send as, configured once."""
    form = SenderIdentityForm()
    form.region.choices = identity_regions()
    if current_user.role == "regional" and request.method == "GET":
        form.region.data = current_user.region.code if current_user.region else ""
    if form.validate_on_submit():
        try:
            region = region_by_code(form.region.data) if form.region.data else None
            add_identity(
                current_user,
                region.id if region else None,
                form.from_name.data,
                form.from_email.data,
                form.reply_to.data,
                allowed_by_config,
            )
            db.session.commit()
            flash(_("Identité enregistrée."), "success")
            return redirect(url_for("mailings.sender_identities"))
        except DomainError as error:
            db.session.rollback()
            place_errors(form, error, [])
    shown = [i for i in all_identities() if can_read(current_user, i.region_id)]
    return render_template(
        "mailings/senders.html",
        form=form,
        identities=shown,
        can_add=bool(form.region.choices) and current_user.role != "viewer",
        writable={i.id for i in shown if can_write(current_user, i.region_id)},
        confirm=ConfirmForm(),
    )


@bp.post("/mailings/senders/<int:identity_id>/delete")
def sender_identity_delete(identity_id: int):
    identity = db.session.get(SenderIdentity, identity_id) or abort(404)
    require_write(current_user, identity.region_id)
    if ConfirmForm().validate_on_submit():
        remove_identity(current_user, identity)
        db.session.commit()
        flash(_("Identité retirée."), "success")
    return redirect(url_for("mailings.sender_identities"))
