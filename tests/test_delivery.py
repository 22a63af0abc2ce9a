"""The delivery engine against a real SMTP server on loopback, on SQLite and PostgreSQL."""

import hashlib
import re
import threading
from datetime import timedelta
from email.utils import parseaddr

import pytest
from sqlalchemy import delete, select, update

from contacts.models import Contact, Suppression
from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine.deliveries import counts
from mailings.engine.recovery import new_worker_row
from mailings.engine.worker import Worker
from mailings.models import Delivery, DeliveryWorker, Mailing
from tests.fixtures_mail import ask_for_smtp


def send_when_the_server_is_back(app, smtp_server, mailing, monkeypatch):
    """The mail server answers again: the retries fall due now and one worker sends what waited."""
    monkeypatch.setattr(app.extensions["mail"], "port", smtp_server.port)
    db.session.execute(
        update(Delivery)
        .where(Delivery.mailing_id == mailing.id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    return send(app, mailing)


def send(app, mailing, user=None, connections: int = 1):
    """Start the mailing and run one worker until nothing is left."""
    mailing = db.session.get(Mailing, mailing.id)
    if mailing.status != "sending":
        services.start(mailing, utcnow())
        db.session.commit()
    Worker(app, connections=connections, once=True, idle=0.05).run()
    db.session.expire_all()
    return db.session.get(Mailing, mailing.id)


def run_then_stop(app, seconds: float) -> None:
    """A worker of two connections runs for `seconds`, then is told to stop, as on a shutdown."""
    worker = Worker(app, connections=2, once=True, idle=0.05)
    thread = threading.Thread(target=worker.run)
    thread.start()
    threading.Event().wait(seconds)
    worker.stop.set()
    thread.join(15)


def deliveries(mailing) -> dict[str, Delivery]:
    return {d.email: d for d in db.session.scalars(select(Delivery).where(Delivery.mailing_id == mailing.id))}


def check_format(message, mailing, email_address: str, base: str = "http://relais.test"):
    """The contract's email format, read back with the standard library."""
    assert message.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p for p in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    for part in parts.values():
        assert part.get_content_charset() == "utf-8"
    assert parseaddr(message["To"])[1] == email_address
    assert message["From"] and message["Reply-To"] and message["Date"]
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message["Message-ID"])
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{base}/unsubscribe/") and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Relais-Mailing"] == str(mailing.id)
    url = unsubscribe[1:-1]
    assert url in parts["text/plain"].get_content()
    assert url in parts["text/html"].get_content()
    return parts


def test_each_recipient_gets_one_personal_message(mail_app, smtp_server, make_contact, make_mailing, regions):
    people = [
        make_contact(email="lea@example.org", first_name="Léa", last_name="Müller", region="93"),
        make_contact(email="marc@example.org", first_name="Marc", last_name="Aubry", region="91"),
        make_contact(email="nina@example.org", first_name="Nina", last_name="Kaci"),
    ]
    mailing = make_mailing(people)
    mailing = send(mail_app, mailing)
    assert mailing.status == "sent"
    assert counts(mailing.id)["sent"] == 3
    received = smtp_server.by_recipient()
    assert {k: len(v) for k, v in received.items()} == {p.email: 1 for p in people}
    ids = set()
    for person in people:
        message = received[person.email][0].parsed()
        parts = check_format(message, mailing, person.email)
        ids.add(message["Message-ID"])
        assert f"Bonjour {person.first_name}," in parts["text/html"].get_content()
        assert f"Bonjour {person.first_name}," in parts["text/plain"].get_content()
        assert message["From"] == "CRESS Provence-Alpes-Côte d'Azur <presse@example.org>"
        assert message["Reply-To"] == "contact@example.org"
    assert len(ids) == 3
    lea = received["lea@example.org"][0].parsed()
    assert lea["Subject"].startswith("Invitation : Conférence de presse")
    assert lea["Subject"].endswith(f"— {regions['93'].name}")
    assert received["marc@example.org"][0].parsed()["Subject"].endswith(f"— {regions['91'].name}")
    assert "=?utf-8?" in received["lea@example.org"][0].data.decode("ascii").split("Subject: ", 1)[1].split("\r\n")[0]
    marc = received["marc@example.org"][0].parsed().get_body(("plain",)).get_content()
    assert "jeudi 23 octobre 2008 à Montpellier" in marc  # Languedoc-Roussillon's own conference
    for d in deliveries(mailing).values():
        assert d.status == "sent" and d.attempts == 1 and d.sent_at and d.response.startswith("250")


