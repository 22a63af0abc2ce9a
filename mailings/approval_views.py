"""The approval block of a mailing's page: ask for national approval (with the send time), approve
or send back with a comment, and the history of it; each step is announced by email."""

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, TextAreaField
from wtforms.validators import Length, Optional

from campaign.services import to_utc, zone
from dbtypes import utcnow
from errors import DomainError
from extensions import db
from mailings import approval, services
from mailings.models import Mailing

bp = Blueprint("approval", __name__)


class SubmitForm(FlaskForm):
    send_at = DateTimeLocalField(_l("Date d'envoi souhaitée"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    allow_weekend = BooleanField(_l("Envoyer quand même un week-end / jour férié"))
    comment = TextAreaField(_l("Message pour l'équipe nationale (facultatif)"), validators=[Length(max=5000)])


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Commentaire pour la région"), validators=[Length(max=5000)])


@bp.before_request
@login_required
def signed_in():
    """Only people with an account take part in an approval."""


@bp.post("/mailings/<int:mailing_id>/approval/<action>")
def decide(mailing_id: int, action: str):
    if action not in DONE:
        abort(404)
    mailing = services.get_mailing(current_user, mailing_id)
    form = SubmitForm() if action == "submit" else DecisionForm()
    back = redirect(url_for("mailings.mailing_page", mailing_id=mailing.id, _anchor="approval"))
    if not form.validate_on_submit():
        errors = [e for field in form for e in field.errors]
        flash(errors[0] if errors else _("Formulaire expiré ou invalide : réessayez."), "error")
        return back
    now = utcnow()
    send_at = None
    if action == "submit":  # no time given: it goes as soon as it is approved
        send_at = to_utc(form.send_at.data, mailing.campaign.timezone) if form.send_at.data else now
    try:
        services.transition(
            current_user,
            mailing,
            action,
            now=now,
            comment=form.comment.data,
            send_at=send_at,
            allow_weekend=bool(getattr(form, "allow_weekend", None) and form.allow_weekend.data),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return back
    flash(DONE[action], "success")
    return back


DONE = {
    "submit": _l("Validation demandée : l'équipe nationale est prévenue par e-mail."),
    "approve": _l("Envoi validé : la région est prévenue par e-mail."),
    "reject": _l("Envoi renvoyé : la région reçoit votre commentaire par e-mail."),
}


@bp.app_template_global("approval_panel")
def approval_panel(mailing: Mailing) -> SimpleNamespace:
    """What the approval block of a mailing's page shows to the person reading it."""
    history = approval.history(mailing)
    submit_form = SubmitForm(formdata=None)
    if mailing.scheduled_at is not None or (mailing.milestone and mailing.milestone.starts_at > utcnow()):
        when = mailing.scheduled_at or mailing.milestone.starts_at
        submit_form.send_at.data = when.astimezone(zone(mailing.campaign.timezone)).replace(tzinfo=None)
    can_submit = services.allowed(current_user, mailing, "submit")
    can_decide = services.allowed(current_user, mailing, "approve")
    waiting = mailing.status == "submitted" and services.regional_approval(mailing)
    return SimpleNamespace(
        shown=bool(history) or waiting or can_submit or can_decide,  # never a heading over nothing
        history=history,
        labels=approval.LABELS,
        can_submit=can_submit,
        can_decide=can_decide,
        covers_follow_up=len(approval.covered_texts(mailing)) > 1 if mailing.status == "submitted" else False,
        submit_form=submit_form,
        decision_form=DecisionForm(formdata=None),
    )
