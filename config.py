"""Configuration read from the environment: DATABASE_URL and RELAIS_* keys."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE / 'relais.db'}"


class Config:
    SECRET_KEY = None  # required: RELAIS_SECRET_KEY, or generated into instance/ by `make run`
    # SQLALCHEMY_DATABASE_URI comes from DATABASE_URL when the app is created (app.create_app)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024
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
    MAIL_RATE_PER_MINUTE = 0
    MAIL_CONNECTIONS = 0  # SMTP connections per worker; 0: 2 a core for the host's workers (engine.worker.Worker.share)
    MAIL_MISSED_AFTER = 7200
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
    SECRET_KEY = "test-secret-key-not-for-production"
    MAIL_SUPPRESS_SEND = False
    LOGIN_DELAY_STEP = 0.01
    ARGON2_PROFILE = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}  # still argon2id, cheaper
    PUBLIC_BASE_URL = "http://relais.test"
    DASHBOARD_CACHE_SECONDS = 0  # each test sees its own figures (one test checks the cache)