def test_a_layout_encoded_once_gives_the_bytes_of_the_whole_part_encoded():
    from mailings.message import QuotedLayout, qp

    layout = (
        '<p style="color:#0b6e4f">Mois de l’ESS 2008 ' + "très long " * 12 + "</p>  \r\n"
        "<p>"
        + "Le Mois de l’ESS, " * 2
        + "\u2028<td style='padding:24px;'>BODY</td>\n\n\tfin =\tUNSUB et UNSUB\n"
        + "é" * 80
        + "\n</html>"
    )
    values = {
        "BODY": "Bonjour Léa, une première ligne longue,\n"
        + "une ligne de plus de soixante-seize caractères, " * 3
        + " \n",
        "UNSUB": "https://x/u/1.2",
    }
    whole = layout
    for mark, value in values.items():
        whole = whole.replace(mark, value)
    assert QuotedLayout(layout, ("BODY", "UNSUB")).encode(values) == qp(whole)


def test_long_accented_names_and_lines_arrive_as_the_preview_shows_them(
    mail_app, smtp_server, make_contact, make_mailing
):
    from mailings.composer import Composer, Recipient

    person = make_contact(
        email="marie@example.org",
        first_name="Marie-Éléonore-Bérénice",
        last_name="de La Fère-Champenoise-Désirée",
        region="93",
    )
    html = (
        "<p>Bonjour {{ contact.first_name }},</p>\n<p>"
        + "Économie sociale et solidaire, égalité = énergie ; " * 6
        + "</p>   \n<p>\tfin\t</p>"
    )
    mailing = make_mailing([person], subject="Été {{ contact.full_name }} — « {{ campaign.name }} »", html=html)
    mailing = send(mail_app, mailing)
    [got] = smtp_server.by_recipient()[person.email]
    message = got.parsed()
    parts = check_format(message, mailing, person.email)
    assert parseaddr(message["To"]) == ("Marie-Éléonore-Bérénice de La Fère-Champenoise-Désirée", person.email)
    assert message["Subject"].startswith("Été Marie-Éléonore-Bérénice de La Fère-Champenoise-Désirée — « ")
    assert max(len(line) for line in got.data.split(b"\r\n")) <= 998
    preview = Composer(mailing).preview(Recipient.of(db.session.get(Contact, person.id)))
    live = message["List-Unsubscribe"].strip("<>")  # a preview signs no live link: it shows the test page's
    for kind in ("text/html", "text/plain"):
        sent = parts[kind].get_content().replace("\r\n", "\n").replace(live, "http://relais.test/test-link")
        sent = sent.replace(live.replace("/unsubscribe/", "/preferences/"), "http://relais.test/test-link")
        assert sent == preview[kind.split("/")[1].replace("plain", "text")]


