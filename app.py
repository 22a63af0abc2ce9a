"""Relais: the application factory, a list of register_* steps."""

import logging
import random
import sqlite3
import time
from importlib import import_module

from flask import Flask, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

import campaign.event_pages  # noqa: F401  (the public event pages, on the programme blueprint)
import mailings.preference_views  # noqa: F401  (the unsubscribe and preference pages, on the public blueprint)
from accounts import api as accounts_api
from accounts import views as accounts_views
from accounts.cli import users_cli
from accounts.models import Region
from accounts.scoping import guard_request, scope_url_object
from bounces import extension as bounces_extension
from campaign import anchors, brand_views, coverage, editions, event_api, event_views, readiness, reminders
from campaign import api as campaign_api
from campaign import views as campaign_views
from campaign.federation_models import PressClipping
from campaign.models import Event, Milestone
from campaign.reminders import campaign_cli
from config import INSTANCE, configure
from contacts import api as contacts_api
from contacts import history_api as contact_history_api
from contacts import (
    import_jobs,
    import_views,  # noqa: F401  (the import pages, on the contacts blueprint)
    notes_views,  # noqa: F401  (the contact page's history and notes, on the contacts blueprint)
)
from contacts import views as contacts_views
from contacts.cli import contacts_cli
from contacts.history import init_app as contact_history
from contacts.models import Contact, ContactList, Segment
from dashboard import views as dashboard_views
from errors import register_error_handlers
from extensions import api, babel, csrf, db, login, mail, migrate
from formatting import register_filters
from logs import register_logging
from mail_outbox import outbox_on
from mailings import api as mailings_api
from mailings import (
    approval_views,
    audience_views,  # noqa: F401  (edit, recipients, send-now confirmation, sender identities: mailings blueprint)
    gallery_views,
    milestone_moves,
    outbox_views,
    scheduler,
)
from mailings import editions as mailing_editions
from mailings import views as mailings_views
from mailings.cli import mailings_cli, scheduler_cli
from mailings.history import received as mailings_received
from mailings.hooks import init_app as mailing_hooks
from mailings.models import EmailTemplate, Mailing
from migrations_filter import include_name
from operations import health
from operations.cli import backup_cli, demo_cli
from press import editions as press_editions
from press import extension as press_extension
from printing import press_views as printing_press_views
from printing import sign_in as printing_sign_in  # noqa: F401  (the sign-in sheet PDF, on printing_team)
from printing import views as printing_views
from web import register_routing, register_web, select_locale


def create_app(config: type | dict | None = None) -> Flask:
    """Build a Relais application: the default config, the environment, then `config`."""
    app = Flask(__name__, instance_path=str(INSTANCE))
    configure(app, config)
    register_sqlite_setup()
    register_logging(app)
    announce_outbox(app)
    register_routing(app)
    register_extensions(app)
    register_blueprints(app)
    register_contact_history(app)
    register_press(app)
    register_bounces(app)
    register_import_jobs(app)
    register_editions(app)
    register_milestone_moves(app)
    register_commands(app)
    register_error_handlers(app)
    register_filters(app)
    register_scheduler(app)
    register_web(app)
    register_region_scope(app)
    return app


