"""`flask demo load`: the seed's campaign, idempotent, with example.org people only."""

import re

import pytest
from sqlalchemy import func, select

from accounts.models import Region, User
from campaign.models import Campaign, Milestone
from extensions import db

SEED_NAMES = {
    "Alsace",
    "Aquitaine",
    "Auvergne",
    "Basse Normandie",
    "Bourgogne",
    "Bretagne",
    "Région Centre",
    "Franche Comté",
    "Haute Normandie",
    "Ile de France",
    "Languedoc Roussillon",
    "Limousin",
    "Lorraine",
    "Midi-Pyrénées",
    "Nord-Pas de Calais",
    "Pays de Loire",
    "Picardie",
    "Poitou-Charentes",
    "Provence-Alpes-Côte d’Azur",
    "Rhône-Alpes",
}


def test_demo_load_is_idempotent_and_prints_passwords_once(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin@example.org" in first.output
    password = re.search(r"admin@example\.org\s+(\S+)", first.output).group(1)
    milestones = db.session.scalar(select(func.count(Milestone.id)))
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and password not in second.output
    assert db.session.scalar(select(func.count(Campaign.id))) == 1
    assert db.session.scalar(select(func.count(Milestone.id))) == milestones
    assert db.session.scalar(select(func.count(Region.id))) == 20
    skipped = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "nothing loaded" in skipped.output


def test_demo_has_the_seed_regions_and_example_org_people(runner, client):
    runner.invoke(args=["demo", "load"])
    regions = db.session.scalars(select(Region)).all()
    assert {r.name for r in regions} == SEED_NAMES
    assert {r.code for r in regions if r.name in ("Alsace", "Rhône-Alpes", "Ile de France")} == {"42", "82", "11"}
    assert all(u.email.endswith("@example.org") for u in db.session.scalars(select(User)))
    campaign = db.session.scalar(select(Campaign))
    assert campaign.name == "Mois de l'ESS 2008" and campaign.timezone == "Europe/Paris"


def test_demo_admin_can_sign_in_with_the_printed_password(runner, client):
    output = runner.invoke(args=["demo", "load"]).output
    password = re.search(r"admin@example\.org\s+(\S+)", output).group(1)
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "admin@example.org", "password": password, "csrf_token": token})
    assert response.status_code == 302
    assert "Mois de l&#39;ESS 2008" in client.get("/").get_data(as_text=True)


def test_health_and_readiness_follow_the_scheduler_heartbeat(app, client):
    from datetime import timedelta

    from dbtypes import utcnow
    from mailings.scheduler import tick

    assert client.get("/healthz").get_json() == {"status": "ok"}
    never = client.get("/readyz")
    assert never.status_code == 503 and never.get_json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "scheduler": "never seen",
    }
    tick(app)  # what the active scheduler does every few seconds
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"
    from mailings.models import SchedulerHeartbeat

    db.session.get(SchedulerHeartbeat, 1).beat_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    stale = client.get("/readyz")
    assert stale.status_code == 503 and stale.get_json()["checks"]["scheduler"].startswith("stale since")


def test_security_headers_on_pages_and_api(client):
    for path in ("/login", "/api/v1/openapi.json", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
        assert "frame-ancestors 'self'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_cookies_are_secure_behind_https(app, monkeypatch, _app):
    from app import create_app

    monkeypatch.delenv("RELAIS_SESSION_COOKIE_SECURE", raising=False)
    served = create_app({**_app.config, "PUBLIC_BASE_URL": "https://relais.example.org"})
    assert served.config["SESSION_COOKIE_SECURE"] is True
    client = served.test_client()
    cookie = client.get("/login").headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie


def test_uploads_beyond_the_limit_are_refused_with_413(app, client, api, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    body = {"file": (__import__("io").BytesIO(b"email\n" + b"x@example.org\n" * 200), "contacts.csv")}
    response = api(make_user("national")).post("/api/v1/contacts/import", data=body, content_type="multipart/form-data")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"


def test_a_worker_timeout_shorter_than_three_heartbeats_is_refused_at_start(app, _app):
    from app import create_app

    with pytest.raises(ValueError, match="RELAIS_MAIL_WORKER_DEAD_AFTER must be at least 30"):
        create_app({**_app.config, "MAIL_WORKER_DEAD_AFTER": 10})
    assert create_app({**_app.config, "MAIL_WORKER_DEAD_AFTER": "45"}).config["MAIL_WORKER_DEAD_AFTER"] == 45