def test_the_workers_of_one_host_share_its_connections(mail_app, smtp_server, many_contacts, make_mailing):
    """Unless RELAIS_MAIL_CONNECTIONS says otherwise, a host's workers share two SMTP connections
    per core: alone, a worker sends over several at once; beside as many workers as that, over one."""
    from mailings.engine.database import host_cores
    from mailings.engine.locks import LOCK_CLASS, SessionLock
    from mailings.engine.worker import HOST_CONNECTIONS_PER_CORE

    smtp_server.handler.every_message_delay = 0.01
    send(mail_app, make_mailing(many_contacts(120, "seul")), connections=None)
    assert smtp_server.handler.most_at_once >= 2

    smtp_server.handler.most_at_once = 0
    locks = []
    with db.engine.connect() as conn:
        others = [new_worker_row(conn) for _ in range(HOST_CONNECTIONS_PER_CORE * host_cores() - 1)]
        conn.commit()
    if db.engine.dialect.name == "postgresql":  # alive: each holds its advisory lock
        locks = [SessionLock(LOCK_CLASS, worker_id) for worker_id in others]
        assert all(lock.try_take() for lock in locks)
    try:
        mailing = send(mail_app, make_mailing(many_contacts(120, "voisin")), connections=None)
        assert mailing.status == "sent"
        assert smtp_server.handler.most_at_once == 1
        mailing = send(mail_app, make_mailing(many_contacts(120, "choisi")), connections=2)  # set: its own
        assert smtp_server.handler.most_at_once == 2

        # A running worker takes more connections within seconds once the others are gone.
        smtp_server.handler.most_at_once, smtp_server.handler.every_message_delay = 0, 0.03
        mailing = make_mailing(many_contacts(150, "ensuite"))
        services.start(db.session.get(Mailing, mailing.id), utcnow())
        db.session.commit()
        worker = Worker(mail_app, idle=0.05, batch=10)
        thread = threading.Thread(target=worker.run)
        thread.start()
        try:
            for _ in range(400):
                if len(smtp_server.by_recipient()) >= 370:  # 120 + 120 + 120 before, and ten of these
                    break
                threading.Event().wait(0.05)
            assert smtp_server.handler.most_at_once == 1
            for lock in locks:
                lock.release()
            db.session.execute(delete(DeliveryWorker).where(DeliveryWorker.id.in_(others)))
            db.session.commit()
            for _ in range(300):
                if counts(mailing.id)["sent"] == 150:
                    break
                threading.Event().wait(0.05)
                db.session.rollback()
        finally:
            worker.stop.set()
            thread.join(15)
        assert counts(mailing.id)["sent"] == 150
        assert smtp_server.handler.most_at_once >= 2
        assert all(len(messages) == 1 for messages in smtp_server.by_recipient().values())
    finally:
        for lock in locks:
            lock.release()
        db.session.execute(delete(DeliveryWorker).where(DeliveryWorker.id.in_(others)))
        db.session.commit()


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "step-by-step"])
def test_server_answers_decide_each_delivery(mail_app, smtp_server, make_contact, make_mailing, pipelining):
    smtp_server.handler.pipelining = pipelining
    plans = {
        "ok@example.org": ("250",),
        "later@example.org": ("451", "250"),
        "closing@example.org": ("421", "250"),
        "cut@example.org": ("drop-before-dot", "250"),
        "gone@example.org": ("550 5.1.1",),
        "doubt@example.org": ("drop-after-dot", "250"),
        "slow@example.org": ("slow",),
        "refused@example.org": ("reject-data",),
        "next@example.org": ("250",),
    }
    people = [make_contact(email=address) for address in plans]
    for address, plan in plans.items():
        smtp_server.behave(address, *plan)
    mailing = send(mail_app, make_mailing(people))
    found = deliveries(mailing)
    assert {k: d.status for k, d in found.items()} == {
        "ok@example.org": "sent",
        "later@example.org": "sent",
        "closing@example.org": "sent",
        "cut@example.org": "sent",
        "gone@example.org": "bounced",
        "doubt@example.org": "unknown",
        "slow@example.org": "sent",
        "refused@example.org": "failed",
        "next@example.org": "sent",  # the connection was reset after the refusal
    }
    assert found["later@example.org"].attempts == 2
    assert "550 5.1.1" in found["gone@example.org"].last_error
    received = smtp_server.by_recipient()
    assert {k: len(v) for k, v in received.items()} == {
        "ok@example.org": 1,
        "later@example.org": 1,
        "closing@example.org": 1,
        "cut@example.org": 1,
        "doubt@example.org": 1,  # it arrived, but we cannot know: never resent automatically
        "slow@example.org": 1,
        "next@example.org": 1,
    }
    gone = db.session.scalar(select(Contact).where(Contact.email == "gone@example.org"))
    assert gone.bounced
    digest = hashlib.sha256(b"gone@example.org").hexdigest()
    assert db.session.scalar(select(Suppression.reason).where(Suppression.email_hash == digest)) == "bounced"
    assert mailing.status == "sent"


