"""Pages of a conference's follow-up (on the press blueprint): an answer written down, a walk-in at
the door, the attendees as CSV and the sign-in sheet to print."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dbtypes import utcnow
from errors import DomainError
from extensions import db
from forms import attach_errors
from press import conferences, followup
from press.forms import WalkInForm
from press.views import EXPORTERS, answer_form, bp, render_checkin


def flash_errors(form, error: DomainError | None = None) -> None:
    if error is None and "csrf_token" in form.errors:
        flash(_("Formulaire expiré ou invalide : réessayez."), "error")
        return
    fields = error.fields if error else {k: " ".join(v) for k, v in form.errors.items()}
    labels = {name: str(form[name].label.text) for name in fields if name in form}
    details = "; ".join(f"{labels.get(k, k)} : {v}" for k, v in fields.items())
    flash((error.message if error else _("Formulaire invalide.")) + (f" ({details})" if details else ""), "error")


@bp.post("/conferences/<int:milestone_id>/answers")
def record_answer(milestone_id: int):
    milestone = conferences.get_conference(current_user, milestone_id)
    form = answer_form(milestone)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("press.conference", milestone_id=milestone.id, _anchor="answer-form"))
    try:
        followup.record_answer(current_user, milestone, form.contact_id.data, form.answer.data, form.channel.data)
        db.session.commit()
        flash(_("Réponse enregistrée."), "success")
    except DomainError as error:
        db.session.rollback()
        flash_errors(form, error)
    return redirect(url_for("press.conference", milestone_id=milestone.id, _anchor="attendance"))


@bp.post("/conferences/<int:milestone_id>/walk-ins")
def walk_in(milestone_id: int):
    """Add a walk-in; a form sent back keeps what was typed, its errors beside the fields."""
    milestone = conferences.get_conference(current_user, milestone_id)
    form = WalkInForm()
    if not form.validate_on_submit():
        return render_checkin(milestone, form)
    data = {k: form[k].data for k in ("first_name", "last_name", "media", "email")}
    try:
        contact = followup.add_walk_in(current_user, milestone, data, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        attach_errors(form, error, {"organisation": "media"})
        return render_checkin(milestone, form)
    flash(_("%(name)s ajouté·e et marqué·e présent·e.", name=contact.full_name or contact.email), "success")
    return redirect(url_for("press.checkin_page", milestone_id=milestone.id, _anchor=f"c{contact.id}"))


@bp.route("/conferences/<int:milestone_id>/attendees.csv")
def attendees_csv(milestone_id: int):
    milestone = conferences.get_conference(current_user, milestone_id)
    if current_user.role not in EXPORTERS:
        abort(403)
    headers = {"Content-Disposition": f'attachment; filename="invites-conference-{milestone.id}.csv"'}
    return Response(followup.attendees_csv(milestone), mimetype="text/csv", headers=headers)


@bp.route("/conferences/<int:milestone_id>/sign-in-sheet")
def sign_in_sheet(milestone_id: int):
    milestone = conferences.get_conference(current_user, milestone_id)
    if current_user.role not in EXPORTERS:
        abort(403)
    return render_template(
        "press/sign_in_sheet.html", milestone=milestone, people=followup.sign_in_list(milestone), blank_rows=8
    )
