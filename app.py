"""Relais: the application factory."""

import json
import logging
import os
import secrets

from flask import Flask, g, has_request_context, jsonify, render_template, request, session
from flask_babel import get_locale
from flask_babel import refresh as refresh_locale
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from config import INSTANCE, Config, default_database_url
from errors import DomainError
from extensions import api, babel, csrf, db, login, mail, migrate


def create_app(config: type | dict | None = None) -> Flask:
    """Build a Relais application: the default config, the environment, then `config`."""
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_object(Config)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL") or default_database_url()
    app.config.from_prefixed_env("RELAIS")
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    normalise_database_url(app)
    check_worker_timing(app)
    ensure_secret_key(app)
    secure_cookies_behind_https(app)
    register_logging(app)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = DatabaseIntConverter
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_scheduler(app)
    register_security_headers(app)
    register_input_guard(app)
    register_region_scope(app)
    return app


class DatabaseIntConverter(IntegerConverter):
    """`<int:id>` matches only ids a 32-bit integer column can hold: a larger one is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def normalise_database_url(app: Flask) -> None:
    """Accept postgres:// and postgresql:// URLs and use psycopg 3 for them."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        INSTANCE.mkdir(exist_ok=True)


def check_worker_timing(app: Flask) -> None:
    """Workers beat every 10 s: declaring one dead sooner than three beats would take live workers'
    claims away (they would stop and come back, sending nothing twice, but slowly)."""
    dead_after = int(app.config["MAIL_WORKER_DEAD_AFTER"])
    if dead_after < 30:
        raise ValueError(
            f"RELAIS_MAIL_WORKER_DEAD_AFTER must be at least 30 seconds (workers beat every 10 s), not {dead_after}"
        )
    app.config["MAIL_WORKER_DEAD_AFTER"] = dead_after


def secure_cookies_behind_https(app: Flask) -> None:
    """Served at an https:// public address, cookies are Secure unless the environment says otherwise."""
    if app.config["PUBLIC_BASE_URL"].startswith("https://") and "RELAIS_SESSION_COOKIE_SECURE" not in os.environ:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


# keys printed in this repository (examples, tests, benchmarks): anyone can sign with them
KNOWN_KEYS = frozenset(
    {"change-me-to-a-long-random-string", "change-me", "test-secret-key-not-for-production", "bench-secret-key"}
)
MIN_KEY_LENGTH = 32
MAKE_A_KEY = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def weak_key_problem(key: str) -> str | None:
    """Why a secret key cannot protect sessions and signed links, or None."""
    if key in KNOWN_KEYS or key.startswith("change-me"):
        return "RELAIS_SECRET_KEY is a published placeholder"
    if len(key) < MIN_KEY_LENGTH:
        return f"RELAIS_SECRET_KEY is too short ({len(key)} characters, at least {MIN_KEY_LENGTH})"
    return None


