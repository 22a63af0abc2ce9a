"""The local outbox (RELAIS_MAIL_OUTBOX), the mail server's state in /readyz, and SQLite start-up."""

import os
import subprocess
import sys
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from dbtypes import utcnow
from extensions import db
from mail_outbox import OutboxMessage
from mailings import services
from mailings.engine.worker import Worker
from mailings.models import Delivery, Mailing
from tests.fixtures_mail import ask_for_smtp, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def outbox_app(app):
    """The app with the local outbox on and its SMTP server pointing where nothing listens."""
    saved = {k: app.config.get(k) for k in ("MAIL_OUTBOX", "MAIL_PORT")}
    app.config.update(MAIL_OUTBOX=True, MAIL_PORT=free_port())
    yield app
    app.config.update(saved)


def test_a_mailing_sent_with_the_outbox_on_is_kept_and_shown_as_received(
    outbox_app, make_mailing, make_contact, make_user, login, client
):
    people = [make_contact(region="93", first_name="Aïcha"), make_contact(region="93", first_name="Bruno")]
    mailing = make_mailing(people)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    Worker(outbox_app, connections=1, once=True, idle=0.05).run()
    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).where(Delivery.mailing_id == mailing.id)).all()
    assert {(d.status, d.response) for d in rows} == {("sent", "250 outbox")}
    kept = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(k.recipient for k in kept) == sorted(p.email for p in people)
    received = message_from_bytes(kept[0].data, policy=policy.default)
    assert received["X-Relais-Mailing"] == str(mailing.id) and kept[0].mailing_id == mailing.id
    first_name = "Aïcha" if kept[0].recipient == people[0].email else "Bruno"
    assert f"Bonjour {first_name}," in received.get_body(("html",)).get_content()

    login(make_user("national"))
    listing = client.get("/outbox").get_data(as_text=True)
    assert "envoi (démo)" in listing and people[1].email in listing and "2 messages" in listing
    shown = client.get(f"/outbox/{kept[0].id}").get_data(as_text=True)
    assert f"Bonjour {first_name}," in shown and "srcdoc=" in shown  # the HTML part, in a sandboxed frame
    assert client.get("/outbox/999999").status_code == 404


def test_the_outbox_is_for_national_and_admin_accounts(outbox_app, make_user, login, client):
    login(make_user("regional", region="93"))
    assert client.get("/outbox").status_code == 403


def test_a_test_send_lands_in_the_outbox(outbox_app, make_mailing, make_contact, make_user):
    mailing = make_mailing([make_contact(region="93")])
    result = services.send_test(make_user("national"), mailing, "moi@example.org")
    assert result["response"] == "250 outbox"
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["moi@example.org"]


def test_readyz_reports_the_mail_server(app, client, smtp_server, monkeypatch):
    import mail_outbox as outbox

    monkeypatch.setitem(app.config, "MAIL_PROBE", True)
    app.config["MAIL_OUTBOX"] = True
    try:
        assert client.get("/readyz").get_json()["checks"]["mail"] == "outbox"
    finally:
        app.config["MAIL_OUTBOX"] = False
    saved = app.config["MAIL_PORT"]
    try:
        app.config["MAIL_PORT"] = closed = free_port()
        ask_for_smtp(closed)  # a closed port, on purpose
        assert client.get("/readyz").get_json()["checks"]["mail"] == "unreachable"
        app.config["MAIL_PORT"] = smtp_server.port
        assert outbox.mail_state(fresh=True)[0] == "ok"
        assert client.get("/readyz").get_json()["checks"]["mail"] == "ok"
    finally:
        app.config["MAIL_PORT"] = saved


STARTER = """
import secrets
import sys
from sqlalchemy import text
from app import create_app
from extensions import db
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": secrets.token_urlsafe(48)})
with app.app_context():
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS started (pid INTEGER)"))
        conn.execute(text("INSERT INTO started VALUES (:p)"), {"p": int(sys.argv[2])})
    print(db.session.execute(text("PRAGMA journal_mode")).scalar())
"""


@pytest.mark.engines("sqlite")
def test_processes_starting_together_on_a_fresh_sqlite_file_all_start(database_url, tmp_path):
    """The web process, the scheduler and workers started at once: none dies on the switch to WAL."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, url, str(i)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in starters]
    results = [
        (p.returncode, out.decode().strip(), err.decode()) for p, (out, err) in zip(starters, outputs, strict=True)
    ]
    assert [(code, out) for code, out, _ in results] == [(0, "wal")] * 4, [err for _, _, err in results if err]


def test_the_dashboard_says_where_mail_goes_and_what_to_check(
    app, client, demo_campaign, make_user, login, smtp_server, monkeypatch
):
    from tests.conftest import csrf_from

    monkeypatch.setitem(app.config, "MAIL_PROBE", True)
    login(make_user("national"))
    app.config.update(MAIL_OUTBOX=True)
    try:
        page = client.get("/").get_data(as_text=True)
        assert "Serveur de messagerie" in page and "/outbox" in page
    finally:
        app.config.update(MAIL_OUTBOX=False)
    saved = app.config["MAIL_PORT"]
    try:
        app.config["MAIL_PORT"] = port = free_port()
        ask_for_smtp(port)  # a closed port, on purpose
        page = client.get("/").get_data(as_text=True)
        assert f"127.0.0.1:{port} ne répond pas" in page and "RELAIS_MAIL_SERVER" in page
        app.config["MAIL_PORT"] = smtp_server.port
        tested = client.post("/mail-server/test", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
        assert "Le serveur de messagerie répond." in tested.get_data(as_text=True)
        assert f"127.0.0.1:{smtp_server.port} répond" in tested.get_data(as_text=True)
    finally:
        app.config["MAIL_PORT"] = saved
