"""`flask demo load`: the seed's campaign, idempotent, with example.org people only."""

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from accounts.models import Region, User
from campaign.models import Campaign, Milestone
from contacts.models import Contact
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
    checks = never.get_json()["checks"]
    assert (
        checks.pop("mail") == "unchecked"
    )  # RELAIS_MAIL_PROBE is off in tests; test_outbox.py probes  # reported, never a reason for 503 (test_outbox.py)
    assert never.status_code == 503 and checks == {
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


def test_the_demo_shows_what_happened_in_2008(runner, client, make_user, login):
    """Sent invitations with their logs, answers and attendance, counted per region: no empty page."""
    from mailings.models import Delivery, Mailing

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0  # the history is written once
    sent = db.session.scalars(select(Mailing).where(Mailing.status == "sent")).all()
    names = {m.name for m in sent}
    assert "Invitation — Conférence de presse — Bretagne" in names and any(n.startswith("Relance") for n in names)
    assert len(sent) == len(names)
    assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.status == "sent")) >= 20
    login(make_user("national"))
    mailings = client.get("/mailings").get_data(as_text=True)
    assert "Invitation — Conférence de presse — Bretagne" in mailings
    bretagne = next(m for m in sent if m.name.endswith("Bretagne"))
    page = client.get(f"/mailings/{bretagne.id}").get_data(as_text=True)
    assert "amelie.heuze@example.org" in page  # the delivery log
    dashboard = client.get("/").get_data(as_text=True)
    row = re.search(r'<tr data-region="53">.*?</tr>', dashboard, re.S).group(0)
    assert int(re.findall(r"<td>(\d+)</td>", row)[0]) == 1  # "Envois faits": Bretagne's invitation
    press = client.get("/press/").get_data(as_text=True)
    row = re.search(r'<tr data-region="53">.*?</tr>', press, re.S).group(0)
    invited, yes = re.search(r'<td class="num">(\d+)</td><td class="num" data-col="yes">(\d+)</td>', row).groups()
    assert int(invited) == 4 and int(yes) >= 1

    # some answers were taken down by phone, with a note on the journalist's history
    from contacts.models import ContactNote
    from press.models import Rsvp

    by_phone = db.session.scalars(select(Rsvp).where(Rsvp.channel == "phone")).all()
    assert by_phone and all(r.recorded_by_label.startswith("Service presse — ") for r in by_phone)
    noted = db.session.scalar(select(ContactNote).where(ContactNote.contact_id == by_phone[0].contact_id))
    history = unescape(client.get(f"/contacts/{noted.contact_id}").get_data(as_text=True))
    assert "Joint·e par téléphone" in history and "téléphone" in history


def test_the_live_edition_is_dated_from_today_beside_2008(app, runner, client, make_user, login):
    """`make run` loads `demo load --live`: an edition made from 2008 by "new edition from this one",
    its event month ahead of today, its past done, its regions' first proposals in; 2008 untouched."""
    from campaign.models import Event
    from campaign.services import zone
    from dbtypes import utcnow

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    before = {m.id: (m.status, m.starts_at) for m in db.session.scalars(select(Milestone))}
    first = runner.invoke(args=["demo", "load", "--live"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["demo", "load", "--live"])
    assert again.exit_code == 0 and db.session.scalar(select(func.count(Campaign.id))) == 2
    today = utcnow().astimezone(zone("Europe/Paris")).date()
    old = db.session.scalar(select(Campaign).where(Campaign.name == "Mois de l'ESS 2008"))
    live = db.session.scalar(select(Campaign).where(Campaign.id != old.id))
    month = live.ends_on.replace(day=1)
    assert live.name == f"Mois de l'ESS {month.year}" and month > today
    assert f"“{live.name}” in preparation" in first.output
    milestones = db.session.scalars(select(Milestone).where(Milestone.campaign_id == live.id)).all()
    assert len(milestones) == db.session.scalar(select(func.count(Milestone.id)).where(Milestone.campaign_id == old.id))
    now = utcnow()
    for milestone in milestones:
        past = (milestone.ends_at or milestone.starts_at) < now
        assert (milestone.status == "done") == past, (milestone.title, milestone.starts_at)
    assert any(m.starts_at > now for m in milestones)
    conference = next(m for m in milestones if m.kind == "national_press_conference")
    assert conference.starts_at.astimezone(zone("Europe/Paris")).weekday() == 1  # a Tuesday, as in 2008
    proposed = db.session.scalars(select(Event).where(Event.campaign_id == live.id)).all()
    assert proposed and {e.status for e in proposed} == {"proposed"}
    assert all(e.starts_at.astimezone(zone("Europe/Paris")).date().replace(day=1) == month for e in proposed)
    assert {m.id: (m.status, m.starts_at) for m in old.milestones} == before  # 2008 is history still
    login(make_user("national"))
    page = unescape(client.get("/").get_data(as_text=True))
    assert f"<h1>{live.name}</h1>" in page  # the dashboard opens on the edition in preparation


def test_the_demo_journalists_have_a_city_and_a_civility(runner, client, make_user, login):
    """No demo filter is empty: the city filter finds Montpellier's journalists, greeted by name."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    login(make_user("national"))
    page = unescape(client.get("/contacts?city=montpellier").get_data(as_text=True))
    assert "Roig" in page and "Vidal" in page and "Heuzé" not in page
    roig = db.session.scalar(select(Contact).where(Contact.last_name == "Roig"))
    assert (roig.city, roig.salutation) == ("Montpellier", "Monsieur Roig")
