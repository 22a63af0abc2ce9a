"""The bounce mailbox read from a real Dovecot over IMAPS and POP3S: only what was processed leaves the
inbox, auto-replies and other mail go to a folder for a person, unreadable reports to another."""

import pytest
from sqlalchemy import select

from app import create_app
from bounces import mailbox
from bounces.models import BounceEvent
from config import TestConfig
from extensions import db
from mailings.models import Delivery
from mailings.return_path import ReturnPath
from tests.test_bounces import contact, sample, suppression


@pytest.fixture
def box_app(bounce_app, dovecot):
    bounce_app.config.update(BOUNCE_MAILBOX=dovecot.url("imaps"), BOUNCE_MAILBOX_CAFILE=str(dovecot.cert))
    yield bounce_app
    bounce_app.config.update(BOUNCE_MAILBOX="", BOUNCE_MAILBOX_CAFILE="")


def broken(raw: bytes) -> bytes:
    """The same DSN after a relay mangled its boundary: the report cannot be found in it."""
    return raw.replace(b'boundary="AFDE520C1B1.1796452240/mx.relais.test"', b'boundary="lost-in-transit"', 1)


def test_imap_processed_reports_leave_the_inbox_the_rest_waits_for_a_person(box_app, dovecot, runner, sent):
    mailing, by_email = sent(
        "camille.disparue@mx.relais.test", "lea.martin@yahoo.example", "p.garnier@quotidien-exemple.example"
    )
    camille, lea = by_email["camille.disparue@mx.relais.test"], by_email["lea.martin@yahoo.example"]
    dsn = sample("postfix_unknown_user.eml", mailing, camille, box_app)
    dovecot.deliver(
        dsn,
        sample("arf_complaint.eml", mailing, lea),
        sample("out_of_office.eml", mailing, by_email["p.garnier@quotidien-exemple.example"]),
        sample("human_reply.eml", mailing, lea),
        broken(dsn),
    )
    result = runner.invoke(args=["bounces", "fetch"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "mailbox: 2 processed, 2 kept for a person, 1 unreadable"
    assert "bounced, address suppressed" in result.output and "could not be processed" in result.output
    db.session.expire_all()
    assert db.session.get(Delivery, camille.id).status == "bounced"
    assert contact("camille.disparue@mx.relais.test").bounced
    assert contact("lea.martin@yahoo.example").opted_out and suppression("lea.martin@yahoo.example") == "complaint"
    assert not contact("p.garnier@quotidien-exemple.example").bounced

    assert dovecot.folder("INBOX") == []
    replies = dovecot.folder("Relais-Replies")
    assert len(replies) == 2 and any(b"absente jusqu'au 20 octobre" in m for m in replies)
    assert any(b"je viendrai avec un photographe" in m for m in replies)
    unreadable = dovecot.folder("Relais-Unreadable")
    assert len(unreadable) == 1 and b"lost-in-transit" in unreadable[0]

    again = runner.invoke(args=["bounces", "fetch"])  # nothing left to read: nothing happens twice
    assert again.output.splitlines()[-1] == "mailbox: 0 processed, 0 kept for a person, 0 unreadable"
    assert db.session.scalar(select(db.func.count(BounceEvent.id))) == 3  # hard, complaint, auto-reply


def test_imap_processed_reports_can_be_kept_in_a_folder(box_app, dovecot, runner, sent):
    box_app.config["BOUNCE_MAILBOX_DONE_FOLDER"] = "Relais-Done"
    try:
        mailing, by_email = sent("camille.disparue@mx.relais.test")
        dovecot.deliver(
            sample("postfix_unknown_user.eml", mailing, by_email["camille.disparue@mx.relais.test"], box_app)
        )
        assert runner.invoke(args=["bounces", "fetch"]).exit_code == 0
        assert dovecot.folder("INBOX") == [] and len(dovecot.folder("Relais-Done")) == 1
    finally:
        box_app.config["BOUNCE_MAILBOX_DONE_FOLDER"] = ""


def test_pop3_deletes_only_what_was_processed(box_app, dovecot, runner, sent):
    box_app.config["BOUNCE_MAILBOX"] = dovecot.url("pop3s", "")
    mailing, by_email = sent("camille.disparue@mx.relais.test", "p.garnier@quotidien-exemple.example")
    dovecot.deliver(
        sample("postfix_unknown_user.eml", mailing, by_email["camille.disparue@mx.relais.test"], box_app),
        sample("out_of_office.eml", mailing, by_email["p.garnier@quotidien-exemple.example"]),
    )
    result = runner.invoke(args=["bounces", "fetch"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "mailbox: 1 processed, 1 kept for a person, 0 unreadable"
    left = dovecot.folder("INBOX")
    assert len(left) == 1 and b"absente jusqu'au 20 octobre" in left[0]
    db.session.expire_all()
    assert contact("camille.disparue@mx.relais.test").bounced


@pytest.mark.parametrize("problem", ["wrong password", "closed port", "not a mailbox url"])
def test_a_mailbox_that_cannot_be_read_is_said_in_one_line_and_changes_nothing(box_app, dovecot, runner, sent, problem):
    mailing, by_email = sent("camille.disparue@mx.relais.test")
    dovecot.deliver(sample("postfix_unknown_user.eml", mailing, by_email["camille.disparue@mx.relais.test"], box_app))
    url = {
        "wrong password": dovecot.url("imaps").replace("boite-des-retours", "wrong"),
        "closed port": dovecot.url("imaps").replace(str(dovecot.imaps), str(dovecot.pop3s + 1000)),
        "not a mailbox url": "https://127.0.0.1/INBOX",
    }[problem]
    box_app.config["BOUNCE_MAILBOX"] = url
    result = runner.invoke(args=["bounces", "fetch"])
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1 and result.output.startswith("mailbox: ")
    assert "boite-des-retours" not in result.output  # the password is never printed
    mailbox.poll(box_app)  # the scheduler's job says it in the log and goes on
    assert len(dovecot.folder("INBOX")) == 1
    db.session.expire_all()
    assert not contact("camille.disparue@mx.relais.test").bounced


def test_the_scheduler_polls_the_mailbox_only_when_one_is_set(app):
    base = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    base["SQLALCHEMY_DATABASE_URI"] = app.config["SQLALCHEMY_DATABASE_URI"]
    without = create_app(base)
    assert mailbox.poll not in [job for job, _seconds in without.extensions["relais.mailings"].periodic_jobs]
    with_box = create_app({**base, "BOUNCE_MAILBOX": "imaps://u:p@127.0.0.1/INBOX", "BOUNCE_MAILBOX_INTERVAL": 180})
    assert (mailbox.poll, 180) in with_box.extensions["relais.mailings"].periodic_jobs  # beside the imports
    for other in (without, with_box):
        with other.app_context():
            db.engine.dispose()


def test_a_message_bounced_by_a_real_postfix_comes_back_through_each_way_in(
    bounce_app, postfix_server, smtp_server, dovecot, runner, make_contact, make_mailing, api, make_user
):
    """Relais sends through Postfix to a local user that does not exist; Postfix accepts it (250), then
    mails its own DSN to the tagged return path. That DSN, through the pipe, the mailbox and the API,
    ends as one bounced delivery and one suppressed contact; the next mailing skips the address."""
    from tests.test_delivery import deliveries, send

    mail = bounce_app.extensions["mail"]
    saved_port = mail.port
    bounce_app.config["MAIL_PORT"] = mail.port = postfix_server.port
    try:
        gone = make_contact(email="camille.disparue@mx.relais.test")
        mailing = send(bounce_app, make_mailing([gone]))
    finally:
        bounce_app.config["MAIL_PORT"] = mail.port = saved_port
    delivery = deliveries(mailing)["camille.disparue@mx.relais.test"]
    assert delivery.status == "sent" and delivery.response.startswith("250")  # accepted: the failure comes later

    dsn = smtp_server.wait_for(lambda m: m.mail_from in ("", "<>"), timeout=30)
    assert dsn.rcpt_tos == [ReturnPath.configured(bounce_app.config).address(delivery.id)]
    report = dsn.parsed()
    assert report.get_content_type() == "multipart/report" and report["From"].startswith("Mail Delivery System")

    piped = runner.invoke(args=["bounces", "process"], input=dsn.data)
    assert piped.exit_code == 0, piped.output
    assert f"delivery {delivery.id} of mailing {mailing.id}: bounced, address suppressed" in piped.output

    bounce_app.config.update(BOUNCE_MAILBOX=dovecot.url("imaps"), BOUNCE_MAILBOX_CAFILE=str(dovecot.cert))
    try:
        dovecot.deliver(dsn.data)
        fetched = runner.invoke(args=["bounces", "fetch"])
    finally:
        bounce_app.config.update(BOUNCE_MAILBOX="", BOUNCE_MAILBOX_CAFILE="")
    assert "already processed, nothing changed" in fetched.output
    assert fetched.output.splitlines()[-1] == "mailbox: 1 processed, 0 kept for a person, 0 unreadable"

    answer = api(make_user("national")).post(
        "/api/v1/bounces",
        json={"email": "camille.disparue@mx.relais.test", "type": "hard", "mailing_id": mailing.id, "reason": "5.1.1"},
    )
    assert answer.status_code == 202 and answer.get_json()["result"].endswith("already bounced")

    db.session.expire_all()
    bounced = db.session.scalars(select(Delivery).where(Delivery.status == "bounced")).all()
    assert [d.id for d in bounced] == [delivery.id]
    assert contact("camille.disparue@mx.relais.test").bounced
    assert suppression("camille.disparue@mx.relais.test") == "bounced"
    nxt = send(bounce_app, make_mailing([contact("camille.disparue@mx.relais.test")]))
    assert [d.status for d in deliveries(nxt).values()] == ["skipped"]
