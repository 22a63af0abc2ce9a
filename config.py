"""Configuration read from the environment: DATABASE_URL and RELAIS_* keys."""

import os
import secrets
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE / 'relais.db'}"


class Config:
    SECRET_KEY = None  # required: RELAIS_SECRET_KEY, or generated into instance/ by `make run`
    # SQLALCHEMY_DATABASE_URI comes from DATABASE_URL when the app is created (app.create_app)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024
    IMPORT_BACKGROUND_BYTES = 2 * 1024 * 1024  # larger contact imports run in the active scheduler, with progress
    IMPORT_JOB_INTERVAL = 10  # seconds between two looks for queued imports by the active scheduler
    IMPORT_JOB_STALE_SECONDS = 600  # a running import silent this long was cut short: marked failed
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    DEFAULT_TIMEZONE = "Europe/Paris"
    # Mail (Flask-Mail keys; RELAIS_MAIL_* in the environment)
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Relais <relais@example.org>"
    MAIL_PROBE = True  # the dashboard and /readyz ask the SMTP server for an EHLO (cached 30 s)
    MAIL_OUTBOX = False  # keep messages in the database (page /outbox) instead of sending; `make run` turns it on
    MAIL_RATE_PER_MINUTE = 0
    MAIL_CONNECTIONS = 0  # SMTP connections per worker; 0: 2 a core for the host's workers (engine.worker.Worker.share)
    MAIL_MISSED_AFTER = 7200
    MAIL_SENDERS = None  # {"national": [...], "93": [...]}: addresses or @domains (mailings.senders)
    MAIL_APPROVAL_FOR_REGIONAL = True  # a regional mailing waits for national approval
    MAIL_RETRY_DELAYS = (60, 300, 900, 3600)  # seconds before each new try after a 4xx
    MAIL_ERROR_STREAK = 20  # consecutive failures that pause a mailing
    MAIL_BATCH_SIZE = 500  # at most this many deliveries claimed at once by one connection
    MAIL_SMTP_TIMEOUT = 30
    MAIL_DISPATCH_INTERVAL = 5  # seconds between two scheduler ticks
    MAIL_WORKER_DEAD_AFTER = 120  # seconds without heartbeat before a worker's claims are recovered
    DASHBOARD_CACHE_SECONDS = 60  # contacts per region and themes on the dashboard: at most a minute old
    MAIL_SYNCHRONOUS_COMMIT = True  # PostgreSQL: flush each delivery mark (engine.database.prepare_connection)
    SCHEDULER_EMBEDDED = False
    # Bounces and complaints after the 250 (bounces/): VERP return path, rules, mailbox, webhooks
    MAIL_RETURN_PATH = ""  # bounces@example.org: each message's envelope sender becomes bounces+TAG@...
    DKIM_DOMAIN = ""  # with DKIM_SELECTOR and DKIM_KEY_FILE (a PEM private key): messages are signed
    DKIM_SELECTOR = ""
    DKIM_KEY_FILE = ""
    BOUNCE_SOFT_LIMIT = 3  # soft bounces of one address within the window that make it bounced
    BOUNCE_SOFT_WINDOW_DAYS = 30
    BOUNCE_RATE_WARNING = 0.02  # providers review senders past 5% of bounces; warn from 2%
    BOUNCE_RATE_LIMIT = 0.05
    COMPLAINT_RATE_WARNING = 0.001  # Gmail and Yahoo: stay under 0.1%, never reach 0.3%
    COMPLAINT_RATE_LIMIT = 0.003
    BOUNCE_MAILBOX = ""  # imaps://user:password@host:993/INBOX or pop3s://user:password@host:995
    BOUNCE_MAILBOX_INTERVAL = 300  # seconds between two polls by the active scheduler
    BOUNCE_MAILBOX_DONE_FOLDER = ""  # IMAP: processed messages moved there; empty: deleted
    BOUNCE_MAILBOX_UNREAD_FOLDER = "Relais-Unreadable"  # IMAP: what could not be read, for a person
    BOUNCE_MAILBOX_REPLIES_FOLDER = "Relais-Replies"  # IMAP: auto-replies and other mail, for a person
    BOUNCE_MAILBOX_CAFILE = ""  # a CA bundle for the mailbox's certificate (a private CA)
    BOUNCE_WEBHOOK_BREVO = ""  # "user:password" (basic auth in the URL) or a bearer token
    BOUNCE_WEBHOOK_MAILJET = ""  # "user:password" (basic auth in the URL)
    BOUNCE_WEBHOOK_POSTMARK = ""  # "user:password" (basic auth in the URL)
    BOUNCE_WEBHOOK_SES_TOPICS = ""  # comma-separated SNS topic ARNs accepted; empty: any signed topic
    BOUNCE_SNS_CERT_URL = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"  # where SNS certificates may come from
    PROXY_FIX = 0  # number of reverse proxies in front (sets scheme and client address from X-Forwarded-*)
    LOG_FORMAT = "text"  # or "json"
    LOG_LEVEL = "INFO"
    # Login throttling: failures per address in the window before refusal
    LOGIN_WINDOW_SECONDS = 900
    LOGIN_SLOW_AFTER = 3
    LOGIN_REFUSE_AFTER = 10
    LOGIN_DELAY_STEP = 0.5
    # OpenAPI (flask-smorest)
    API_TITLE = "Relais API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        "info": {
            "description": "Relais: campaigns, timelines, contacts and mailings. Bearer tokens come from `flask --app app users token EMAIL`."
        },
    }


class TestConfig(Config):
    TESTING = True
    MAIL_PROBE = False  # no page opens an SMTP connection a test did not ask for (tests/fixtures_mail.py)
    SECRET_KEY = "test-secret-key-not-for-production"
    MAIL_SUPPRESS_SEND = False
    LOGIN_DELAY_STEP = 0.01
    ARGON2_PROFILE = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}  # still argon2id, cheaper
    PUBLIC_BASE_URL = "http://relais.test"
    DASHBOARD_CACHE_SECONDS = 0  # each test sees its own figures (one test checks the cache)


def configure(app: Flask, config: type | dict | None = None) -> None:
    """The default config, the environment (DATABASE_URL, RELAIS_*), then `config`; checked and completed."""
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
