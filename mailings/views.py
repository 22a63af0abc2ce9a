"""Template and mailing pages, and the test links' page: thin adapters over mailings.services (the
unsubscribe and preference pages are in mailings.preference_views)."""

from types import SimpleNamespace

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.scoping import can_write, readable
from campaign.services import current_campaign, to_utc
from contacts.models import Contact
from dbtypes import row_id
from errors import DomainError, PermissionDenied
from extensions import csrf, db
from forms import ConfirmForm, attach_errors
from mailings import approval, editor, services, states
from mailings.audience import audience_size
from mailings.audience import summary as audience_summary
from mailings.composer import Composer, Draft
from mailings.forms import MailingForm, ScheduleForm, TemplateForm, TestSendForm
from mailings.hooks import hooks
from mailings.mailing_form import form_context, mailing_choices, mailing_data, place_errors
from mailings.models import Delivery, EmailTemplate, Mailing
from mailings.rendering import compile_template
from mailings.sanitize import clean_html
from mailings.spread import page_preview
from pagination import page_count, page_number, paginate

MAILINGS_PAGE = 50  # mailings a page, newest first

bp = Blueprint("mailings", __name__)
public = Blueprint("public_mail", __name__)

ACTIONS = {
    "submit": _("Demander la validation"),
    "approve": _("Valider"),
    "reject": _("Renvoyer en brouillon"),
    "send_now": _("Envoyer maintenant"),
    "pause": _("Mettre en pause"),
    "resume": _("Reprendre"),
    "cancel": _("Annuler l'envoi"),
    "retry_failed": _("Renvoyer aux échecs seulement"),
    "resend_unknown": _("Renvoyer aux destinataires incertains"),
}


@bp.before_request
@login_required
def signed_in():
    """Every template and mailing page needs an account."""


# ---- templates --------------------------------------------------------------------------------


