"""Shared fixtures: the app on each engine, clients, factories and real outside components.

Every test that takes `app` runs twice: on SQLite and on PostgreSQL (its own throwaway database
beside `test` on 127.0.0.1:5432). Without PostgreSQL those runs skip, unless REQUIRE_POSTGRES=1.
"""

import os
import secrets
import uuid
from datetime import date

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from app import create_app
from config import TestConfig
from extensions import db

pytest_plugins = ["tests.fixtures_contacts", "tests.fixtures_mail", "tests.fixtures_mailserver"]

PG_ADMIN_URL = os.environ.get("RELAIS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"


def require(name: str) -> bool:
    return os.environ.get(name) == "1"


def postgres_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """A fresh, empty database per engine for the whole session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'relais.db'}"
        return
    problem = postgres_available()
    if problem:
        if require("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"relais_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_generate_tests(metafunc):
    """Every database test on both engines; @pytest.mark.engines("postgresql") narrows it. Browser
    tests (tests/e2e) read pages, which the engine does not change: they run on SQLite, and those that
    drive the delivery engine or the scheduler say @pytest.mark.engines("sqlite", "postgresql"). Every
    service they go through is tested on both engines below them; this keeps CI under 15 minutes."""
    if "database_url" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("engines")
        in_browser = "/tests/e2e/" in str(metafunc.definition.path)
        engines = list(marker.args) if marker else ["sqlite"] if in_browser else ["sqlite", "postgresql"]
        metafunc.parametrize("database_url", engines, indirect=True, scope="session")


@pytest.fixture(scope="session")
def _app(database_url):
    app = create_app(
        {
            **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"), revision="heads")
    yield app
    with app.app_context():
        db.engine.dispose()


def wipe(app) -> None:
    """Empty every table, so each test starts from nothing."""
    with app.app_context():
        present = set(inspect(db.engine).get_table_names())
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in present]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app(_app):
    with _app.app_context():
        yield _app
        db.session.remove()
    wipe(_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def engine_name(app) -> str:
    return db.engine.dialect.name


# ---- factories -------------------------------------------------------------------------------


@pytest.fixture
def regions(app):
    """The seed's 20 regions."""
    from demo.campaign import load_regions

    found = load_regions()
    db.session.commit()
    return found


@pytest.fixture
def make_user(app, regions):
    from accounts.services import create_user

    def make(role: str = "national", region: str | None = None, email: str | None = None):
        email = email or f"{role}-{secrets.token_hex(3)}@example.org"
        region_id = regions[region].id if region else None
        user = create_user(email, role, PASSWORD, region_id, name=f"{role.title()} test")
        db.session.commit()
        return user

    return make


@pytest.fixture
def demo_campaign(app, regions):
    """The seed's campaign built by the playbook (AG 19 June 2008, November 2008)."""
    from demo.campaign import load

    campaign, _ = load(date(2008, 6, 19), date(2008, 11, 1))
    db.session.commit()
    return campaign


@pytest.fixture
def login(client):
    def sign_in(user, password: str = PASSWORD, follow: bool = False):
        page = client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return client.post(
            "/login",
            data={"email": user.email, "password": password, "csrf_token": token},
            follow_redirects=follow,
        )

    return sign_in


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def api(app):
    """A JSON client bound to a user's bearer token: api(user).get('/api/v1/...')."""
    from accounts.services import issue_token

    class ApiClient:
        def __init__(self, user):
            self.client = app.test_client()
            self.headers = {"Authorization": f"Bearer {issue_token(user)}"}
            db.session.commit()

        def __getattr__(self, method):
            def call(path, **kw):
                return getattr(self.client, method)(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

            return call

    return ApiClient


def sign_out(client) -> None:
    """What the menu's "Déconnexion" button does: a POST with the page's CSRF token."""
    page = client.get("/logout")
    assert page.status_code == 200, page.status_code
    answer = client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 302, answer.status_code