def test_sender_rejection_pauses_the_mailing_and_says_why(mail_app, smtp_server, make_contact, make_mailing):
    people = [make_contact(email=f"p{i}@example.org") for i in range(4)]
    smtp_server.behave("p1@example.org", "550 5.7.1", "250")
    mailing = send(mail_app, make_mailing(people))
    assert mailing.status == "paused"
    assert "5.7.1" in mailing.status_reason
    stats = counts(mailing.id)
    assert stats["sent"] == 1 and stats["retry"] == 1 and stats["pending"] == 2
    user_mailing = db.session.get(Mailing, mailing.id)
    services.transition(user_mailing.created_by, user_mailing, "resume")
    db.session.commit()
    mailing = send(mail_app, mailing)
    assert mailing.status == "sent"
    assert {k: len(v) for k, v in smtp_server.by_recipient().items()} == {p.email: 1 for p in people}


def test_unreachable_addresses_are_skipped(mail_app, smtp_server, make_contact, make_mailing):
    ok = make_contact(email="ok@example.org")
    out = make_contact(email="out@example.org", opted_out=True)
    bounced = make_contact(email="bounced@example.org", bounced=True)
    listed = make_contact(email="listed@example.org")
    mailing = make_mailing([ok, out, bounced, listed])
    db.session.add(Suppression(email_hash=hashlib.sha256(b"listed@example.org").hexdigest(), reason="erased"))
    db.session.commit()
    mailing = send(mail_app, mailing)
    found = deliveries(mailing)
    assert {k: d.status for k, d in found.items()} == {
        "ok@example.org": "sent",
        "out@example.org": "skipped",
        "bounced@example.org": "skipped",
        "listed@example.org": "skipped",
    }
    assert list(smtp_server.by_recipient()) == ["ok@example.org"]


def test_retry_failed_only_resends_to_the_failed(mail_app, smtp_server, make_contact, make_mailing):
    mail_app.config["MAIL_RETRY_DELAYS"] = (0,)
    a, b = make_contact(email="a@example.org"), make_contact(email="b@example.org")
    smtp_server.behave("b@example.org", "451", "451", "250")
    mailing = send(mail_app, make_mailing([a, b]))
    assert {d.email: d.status for d in deliveries(mailing).values()} == {
        "a@example.org": "sent",
        "b@example.org": "failed",
    }
    services.transition(mailing.created_by, mailing, "retry_failed")
    db.session.commit()
    mailing = send(mail_app, mailing)
    assert mailing.status == "sent"
    assert {k: len(v) for k, v in smtp_server.by_recipient().items()} == {"a@example.org": 1, "b@example.org": 1}


def test_an_unreachable_smtp_server_is_waited_for_not_a_reason_to_pause(
    mail_app, smtp_server, make_contact, make_mailing, monkeypatch
):
    import socket

    people = [make_contact(email=f"attente{i}@example.org") for i in range(30)]
    mailing = make_mailing(people)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    ask_for_smtp(closed)  # a server that is away, on purpose
    monkeypatch.setattr(mail_app.extensions["mail"], "port", closed)
    monkeypatch.setitem(mail_app.config, "MAIL_ERROR_STREAK", 3)
    run_then_stop(mail_app, seconds=2.0)
    db.session.expire_all()
    waiting = db.session.get(Mailing, mailing.id)
    assert waiting.status == "sending"  # not paused: nobody refused anything, the server was away
    statuses = {d.status for d in deliveries(waiting).values()}
    assert statuses <= {"pending", "retry"} and "retry" in statuses
    done = send_when_the_server_is_back(mail_app, smtp_server, waiting, monkeypatch)
    assert done.status == "sent"
    received = smtp_server.by_recipient()
    assert {address: len(got) for address, got in received.items()} == {p.email: 1 for p in people}  # exactly once


