"""A mail server that cannot be reached is said plainly, where people look, and nothing is lost."""

import socket
import threading

from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine import Worker
from mailings.models import Mailing
from tests.fixtures_mail import ask_for_smtp
from tests.test_delivery import deliveries, send_when_the_server_is_back


def closed_port() -> int:
    """A loopback port where nothing listens, which this test asks to connect to."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ask_for_smtp(port)
    return port


def run_until_said(app, mailing_id: int) -> None:
    """A worker runs until the mailing says why it waits (30 s at most), then is told to stop."""
    worker = Worker(app, connections=2, once=True, idle=0.05)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for _ in range(300):
            db.session.expire_all()
            if db.session.get(Mailing, mailing_id).status_reason:
                break
            db.session.commit()
            threading.Event().wait(0.1)
    finally:
        worker.stop.set()
        thread.join(15)


def test_an_unreachable_server_is_said_on_the_mailing_and_the_dashboard(
    mail_app, smtp_server, make_contact, make_mailing, make_user, client, login, monkeypatch
):
    people = [make_contact(email=f"attente{i}@example.org") for i in range(5)]
    mailing = make_mailing(people)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    port = closed_port()
    monkeypatch.setattr(mail_app.extensions["mail"], "port", port)
    run_until_said(mail_app, mailing.id)

    db.session.expire_all()
    waiting = db.session.get(Mailing, mailing.id)
    assert waiting.status == "sending"
    reason = waiting.status_reason
    assert f"Le serveur d'envoi 127.0.0.1:{port} est injoignable" in reason
    assert "connexion refusée" in reason and "RELAIS_MAIL_SERVER" in reason and "RELAIS_MAIL_PORT" in reason
    assert "Prochain essai à" in reason and "DATA" not in reason and "Connection refused" not in reason
    tried = [d for d in deliveries(waiting).values() if d.status == "retry"]
    assert tried and all(d.attempts == 0 for d in tried)  # nothing was handed over: no try is used up
    assert all("injoignable" in d.last_error for d in tried)
    assert all(d.status in ("pending", "retry") for d in deliveries(waiting).values())

    login(make_user("national"))
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert f"127.0.0.1:{port} est injoignable" in page and "RELAIS_MAIL_PORT" in page
    assert "connection lost" not in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "Envois à surveiller" in dashboard and f"127.0.0.1:{port} est injoignable" in dashboard

    done = send_when_the_server_is_back(mail_app, smtp_server, waiting, monkeypatch)
    assert done.status == "sent" and done.status_reason == ""
    assert {a: len(got) for a, got in smtp_server.by_recipient().items()} == {p.email: 1 for p in people}
    assert "Envois à surveiller" not in client.get("/").get_data(as_text=True)


def test_a_test_send_to_an_unreachable_server_says_what_to_check(
    mail_app, make_contact, make_mailing, api, make_user, monkeypatch
):
    mailing = make_mailing([make_contact()])
    port = closed_port()
    monkeypatch.setattr(mail_app.extensions["mail"], "port", port)
    answer = api(make_user("national")).post(f"/api/v1/mailings/{mailing.id}/test", json={"email": "moi@example.org"})
    assert answer.status_code == 422
    message = answer.get_json()["error"]["message"]
    assert message.startswith("Le message d'essai n'est pas parti : Le serveur d'envoi")
    assert f"127.0.0.1:{port}" in message and "RELAIS_MAIL_SERVER" in message
