"""The local outbox's pages (RELAIS_MAIL_OUTBOX): what Relais would have sent, as each recipient gets it."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from accounts.api import page_count, page_number
from accounts.scoping import require_role
from extensions import db
from mail_outbox import OutboxMessage, newest, open_message, outbox_on

bp = Blueprint("outbox", __name__)
OUTBOX_PAGE = 50


@bp.before_request
@login_required
def national_only():
    """The outbox holds every region's messages: national and admin accounts only."""
    require_role(current_user, "national", "admin")


@bp.app_context_processor
def outbox_link() -> dict:
    return {"outbox_on": outbox_on()}


@bp.route("/outbox")
def index():
    page = page_number()
    rows, total = newest(page, OUTBOX_PAGE)
    return render_template(
        "mailings/outbox.html", rows=rows, total=total, page=page, pages=page_count(total, OUTBOX_PAGE), on=outbox_on()
    )


@bp.route("/outbox/<int:message_id>")
def show(message_id: int):
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        abort(404)
    return render_template("mailings/outbox_message.html", row=row, message=open_message(row))
