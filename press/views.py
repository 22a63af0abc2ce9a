"""Press pages: conferences (details, invitations, reminders, attendance, check-in), the national
side-by-side view, contact pressure of a mailing, and the public RSVP page."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.scoping import can_write
from campaign.services import current_campaign, zone
from dbtypes import utcnow
from errors import DomainError
from extensions import db
from forms import ConfirmForm, attach_errors
from mailings.mailing_form import sender_choices, sender_data
from mailings.services import get_mailing
from press import conferences, followup, pressure
from press.forms import AnswerForm, ConferenceForm, ExcludeForm, FileForm, PressureSettingsForm, SendForm, WalkInForm
from press.newsroom import files_of

bp = Blueprint("press", __name__, url_prefix="/press")
public = Blueprint("press_public", __name__)
ANSWERS = {"yes": _l("Oui"), "no": _l("Non"), "maybe": _l("Peut-être"), None: _l("Pas de réponse")}
DETAIL_FIELDS = ("venue", "city", "address", "speakers", "notes")
EXPORTERS = ("admin", "national", "regional")  # viewers (partners) read, they take no list of people away


@bp.before_request
@login_required
def signed_in():
    """Every press page but the public ones needs an account."""


def answer_form(milestone) -> AnswerForm:
    """The answer form, offering the guests by name."""
    form = AnswerForm()
    people = followup.by_name(conferences.attendance(milestone))
    form.contact_id.choices = [
        (a.contact_id, f"{a.name} — {a.organisation}" if a.organisation else a.name) for a in people
    ]
    return form


def followup_context(milestone) -> dict:
    """What the conference and check-in pages add for the follow-up (forms only for who may use them)."""
    writable = can_write(current_user, milestone.region_id)
    return {
        "answer_form": answer_form(milestone) if writable else None,
        "walkin_form": WalkInForm(formdata=None) if writable else None,
        "can_export": current_user.role in EXPORTERS,
        "channels": followup.channel_labels(),
        "answer_labels": followup.answer_labels(),
    }


@bp.route("/")
def index():
    campaign = current_campaign() or abort(404)
    rows = conferences.national_view(current_user, campaign)
    totals = {k: sum(s[k] for _, s in rows) for k in ("invited", "yes", "no", "maybe", "pending", "came")}
    return render_template("press/index.html", campaign=campaign, rows=rows, totals=totals, tz=zone(campaign.timezone))


@bp.route("/conferences/<int:milestone_id>", methods=["GET", "POST"])
def conference(milestone_id: int):
    milestone = conferences.get_conference(current_user, milestone_id)
    record = conferences.details(milestone)
    form = ConferenceForm(obj=record)
    if request.method == "GET":
        form.venue.data, form.city.data = milestone.venue, milestone.city
    if form.validate_on_submit():
        try:
            conferences.save_details(current_user, milestone, {f: form[f].data for f in DETAIL_FIELDS})
            db.session.commit()
            flash(_("Conférence enregistrée."), "success")
            return redirect(url_for("press.conference", milestone_id=milestone.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    send_form = SendForm(formdata=None)
    offered = sender_choices(send_form, milestone.region_id)  # the region's identities, its own first
    return render_template(
        "press/conference.html",
        milestone=milestone,
        record=record,
        form=form,
        send_form=send_form,
        offered=offered,
        file_form=FileForm(),
        attendance=conferences.attendance(milestone),
        summary=conferences.summary(milestone),
        files=files_of(milestone_id=milestone.id),
        answers=ANSWERS,
        tz=zone(milestone.campaign.timezone),
        started=utcnow() >= milestone.starts_at,
        **followup_context(milestone),
    )


@bp.post("/conferences/<int:milestone_id>/<any(invite, remind, prepare):action>")
def send(milestone_id: int, action: str):
    """Invite the region's media now, remind those who did not answer, or `prepare` the invitation as a
    draft whose page chooses the audience and shows the recipients before it goes."""
    milestone = conferences.get_conference(current_user, milestone_id)
    form = SendForm()
    offered = sender_choices(form, milestone.region_id)
    if not form.validate_on_submit():
        flash(_("Formulaire expiré ou invalide : réessayez."), "error")
        return redirect(url_for("press.conference", milestone_id=milestone.id))
    try:
        data = sender_data(form, offered) if action != "remind" else {}  # a reminder: the invitation's sender
        run = conferences.prepare_invitation if action == "prepare" else getattr(conferences, action)
        mailing = run(current_user, milestone, data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(_("Rien n'a été envoyé : %(reason)s", reason=error.message), "error")
        return redirect(url_for("press.conference", milestone_id=milestone.id))
    if action == "prepare":
        flash(_("Invitation préparée : choisissez à qui elle part, puis envoyez-la depuis sa page."), "success")
        return redirect(url_for("mailings.mailing_edit", mailing_id=mailing.id))
    if mailing.status == "submitted":
        flash(_("Envoi soumis à la validation nationale : il partira dès qu'elle sera donnée."), "success")
    else:
        flash(_("Envoi parti vers %(n)s contacts.", n=len(mailing.audience["contact_ids"])), "success")
    return redirect(url_for("press.conference", milestone_id=milestone.id))


@bp.route("/conferences/<int:milestone_id>/checkin")
def checkin_page(milestone_id: int):
    return render_checkin(conferences.get_conference(current_user, milestone_id))


def render_checkin(milestone, walkin_form: WalkInForm | None = None) -> str:
    """The check-in page; with the walk-in form sent back, its errors and what was typed stay."""
    context = followup_context(milestone)
    if walkin_form is not None and context["walkin_form"] is not None:
        context["walkin_form"] = walkin_form
    return render_template(
        "press/checkin.html",
        milestone=milestone,
        attendance=conferences.attendance(milestone),
        summary=conferences.summary(milestone),
        form=ConfirmForm(),
        answers=ANSWERS,
        **context,
    )


@bp.post("/conferences/<int:milestone_id>/checkin/<int:contact_id>")
def checkin(milestone_id: int, contact_id: int):
    milestone = conferences.get_conference(current_user, milestone_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        conferences.check_in(current_user, milestone, contact_id, request.form.get("present") == "1")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("press.checkin_page", milestone_id=milestone.id) + f"#c{contact_id}")


# ---- contact pressure -------------------------------------------------------------------------


@bp.app_template_global("press_pressure")
def press_pressure(mailing) -> list:
    """For the mailing page (`{% include "press/_pressure_summary.html" %}`): who is solicited twice."""
    if mailing is None or mailing.frozen_at is not None or mailing.status in ("sent", "cancelled"):
        return []
    return pressure.overlaps(mailing)


@bp.route("/mailings/<int:mailing_id>/pressure", methods=["GET", "POST"])
def mailing_pressure(mailing_id: int):
    mailing = get_mailing(current_user, mailing_id)
    form = ExcludeForm()
    if form.validate_on_submit():
        ids = [int(i) for i in (form.contact_ids.data or "").split(",") if i.strip().isdigit()]
        try:
            count = pressure.exclude(current_user, mailing, ids)
            db.session.commit()
            flash(_("%(n)s contacts exclus de cet envoi.", n=count), "success")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        return redirect(url_for("press.mailing_pressure", mailing_id=mailing.id))
    found = pressure.overlaps(mailing)
    form.contact_ids.data = ",".join(str(i) for i in sorted({o.contact_id for o in found}))
    settings = pressure.settings(mailing.campaign_id)
    return render_template(
        "press/pressure.html",
        mailing=mailing,
        overlaps=found,
        form=form,
        settings=settings,
        settings_form=PressureSettingsForm(obj=settings),
        excluded=len((mailing.audience or {}).get("exclude_contact_ids") or []),
        tz=zone(mailing.campaign.timezone),
    )


@bp.post("/settings")
def settings():
    campaign = current_campaign() or abort(404)
    form = PressureSettingsForm()
    try:
        if not form.validate_on_submit():
            raise DomainError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        pressure.save_settings(current_user, campaign, form.pressure_days.data, form.weekly_limit.data)
        db.session.commit()
        flash(_("Réglages enregistrés."), "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(request.referrer or url_for("press.index"))


# ---- public RSVP ------------------------------------------------------------------------------


@public.route("/rsvp/<token>", methods=["GET", "POST"])
def rsvp(token: str):
    """GET shows the choice and changes nothing; only the POST records the answer."""
    link = conferences.read_link(token)
    if link is None:
        return render_template("press/rsvp.html", link=None), 404
    form = ConfirmForm()
    recorded = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if link.open:
            link = conferences.record(token)
            db.session.commit()
            recorded = True
    return render_template(
        "press/rsvp.html",
        link=link,
        form=form,
        recorded=recorded,
        other=conferences.other_link(link),
        answers=ANSWERS,
        tz=zone(link.milestone.campaign.timezone),
    ), (200 if link.open or request.method == "GET" else 409)