@bp.route("/templates", methods=["GET", "POST"])
def templates():
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = services.save_template(current_user, None, form.data)
            db.session.commit()
            flash(_("Modèle enregistré."), "success")
            return redirect(url_for("mailings.template_page", template_id=template.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    query = readable(select(EmailTemplate).order_by(EmailTemplate.name), current_user, EmailTemplate.region_id)
    return render_template(
        "mailings/templates.html",
        templates=db.session.scalars(query).all(),
        form=form,
        editor_fields=editor.fields(),
        editor_buttons=editor.buttons(),
    )


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
def template_page(template_id: int):
    template = services.get_template(current_user, template_id)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            services.save_template(current_user, template, form.data)
            db.session.commit()
            flash(_("Modèle enregistré."), "success")
            return redirect(url_for("mailings.template_page", template_id=template.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    contacts = db.session.scalars(
        readable(select(Contact), current_user, Contact.region_id).order_by(Contact.last_name).limit(300)
    )
    return render_template(
        "mailings/template.html",
        template=template,
        form=form,
        test_form=TestSendForm(),
        contacts=contacts.all(),
        editor_fields=editor.fields(),
        editor_buttons=editor.buttons(),
    )


@bp.app_template_filter("mailing_status")
def mailing_status(status: str) -> str:
    """A mailing's status as people say it ("Programmé", not "scheduled")."""
    return str(states.LABELS.get(status, status))


def probe_mailing():
    campaign = current_campaign()
    return SimpleNamespace(
        id=0, campaign=campaign, name=_("Aperçu"), from_name="Relais", from_email="relais@example.org", reply_to=""
    )


@bp.route("/templates/preview", methods=["POST"])
def template_preview():
    """The live preview of what is being typed: JSON for the editor's sandboxed iframe."""
    data = request.get_json(silent=True) or {}
    contact_id = int(data["contact_id"]) if str(data.get("contact_id") or "").isdigit() else None
    try:
        html = clean_html(str(data.get("html") or ""))  # previewed as it will be saved
        draft = Draft(str(data.get("subject") or ""), html, str(data.get("text") or ""))
        compile_template(draft.subject, draft.html, draft.text)  # its own errors first, named by field
        probe = probe_mailing()
        if probe.campaign is None:
            return jsonify({"error": _("Aucune campagne.")}), 422
        person = services.recipient_for(current_user, contact_id, probe.campaign, current_user.region_id)
        return jsonify(Composer(probe, template=draft).preview(person))
    except PermissionDenied as error:
        return jsonify({"error": error.message, "fields": {"contact_id": error.message}}), 403
    except DomainError as error:
        db.session.rollback()
        return jsonify({"error": error.message, "fields": error.fields}), 422


@bp.route("/templates/<int:template_id>/test", methods=["POST"])
def template_test(template_id: int):
    template = services.get_template(current_user, template_id)
    form = TestSendForm()
    if form.validate_on_submit():
        probe = probe_mailing()
        probe.template = template
        try:
            result = services.send_test(current_user, probe, form.email.data, request.form.get("contact_id", type=int))
            flash(
                _("Test envoyé à %(email)s (%(answer)s).", email=result["email"], answer=result["response"]), "success"
            )
        except DomainError as error:
            flash(error.message, "error")
    return redirect(url_for("mailings.template_page", template_id=template.id))


# ---- mailings ---------------------------------------------------------------------------------


def own_region() -> int | None:
    """The region of a mailing this user creates (None: national)."""
    return current_user.region_id if current_user.role == "regional" else None


@bp.route("/mailings", methods=["GET", "POST"])
def mailings():
    campaign = current_campaign()
    form = MailingForm()
    offered = mailing_choices(form, current_user, campaign, own_region()) if campaign is not None else []
    searching = bool(request.form.get("search_contacts"))  # "Chercher" without JavaScript: show the matches
    audience_errors: list[str] = []
    if campaign is not None and not searching and form.validate_on_submit():
        try:
            mailing = services.save_mailing(
                current_user, None, mailing_data(form, campaign, offered), campaign=campaign
            )
            db.session.commit()
            flash(_("Envoi créé."), "success")
            return redirect(url_for("mailings.mailing_page", mailing_id=mailing.id, _anchor="recipients"))
        except DomainError as error:
            db.session.rollback()
            audience_errors = place_errors(form, error, offered)
    page = page_number()
    found = paginate(services.readable_mailings(current_user), {"page": page, "per_page": MAILINGS_PAGE})
    pages = page_count(found["total"], MAILINGS_PAGE)
    if page > pages:
        abort(404)
    return render_template(
        "mailings/mailings.html",
        mailings=found["items"],
        page=page,
        pages=pages,
        form=form,
        labels=states.LABELS,
        campaign=campaign,
        offered=offered,
        open_form=request.method == "POST",
        audience_errors=audience_errors,
        region_code=current_user.region.code if own_region() else "",
        summaries={m.id: audience_summary(m.audience or {}) for m in found["items"]},
        **form_context(current_user, own_region()),
    )


@bp.route("/mailings/<int:mailing_id>")
def mailing_page(mailing_id: int):
    return render_mailing_page(services.get_mailing(current_user, mailing_id))


def render_mailing_page(mailing: Mailing, schedule_form: ScheduleForm | None = None, code: int = 200):
    """The mailing's page; a schedule form sent back with its errors keeps what was typed."""
    status = request.args.get("status") or None
    log = select(Delivery).where(Delivery.mailing_id == mailing.id).order_by(Delivery.updated_at.desc(), Delivery.id)
    if status:
        log = log.where(Delivery.status == status)
    stats = services.stats(mailing)
    needed = {"retry_failed": stats["failed"], "resend_unknown": stats["unknown"]}
    actions = [a for a in ACTIONS if states.can(a, mailing.status) and needed.get(a, 1)]
    if not can_write(current_user, mailing.region_id):
        actions = []
    actions = [a for a in actions if a not in approval.ACTIONS and services.allowed(current_user, mailing, a)]
    preview = page_preview(
        mailing, request.args.get("preview", type=row_id), readable(select(Contact.id), current_user, Contact.region_id)
    )
    return render_template(
        "mailings/mailing.html",
        mailing=mailing,
        preview=preview,
        test_form=TestSendForm(),
        stats=stats,
        size=audience_size(mailing.audience or {}, mailing.region_id),
        deliveries=db.session.scalars(log.limit(500)).all(),
        status_filter=status,
        actions=actions,
        action_labels=ACTIONS,
        labels=states.LABELS,
        delivery_labels=states.DELIVERY_LABELS,
        confirm=ConfirmForm(),
        schedule_form=schedule_form or ScheduleForm(formdata=None),
        can_schedule=services.allowed(current_user, mailing, "schedule"),
        sections=hooks().page_sections,
    ), code


@bp.route("/mailings/<int:mailing_id>/test", methods=["POST"])
def mailing_test(mailing_id: int):
    """The message the chosen recipient will get, sent to a test address."""
    mailing = services.get_mailing(current_user, mailing_id)
    form = TestSendForm()
    contact_id = request.form.get("contact_id", type=int)
    if form.validate_on_submit():
        try:
            result = services.send_test(current_user, mailing, form.email.data, contact_id)
            flash(
                _("Test envoyé à %(email)s (%(answer)s).", email=result["email"], answer=result["response"]), "success"
            )
        except DomainError as error:
            flash(error.message, "error")
    return redirect(url_for("mailings.mailing_page", mailing_id=mailing.id, preview=contact_id, _anchor="preview"))


@bp.route("/mailings/<int:mailing_id>/progress.json")
def mailing_progress(mailing_id: int):
    """What the progress bar polls while the mailing sends."""
    mailing = services.get_mailing(current_user, mailing_id)
    stats = services.stats(mailing)
    done = sum(stats[s] for s in ("sent", "failed", "bounced", "skipped", "unknown"))
    return jsonify(
        {
            "status": mailing.status,
            "status_label": str(states.LABELS[mailing.status]),
            "status_reason": mailing.status_reason,
            "stats": stats,
            "done": done,
        }
    )


@bp.route("/mailings/<int:mailing_id>/schedule", methods=["POST"])
def mailing_schedule(mailing_id: int):
    mailing = services.get_mailing(current_user, mailing_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return render_mailing_page(mailing, form, 422)
    try:
        services.transition(
            current_user,
            mailing,
            "schedule",
            send_at=to_utc(form.send_at.data, mailing.campaign.timezone),
            allow_weekend=form.allow_weekend.data,
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        attach_errors(form, error)  # a closed day, a time past: beside the field, what was typed kept
        return render_mailing_page(mailing, form, 422)
    flash(_("Envoi programmé."), "success")
    return redirect(url_for("mailings.mailing_page", mailing_id=mailing_id))


@bp.route("/mailings/<int:mailing_id>/<action>", methods=["POST"])
def mailing_action(mailing_id: int, action: str):
    mailing = services.get_mailing(current_user, mailing_id)
    if action not in ACTIONS or not ConfirmForm().validate_on_submit():
        flash(_("Action impossible."), "error")
    else:
        try:
            services.transition(current_user, mailing, action)
            db.session.commit()
            flash(_("C'est fait : %(label)s.", label=states.LABELS[mailing.status]), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
    return redirect(url_for("mailings.mailing_page", mailing_id=mailing_id))


# ---- public -----------------------------------------------------------------------------------


@public.route("/test-link", methods=["GET", "POST"])
@csrf.exempt  # a mail provider's one-click unsubscribe posts here from a test message: nothing to protect
def test_link():
    """Where every personal link of a test message or a preview leads: it says so and records nothing."""
    return render_template("mailings/test_link.html")