def test_an_envelope_sent_ahead_is_completed_only_for_its_own_recipient(mail_app, smtp_server):
    from mail_transport import SmtpChannel

    message = b"Subject: essai\r\nTo: x@example.org\r\n\r\nBonjour.\r\n"
    sender = "presse@example.org"
    with mail_app.app_context():
        channel = SmtpChannel()
        channel.begin(sender, "premier@example.org")
        assert channel.finish(message, then=(sender, "deuxieme@example.org")).status == "sent"
        channel.begin(sender, "deuxieme@example.org")  # its envelope already left with the first one's dot
        assert channel.finish(message, then=(sender, "annule@example.org")).status == "sent"
        channel.begin(sender, "autre@example.org")  # plans changed: the open transaction is dropped, not completed
        assert channel.finish(message, then=(sender, "abandonne@example.org")).status == "sent"
        channel.close()  # stopping with an envelope ahead: nothing more arrives
    received = smtp_server.by_recipient()
    assert {address: len(got) for address, got in received.items()} == {
        "premier@example.org": 1,
        "deuxieme@example.org": 1,
        "autre@example.org": 1,
    }


SENDER_NAMES = [
    "Chambre régionale de l'économie sociale et solidaire de Provence-Alpes-Côte d’Azur",
    "Service presse — Mois de l'Économie Sociale et Solidaire",
    "Chambre régionale de l'économie sociale et solidaire d'Auvergne-Rhône-Alpes, service presse",
    'CRESS "Grand Est" (presse) <relations@presse>, équipe',
    "Simple ASCII sender name that is quite long, longer than one encoded word would be",
]


@pytest.mark.parametrize("name", SENDER_NAMES)
def test_long_sender_names_arrive_on_crlf_lines_and_read_back_exactly(
    mail_app, smtp_server, make_contact, make_mailing, name
):
    """A chamber's full name as sender, recipient and subject: CRLF only, encoded words of 75
    characters at most, cut between characters, and each name read back exactly as written."""
    from tests.readers import display_name

    person = make_contact(email="lea@example.org", first_name=name, last_name="", region="93")
    mailing = make_mailing(
        [person], subject=name + " — {{ contact.first_name }}", from_name=name, reply_to="presse@example.org"
    )
    send(mail_app, mailing)
    [got] = smtp_server.by_recipient()[person.email]
    message = got.parsed()  # strict: bare LF, long encoded words and header defects raise
    assert display_name(message, "From") == name
    assert message["From"].addresses[0].addr_spec == "presse@example.org"
    assert display_name(message, "To") == name
    assert message["Subject"] == f"{name} — {name}"
    assert message["Reply-To"].addresses[0].addr_spec == "presse@example.org"


def test_claims_made_under_an_identity_already_recovered_go_back_to_the_pool(mail_app, make_contact, make_mailing):
    """A worker declared dead can claim once more before it learns so: those claims name a worker
    row that no longer exists. The next recovery frees them (the one being handed over is in doubt),
    so a mailing never waits forever for a worker that is gone."""
    from sqlalchemy import update

    from mailings.engine.recovery import recover

    mailing = make_mailing([make_contact(email=f"orphelin{i}@example.org") for i in range(3)])
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    ids = db.session.scalars(select(Delivery.id).where(Delivery.mailing_id == mailing.id).order_by(Delivery.id)).all()
    gone = 4242  # no such worker row
    db.session.execute(update(Delivery).where(Delivery.id.in_(ids[:2])).values(worker_id=gone))
    db.session.execute(update(Delivery).where(Delivery.id == ids[1]).values(status="sending"))
    db.session.commit()
    with db.engine.connect() as conn:
        assert recover(conn) == 1
    db.session.expire_all()
    rows = {
        d.id: (d.status, d.worker_id)
        for d in db.session.scalars(select(Delivery).where(Delivery.mailing_id == mailing.id))
    }
    assert rows == {ids[0]: ("pending", None), ids[1]: ("unknown", None), ids[2]: ("pending", None)}
