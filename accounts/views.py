"""Sign-in, sign-out, user administration and the audit log."""

import re
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts import services
from accounts.forms import ROLE_LABELS, LoginForm, UserForm
from accounts.models import AuditEntry, Region, User
from dbtypes import utcnow
from errors import DomainError
from extensions import db, login
from forms import ConfirmForm, attach_errors
from pagination import page_number

bp = Blueprint("accounts", __name__)


@login.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie, if it was signed in since its last sign-out."""
    id_, _, epoch = user_id.partition(".")
    user = db.session.get(User, int(id_)) if id_.isdigit() else None
    if user is not None and epoch != str(user.session_epoch or 0):
        return None
    if user is not None:
        g.actor_id, g.actor_email = user.id, user.email
    return user


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


SAME_SITE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")  # printable ASCII, no space, tab or line break


def safe_next(target: str | None) -> str:
    """A path of this site, or the dashboard: browsers drop tabs and line breaks from a Location,
    so `/<tab>/evil.example` would become `//evil.example`, and a line break cannot be a header."""
    if target and SAME_SITE_PATH.fullmatch(target) and "\\" not in target:
        return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
def login_page():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(
            form.email.data,
            form.password.data,
            request.remote_addr or "",
            utcnow(),
            current_app.config,
        )
        db.session.commit()
        if user is None:
            flash(_("Adresse ou mot de passe incorrect."), "error")
            return render_template("accounts/login.html", form=form), 200
        login_user(user, remember=form.remember.data)
        return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out with a form (CSRF-checked): a link elsewhere, even an image, cannot end people's
    sessions. GET asks, POST signs out."""
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login_page"))
        return render_template("accounts/logout.html", form=form)
    if current_user.is_authenticated:  # every session and remember cookie of this account ends here
        current_user.session_epoch = (current_user.session_epoch or 0) + 1
        db.session.commit()
    logout_user()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("accounts.login_page"))


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    form = UserForm()
    form.region.choices = [SelectChoice("", "—")] + [SelectChoice(r.code, r.name) for r in regions]
    if form.validate_on_submit():
        region = next((r for r in regions if r.code == form.region.data), None)
        try:
            services.create_user(
                form.email.data,
                form.role.data,
                form.password.data,
                region.id if region else None,
                form.name.data,
            )
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            db.session.commit()
            flash(_("Compte créé."), "success")
            return redirect(url_for("accounts.users"))
    people = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", users=people, form=form, role_labels=ROLE_LABELS)


@bp.route("/admin/audit")
@admin_required
def audit():
    page = page_number()
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    entity = request.args.get("entity")
    if entity:
        query = query.where(AuditEntry.entity == entity)
    entries = db.session.scalars(query.limit(51).offset((page - 1) * 50)).all()
    return render_template(
        "admin/audit.html",
        entries=entries[:50],
        page=page,
        more=len(entries) > 50,
        entity=entity,
    )
