"""The gallery of ready templates (page section, copy, API) and the checklist shown on a mailing's
page and applied by the scheduler to due mailings: thin adapters over mailings.gallery and
mailings.checklist."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import Schema, fields

from accounts.api import api_blueprint, current_api_user
from errors import DomainError
from extensions import db
from forms import ConfirmForm
from mailings import checklist, gallery, services, states
from mailings.hooks import init_app as mailing_hooks
from mailings.schemas import TemplateSchema

bp = Blueprint("mail_gallery", __name__)
api_bp = api_blueprint(
    "mail_gallery_api", "Ready templates in French for each step of the playbook; the checklist before sending"
)


bp.record_once(lambda state: mailing_hooks(state.app).holds.append(checklist.hold_reason))


@bp.before_request
@login_required
def signed_in():
    """The gallery needs an account."""


@bp.app_template_global("mail_gallery")
def mail_gallery() -> list[dict]:
    """What the templates page lists: each ready template with its step, its timing and its first words."""
    return [{"ready": ready, **gallery.preview(ready)} for ready in gallery.items()]


bp.add_app_template_global(ConfirmForm, "gallery_form")  # each copy button's CSRF token


@bp.app_template_global("mailing_checklist")
def mailing_checklist(mailing) -> list[checklist.Item]:
    """The checklist of a mailing not yet started (the page shows it before anyone sends)."""
    if mailing.frozen_at is not None or mailing.status in states.FINISHED:
        return []
    return checklist.run(mailing)


@bp.route("/templates/gallery/<ready>", methods=["POST"])
def copy(ready: str):
    if not ConfirmForm().validate_on_submit():
        flash(_("Action impossible."), "error")
        return redirect(url_for("mailings.templates", _anchor="gallery"))
    try:
        template = gallery.copy(current_user, ready)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("mailings.templates", _anchor="gallery"))
    flash(_("Votre copie est prête : adaptez-la, puis enregistrez."), "success")
    return redirect(url_for("mailings.template_page", template_id=template.id))


class ReadySchema(Schema):
    key = fields.String()
    name = fields.String()
    step = fields.String()
    when = fields.String()
    subject = fields.String(metadata={"description": "the subject as a person reads it (fields in words)"})
    preheader = fields.String()


@api_bp.route("/templates/gallery")
@api_bp.response(200, ReadySchema(many=True))
def ready_templates():
    """The ready templates of the gallery."""
    current_api_user()
    return [
        {"key": r.key, "name": str(r.name), "step": str(r.step), "when": str(r.when), **gallery.preview(r)}
        for r in gallery.items()
    ]


@api_bp.route("/templates/gallery/<ready>", methods=["POST"])
@api_bp.response(201, TemplateSchema)
def copy_ready(ready: str):
    """A copy of a ready template for this token's user (a regional coordinator's is their region's)."""
    template = gallery.copy(current_api_user(), ready)
    db.session.commit()
    return template


class CheckSchema(Schema):
    key = fields.String(metadata={"description": "the rule, and the field a 422 names when it blocks"})
    label = fields.String()
    level = fields.String(metadata={"description": "ok, warning or error (errors block submit, schedule, send-now)"})
    detail = fields.String()


class ChecklistSchema(Schema):
    blocking = fields.Boolean()
    items = fields.List(fields.Nested(CheckSchema))


@api_bp.route("/mailings/<int:mailing_id>/checklist")
@api_bp.response(200, ChecklistSchema)
def mailing_checklist_api(mailing_id: int):
    """The checklist before sending, read from the message real recipients will get."""
    items = checklist.run(services.get_mailing(current_api_user(), mailing_id))
    return {"blocking": any(item.level == checklist.ERROR for item in items), "items": items}