def sqlite_setup(dbapi_connection, connection_record) -> None:
    """Every SQLite connection waits for a busy database rather than failing at once, and the file
    is switched to WAL once, by whichever process gets there first: the switch needs the file to
    itself, so processes starting together (web, scheduler, workers) retry it instead of dying with
    `database is locked`; once it is WAL (it stays so in the file) nothing is switched again."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=20000")
        deadline = time.monotonic() + 60
        while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05 + random.random() * 0.1)
    finally:
        cursor.close()


def register_sqlite_setup() -> None:
    if not event.contains(Engine, "connect", sqlite_setup):
        event.listen(Engine, "connect", sqlite_setup)


def announce_outbox(app: Flask) -> None:
    """Say at start-up when mail stays in the local outbox: nothing leaves this machine."""
    if outbox_on(app):
        app.config["MAIL_OUTBOX"] = True
        if not app.testing:
            logging.getLogger("relais").info(
                "RELAIS_MAIL_OUTBOX is on: messages are kept in the local outbox (/outbox), none is sent"
            )


MODEL_MODULES = (
    "accounts.models",
    "campaign.models",
    "campaign.federation_models",
    "contacts.models",
    "mailings.models",
    "mailings.approval_models",
    "press.models",
    "bounces.models",
    "mail_outbox",
)


def register_extensions(app: Flask) -> None:
    """Bind the extensions; import every models module so the metadata (and Alembic) sees all tables."""
    for module in MODEL_MODULES:
        import_module(module)
    import_module("accounts.audit")  # the audit log's flush listener

    db.init_app(app)
    migrate.init_app(app, db, include_name=include_name, compare_type=True, render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Europe/Paris")
    login.init_app(app)
    login.login_view = "accounts.login_page"
    login.login_message = None
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    for blueprint in (
        accounts_views.bp,
        campaign_views.bp,
        campaign_views.public,
        brand_views.bp,
        brand_views.public,
        event_views.bp,
        event_views.public,
        readiness.bp,
        coverage.bp,
        reminders.bp,
        contacts_views.bp,
        mailings_views.bp,
        mailings_views.public,
        outbox_views.bp,
        approval_views.bp,
        gallery_views.bp,
        dashboard_views.bp,
        printing_views.public,  # with the press kits' public routes (printing_press_views)
        printing_press_views.team,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    for blueprint in (
        *accounts_api.blueprints,
        *campaign_api.blueprints,
        *event_api.blueprints,
        *contacts_api.blueprints,
        *contact_history_api.blueprints,
        *mailings_api.blueprints,
        gallery_views.api_bp,
    ):
        csrf.exempt(blueprint)  # bearer tokens, no cookies: nothing to forge
        api.register_blueprint(blueprint)


def register_contact_history(app: Flask) -> None:
    """A contact's page shows its history; mailings (here), press and bounces add what they know."""
    contact_history(app).sources.append(mailings_received)


def register_press(app: Flask) -> None:
    """Press relations: their pages and API, and what they add to mailings (through mailings' hooks)."""

    press_extension.init_app(app)


def register_bounces(app: Flask) -> None:
    """Bounces and complaints after the 250: webhooks, API, commands, the mailbox poll, page sections."""
    bounces_extension.init_app(app)


def register_import_jobs(app: Flask) -> None:
    """Large contact imports wait in the database; the active scheduler runs them batch by batch."""
    interval = int(app.config["IMPORT_JOB_INTERVAL"])
    mailing_hooks(app).periodic_jobs.append((import_jobs.run_queued, interval))


def register_editions(app: Flask) -> None:
    """What a new edition carries over from the floors above campaign (its own copies the timeline)."""
    editions.init_app(app).copiers.extend([mailing_editions.copy_templates, press_editions.copy_settings])


def register_milestone_moves(app: Flask) -> None:
    """Mailings scheduled from a milestone move with it (campaign.anchors proposes, mailings moves)."""
    anchors.register_mover(app, milestone_moves.mailings_moved)


def register_commands(app: Flask) -> None:
    for group in (users_cli, demo_cli, contacts_cli, scheduler_cli, mailings_cli, campaign_cli, backup_cli):
        app.cli.add_command(group)


def register_scheduler(app: Flask) -> None:
    """RELAIS_SCHEDULER_EMBEDDED: one scheduler and one delivery worker in this process (`make run`)."""

    scheduler.register(app)


PUBLIC_BLUEPRINTS = {
    "calendar",
    "brand",
    "printing",
    "programme",
    "newsroom",
    "press_public",
    "relay_public",
    "public_mail",
    "ops",
    "api-docs",
    "bounce_webhooks",
}
SELF_SERVICE_ENDPOINTS = {"accounts.logout", "accounts.login_page", "reminders.preferences", "campaign.choose"}


def register_region_scope(app: Flask) -> None:
    """One guard for every signed-in page and API call that names an object in its URL."""

    for argument, model in (
        ("milestone_id", Milestone),
        ("event_id", Event),
        ("contact_id", Contact),
        ("list_id", ContactList),
        ("segment_id", Segment),
        ("clipping_id", PressClipping),
        ("mailing_id", Mailing),
        ("template_id", EmailTemplate),
    ):
        scope_url_object(argument, model)

    def region_by_code(code) -> tuple[bool, int | None]:
        region_id = db.session.scalar(db.select(Region.id).where(Region.code == code))
        return region_id is not None, region_id

    scope_url_object("code", resolve=region_by_code)

    @app.before_request
    def guard_signed_in_request():
        if request.blueprint in PUBLIC_BLUEPRINTS or request.path.startswith("/api/"):
            return  # public pages need no account; the API guards itself once the token is read
        if request.endpoint and current_user.is_authenticated:
            guard_request(current_user, request.method, request.view_args, request.endpoint in SELF_SERVICE_ENDPOINTS)
