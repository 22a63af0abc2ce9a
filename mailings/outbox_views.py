"""The local outbox's pages (RELAIS_MAIL_OUTBOX): what Relais would have sent, as each recipient gets it."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.scoping import require_role
from extensions import db
from mail_outbox import OutboxMessage, mail_state, newest, open_message, outbox_on
from pagination import page_count, page_number

bp = Blueprint("outbox", __name__)
OUTBOX_PAGE = 50


@bp.before_request
@login_required
def national_only():
    """The outbox holds every region's messages, and the mail server is everybody's: national and
    admin accounts only."""
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


@bp.route("/mail-server/test", methods=["POST"])
def test_mail_server():
    """The button "Tester la connexion": an EHLO now, whatever the last one said."""
    state, detail = mail_state(fresh=True)
    if state == "ok":
        flash(_("Le serveur de messagerie répond."), "success")
    elif state == "outbox":
        flash(_("Les messages restent dans la boîte d'envoi locale : aucun serveur n'est utilisé."), "success")
    else:
        flash(_("Le serveur de messagerie ne répond pas : %(detail)s", detail=detail), "error")
    target = request.referrer or ""
    return redirect(target if target.startswith(request.host_url) else url_for("dashboard.index"))