def ensure_secret_key(app: Flask) -> None:
    """Use RELAIS_SECRET_KEY, refusing a known or short one outside development (debug or tests);
    on one machine without it, keep a generated key in instance/."""
    if app.config.get("SECRET_KEY"):
        problem = weak_key_problem(str(app.config["SECRET_KEY"]))
        if problem and not (app.debug or app.testing):
            raise RuntimeError(f"{problem}: anyone could forge sessions and signed links; {MAKE_A_KEY}")
        return
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    app.config["SECRET_KEY"] = path.read_text().strip()


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("mailing_id", "delivery_id", "worker", "path"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def register_logging(app: Flask) -> None:
    """RELAIS_LOG_FORMAT=json gives structured logs on stderr; the default stays readable."""
    if app.testing or logging.getLogger("relais").handlers:
        return
    handler = logging.StreamHandler()
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("relais")
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def select_locale() -> str:
    """French unless the person chose English (?lang=en, kept in the session); French outside requests."""
    if not has_request_context():
        return "fr"
    languages = ("fr", "en")
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
    return session.get("lang", "fr")


MODEL_MODULES = (
    "accounts.models",
    "campaign.models",
    "campaign.federation_models",
    "contacts.models",
    "mailings.models",
    "mailings.press_models",
)


def register_extensions(app: Flask) -> None:
    """Bind the extensions; import every models module so the metadata (and Alembic) sees all tables."""
    from importlib import import_module

    from migrations_filter import include_name

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
    from accounts import api as accounts_api
    from accounts import views as accounts_views
    from campaign import api as campaign_api
    from campaign import coverage, event_api, event_views, readiness, reminders
    from campaign import views as campaign_views
    from contacts import api as contacts_api
    from contacts import views as contacts_views
    from dashboard import views as dashboard_views
    from mailings import api as mailings_api
    from mailings import newsroom_views, press_api, press_views, relay_views
    from mailings import views as mailings_views
    from operations import health

    for blueprint in (
        accounts_views.bp,
        campaign_views.bp,
        campaign_views.public,
        event_views.bp,
        event_views.public,
        readiness.bp,
        coverage.bp,
        reminders.bp,
        contacts_views.bp,
        mailings_views.bp,
        mailings_views.public,
        press_views.bp,
        press_views.public,
        newsroom_views.bp,
        newsroom_views.public,
        relay_views.bp,
        relay_views.public,
        dashboard_views.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    for blueprint in (
        *accounts_api.blueprints,
        *campaign_api.blueprints,
        *event_api.blueprints,
        *contacts_api.blueprints,
        *mailings_api.blueprints,
        *press_api.blueprints,
    ):
        csrf.exempt(blueprint)  # bearer tokens, no cookies: nothing to forge
        api.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from accounts.cli import users_cli
    from campaign.reminders import campaign_cli
    from contacts.cli import contacts_cli
    from mailings.cli import mailings_cli, scheduler_cli
    from operations.cli import backup_cli, demo_cli

    for group in (users_cli, demo_cli, contacts_cli, scheduler_cli, mailings_cli, campaign_cli, backup_cli):
        app.cli.add_command(group)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return jsonify(error_body(error.code, error.message, error.fields)), error.status
        return render_template("errors/error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return api_http_error(error)
        if error.code and error.code >= 400:
            return render_template("errors/error.html", status=error.code, message=error.description), error.code
        return error

    @app.errorhandler(DataError)
    def value_out_of_range(error: DataError):
        """A value the database cannot hold (an integer beyond its column...): the input's fault."""
        db.session.rollback()
        message = "a value is out of the range the database can hold"
        if wants_json():
            return jsonify(error_body("validation_failed", message)), 422
        return render_template("errors/error.html", status=422, message=message), 422

    if app.testing:
        return  # let tests see the traceback of anything unexpected

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        logging.getLogger("relais").exception("unhandled error on %s", request.path)
        if wants_json():
            return jsonify(error_body("internal_error", "Internal error")), 500
        return render_template("errors/error.html", status=500, message=None), 500


API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def api_http_error(error: HTTPException):
    """The contract's error body for any HTTP error under /api/ (webargs' 422 included)."""
    fields: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    for location_messages in (data.get("messages") or {}).values():
        for field, messages in flatten_messages(location_messages):
            fields[field] = messages
    code = error.code or 500
    message = error.description
    if code == 422:
        message = "Invalid input: " + ", ".join(sorted(fields))
    elif code == 400 and fields.get("_schema"):
        message = fields.pop("_schema")  # e.g. "Invalid JSON body."
    response = jsonify(error_body(API_CODES.get(code, "error"), message, fields))
    response.status_code = code
    for header in ("WWW-Authenticate", "Retry-After"):
        if error.get_response().headers.get(header):
            response.headers[header] = error.get_response().headers[header]
    return response


def flatten_messages(messages, prefix: str = ""):
    """Turn marshmallow's nested messages into (dotted field, text) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if name == "_schema":
                name = "_schema"
            yield from flatten_messages(value, name)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        yield prefix or "_schema", " ".join(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            yield from flatten_messages(value, f"{prefix}.{index}")
    else:
        yield prefix or "_schema", str(messages)


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-src 'self'; frame-ancestors 'self'"
)


def register_security_headers(app: Flask) -> None:
    """Headers on every answer; a view that must be embedded elsewhere sets its own CSP first."""

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def register_scheduler(app: Flask) -> None:
    """RELAIS_SCHEDULER_EMBEDDED: one scheduler and one delivery worker in this process (`make run`)."""
    from mailings.scheduler import register

    register(app)


PUBLIC_BLUEPRINTS = {
    "calendar",
    "programme",
    "newsroom",
    "press_public",
    "relay_public",
    "public_mail",
    "ops",
    "api-docs",
}
SELF_SERVICE_ENDPOINTS = {"accounts.logout", "accounts.login_page", "reminders.preferences"}


def nul_field(value, path: str = "") -> str | None:
    """The first field whose text holds a NUL character (no database text column can store one)."""
    if isinstance(value, str):
        return path or "_schema" if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = nul_field(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def register_input_guard(app: Flask) -> None:
    """Text with a NUL character is refused up front, naming the field: a 4xx, never a 500."""

    @app.before_request
    def refuse_nul_characters():
        sources = [request.args.to_dict(flat=False), request.view_args or {}]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sources.append(request.form.to_dict(flat=False))
        elif request.is_json:
            sources.append(request.get_json(silent=True) or {})
        for source in sources:
            field = nul_field(source)
            if field:
                field = field.rsplit(".", 1)[0] if field.rsplit(".", 1)[-1].isdigit() else field
                message = "NUL characters are not allowed"
                if wants_json():
                    return jsonify(error_body("validation_failed", message, {field: message})), 422
                return render_template("errors/error.html", status=422, message=f"{field}: {message}"), 422
        return None


def register_region_scope(app: Flask) -> None:
    """One guard for every signed-in page and API call that names an object in its URL."""
    from accounts.scoping import guard_request, scope_url_object
    from campaign.federation_models import PressClipping
    from campaign.models import Event, Milestone, Region
    from contacts.models import Contact, ContactList, Segment
    from mailings.models import EmailTemplate, Mailing
    from mailings.press_models import PressKitFile, PressRelease, RelayKit

    for argument, model in (
        ("milestone_id", Milestone),
        ("event_id", Event),
        ("contact_id", Contact),
        ("list_id", ContactList),
        ("segment_id", Segment),
        ("clipping_id", PressClipping),
        ("mailing_id", Mailing),
        ("template_id", EmailTemplate),
        ("release_id", PressRelease),
        ("kit_id", RelayKit),
        ("file_id", PressKitFile),
    ):
        scope_url_object(argument, model)

    def region_by_code(code) -> tuple[bool, int | None]:
        region_id = db.session.scalar(db.select(Region.id).where(Region.code == code))
        return region_id is not None, region_id

    scope_url_object("code", resolve=region_by_code)

    @app.before_request
    def guard_signed_in_request():
        from flask_login import current_user

        if request.blueprint in PUBLIC_BLUEPRINTS or request.path.startswith("/api/"):
            return  # public pages need no account; the API guards itself once the token is read
        if request.endpoint and current_user.is_authenticated:
            guard_request(current_user, request.method, request.view_args, request.endpoint in SELF_SERVICE_ENDPOINTS)


def register_template_helpers(app: Flask) -> None:
    from formatting import register_filters

    register_filters(app)
    app.jinja_env.globals["get_locale"] = get_locale

    @app.before_request
    def fresh_request_identity():
        """Who acts is decided per request, even where an app context outlives requests (tests, CLI)."""
        for name in ("_login_user", "api_user", "actor_id", "actor_email", "csrf_token"):
            g.pop(name, None)
        refresh_locale()  # the language too is chosen per request
