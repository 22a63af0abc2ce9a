"""Bounces and complaints after the 250: real reports (Postfix's own DSNs, other servers' samples, an ARF
complaint, auto-replies) fed through `flask bounces process`, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from sqlalchemy import select

from bounces.models import BounceEvent
from contacts.models import Contact, Suppression
from contacts.suppression import email_hash
from extensions import db
from mailings.models import Delivery
from mailings.return_path import ReturnPath
from tests.test_delivery import deliveries, send

SAMPLES = Path(__file__).parent / "bounce_samples"


def return_path(app) -> ReturnPath:
    return ReturnPath.configured(app.config)


def sample(name: str, mailing=None, delivery: Delivery | None = None, app=None) -> bytes:
    """A stored report with its placeholders (or the ids of the message Postfix bounced) made ours."""
    raw = (SAMPLES / name).read_bytes()
    if delivery is not None:
        for old in (b"<relais.3.17.abcdef@example.org>", b"<relais.3.18.0badc0ffee@example.org>"):
            raw = raw.replace(old, delivery.message_id.encode())
        for token in (b"5e1c0ffee0", b"77aa00bb11", b"99cc00dd22", b"12ab34cd56", b"aa11bb22cc"):
            raw = raw.replace(
                f"<relais.MAILING.DELIVERY.{token.decode()}@example.org>".encode(), delivery.message_id.encode()
            )
    if delivery is not None and app is not None:  # the tag of the delivery (else: a relay that rewrote it)
        tagged = return_path(app).address(delivery.id).encode()
        for old in (b"bounces+17-0123456789ab@example.org", b"bounces+18-0123456789ab@example.org"):
            raw = raw.replace(old, tagged)
        raw = raw.replace(b"bounces+DELIVERY-SIGNATURE@example.org", tagged)
    if mailing is not None:
        raw = raw.replace(b"X-Relais-Mailing: MAILING", f"X-Relais-Mailing: {mailing.id}".encode())
        raw = raw.replace(b"X-Relais-Mailing: 3\r\n", f"X-Relais-Mailing: {mailing.id}\r\n".encode())
    return raw


def process(runner, tmp_path, raw: bytes, name: str = "report.eml"):
    path = tmp_path / name
    path.write_bytes(raw)
    result = runner.invoke(args=["bounces", "process", str(path)])
    db.session.expire_all()
    return result


def contact(email: str) -> Contact:
    return db.session.scalar(select(Contact).where(Contact.email == email))


def suppression(email: str) -> str | None:
    return db.session.scalar(select(Suppression.reason).where(Suppression.email_hash == email_hash(email)))


def test_each_message_leaves_with_its_own_signed_return_path(bounce_app, smtp_server, sent):
    mailing, by_email = sent("lea@example.org", "marc@example.org")
    received = smtp_server.by_recipient()
    rp = return_path(bounce_app)
    for email, delivery in by_email.items():
        envelope = received[email][0]
        assert envelope.mail_from == rp.address(delivery.id)
        assert envelope.mail_from.startswith(f"bounces+{delivery.id}-") and envelope.mail_from.endswith("@example.org")
        assert envelope.parsed()["X-Relais-Mailing"] == str(mailing.id)
        assert rp.deliveries_in(f"To: {envelope.mail_from}") == [delivery.id]
    lea = by_email["lea@example.org"]
    forged = rp.address(lea.id).replace(f"+{lea.id}-", f"+{by_email['marc@example.org'].id}-")
    assert rp.deliveries_in(f"To: {forged}") == []  # another delivery's id with this one's signature


def test_a_postfix_dsn_bounces_the_delivery_and_suppresses_the_contact(
    bounce_app, runner, tmp_path, sent, make_mailing
):
    mailing, by_email = sent("camille.disparue@mx.relais.test", "nina@example.org")
    delivery = by_email["camille.disparue@mx.relais.test"]
    assert delivery.status == "sent"
    raw = sample("postfix_unknown_user.eml", mailing, delivery, bounce_app)

    result = process(runner, tmp_path, raw)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"hard bounce camille.disparue@mx.relais.test (5.1.1) delivery {delivery.id} of mailing {mailing.id}: "
        "bounced, address suppressed"
    )
    delivery = db.session.get(Delivery, delivery.id)
    assert delivery.status == "bounced"
    assert 'unknown user: "camille.disparue"' in delivery.last_error
    assert contact("camille.disparue@mx.relais.test").bounced
    assert suppression("camille.disparue@mx.relais.test") == "bounced"
    assert db.session.get(Delivery, by_email["nina@example.org"].id).status == "sent"

    again = process(runner, tmp_path, raw)
    assert again.exit_code == 0
    assert again.output.strip().endswith("already processed, nothing changed")
    assert db.session.scalar(select(db.func.count(BounceEvent.id))) == 1

    nxt = send(bounce_app, make_mailing([contact("camille.disparue@mx.relais.test"), contact("nina@example.org")]))
    statuses = {d.email: d.status for d in deliveries(nxt).values()}
    assert statuses == {"camille.disparue@mx.relais.test": "skipped", "nina@example.org": "sent"}


@pytest.mark.parametrize(
    "name, email, status",
    [
        ("gmail_no_such_user.eml", "jdupont@gmail.example", "5.1.1"),
        ("exchange_recipient_not_found.eml", "mcourtois@mairie-exemple.example", "5.1.10"),
        ("qmail_no_mailbox.eml", "s.roux@hebdo-exemple.example", "5.1.1"),
    ],
)
def test_other_servers_hard_bounces_are_matched_without_a_tag(bounce_app, runner, tmp_path, sent, name, email, status):
    """Gmail's and Exchange's DSNs and qmail's text, matched by the recipient and the original Message-ID."""
    mailing, by_email = sent(email)
    delivery = by_email[email]
    raw = sample(name, mailing, delivery)  # no tag: a relay that rewrote the envelope sender
    result = process(runner, tmp_path, raw)
    assert result.exit_code == 0, result.output
    assert f"hard bounce {email} ({status}) delivery {delivery.id} of mailing {mailing.id}" in result.output
    assert db.session.get(Delivery, delivery.id).status == "bounced"
    assert contact(email).bounced and suppression(email) == "bounced"


def test_soft_bounces_count_and_only_repeated_ones_suppress(bounce_app, runner, tmp_path, sent):
    mailing, by_email = sent("redaction@gone.test", "antenne@radio-exemple.example")
    delivery = by_email["redaction@gone.test"]
    first = process(runner, tmp_path, sample("postfix_connection_refused.eml", mailing, delivery, bounce_app))
    assert "soft bounce redaction@gone.test (4.4.1)" in first.output and "counted (1 of 3)" in first.output
    assert db.session.get(Delivery, delivery.id).status == "sent"
    assert not contact("redaction@gone.test").bounced and suppression("redaction@gone.test") is None

    quota = by_email["antenne@radio-exemple.example"]
    exim = sample("exim_quota.eml", mailing, quota)
    assert "counted (1 of 3)" in process(runner, tmp_path, exim).output  # "mailbox is full": soft
    for n in (2, 3):
        again = exim.replace(b"E1KnrTg-0003Xh-Cz@", f"E1KnrTg-00{n}9Xh-Cz@".encode())  # a new report each time
        out = process(runner, tmp_path, again).output
    assert "bounced after 3 soft bounces" in out
    assert contact("antenne@radio-exemple.example").bounced
    assert suppression("antenne@radio-exemple.example") == "bounced"
    assert db.session.get(Delivery, quota.id).status == "bounced"


def test_an_arf_complaint_opts_the_contact_out(bounce_app, runner, tmp_path, sent):
    mailing, by_email = sent("lea.martin@yahoo.example")
    delivery = by_email["lea.martin@yahoo.example"]
    result = process(runner, tmp_path, sample("arf_complaint.eml", mailing, delivery))
    assert result.exit_code == 0
    assert f"complaint lea.martin@yahoo.example delivery {delivery.id} of mailing {mailing.id}" in result.output
    lea = contact("lea.martin@yahoo.example")
    assert lea.opted_out and not lea.bounced
    assert suppression("lea.martin@yahoo.example") == "complaint"
    assert db.session.get(Delivery, delivery.id).status == "sent"  # it arrived: a complaint is no bounce
    event = db.session.scalar(select(BounceEvent))
    assert (event.kind, event.mailing_id, event.delivery_id) == ("complaint", mailing.id, delivery.id)


@pytest.mark.parametrize(
    "name, email",
    [("out_of_office.eml", "p.garnier@quotidien-exemple.example"), ("moved.eml", "t.morel@agence-exemple.example")],
)
def test_auto_replies_are_kept_for_reading_never_taken_for_bounces(bounce_app, runner, tmp_path, sent, name, email):
    mailing, by_email = sent(email)
    result = process(runner, tmp_path, sample(name, mailing, by_email[email]))
    assert result.exit_code == 0
    assert f"auto-reply from {email}" in result.output and "not a bounce, kept for reading" in result.output
    person = contact(email)
    assert not person.bounced and not person.opted_out and suppression(email) is None
    assert db.session.get(Delivery, by_email[email].id).status == "sent"
    event = db.session.scalar(select(BounceEvent))
    assert event.kind == "auto_reply" and event.contact_id == person.id
    assert (
        "absente jusqu'au 20 octobre" if name == "out_of_office.eml" else "thomas.morel@magazine-exemple.example"
    ) in event.diagnostic


def test_a_person_s_reply_and_a_report_for_an_unknown_address_change_nothing(bounce_app, runner, tmp_path, sent):
    mailing, by_email = sent("lea.martin@yahoo.example")
    reply = process(runner, tmp_path, sample("human_reply.eml", mailing, by_email["lea.martin@yahoo.example"]))
    assert reply.exit_code == 0
    assert reply.output.startswith("not a bounce (Re: Invitation")
    unknown = process(runner, tmp_path, sample("qmail_no_mailbox.eml"))  # s.roux is no contact of ours
    assert unknown.exit_code == 0
    assert (
        unknown.output.strip() == "hard bounce s.roux@hebdo-exemple.example (5.1.1): unknown address, nothing changed"
    )
    assert db.session.scalar(select(db.func.count(BounceEvent.id))) == 0
    assert db.session.scalar(select(db.func.count(Suppression.id))) == 0


def test_a_forged_tag_is_not_believed(bounce_app, runner, tmp_path, sent):
    """A DSN naming another delivery's id under a made-up signature: matched by its recipient only."""
    mailing, by_email = sent("camille.disparue@mx.relais.test", "nina@example.org")
    nina = by_email["nina@example.org"]
    raw = sample("postfix_unknown_user.eml").replace(
        b"bounces+17-0123456789ab@example.org", f"bounces+{nina.id}-0123456789ab@example.org".encode()
    )
    result = process(runner, tmp_path, raw)
    assert "camille.disparue@mx.relais.test" in result.output
    assert db.session.get(Delivery, nina.id).status == "sent"
    assert not contact("nina@example.org").bounced


def test_process_reads_standard_input_as_a_pipe_delivers_it(bounce_app, runner, sent):
    mailing, by_email = sent("camille.disparue@mx.relais.test")
    delivery = by_email["camille.disparue@mx.relais.test"]
    raw = sample("postfix_unknown_user.eml", mailing, delivery, bounce_app)
    result = runner.invoke(args=["bounces", "process"], input=raw)
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and "bounced, address suppressed" in result.output
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).status == "bounced"
    assert db.session.scalar(select(BounceEvent.source)) == "pipe"


def test_malformed_input_is_said_and_changes_nothing(bounce_app, runner, tmp_path):
    result = process(runner, tmp_path, b"\x00\xff\xfe garbage that is no mail at all")
    assert result.exit_code == 0
    assert result.output.startswith("not a bounce")
    assert db.session.scalar(select(db.func.count(BounceEvent.id))) == 0


def test_the_pages_show_rates_reports_and_a_warning_past_the_providers_thresholds(
    bounce_app, runner, tmp_path, sent, make_user, login, client, demo_campaign
):
    mailing, by_email = sent("camille.disparue@mx.relais.test", "lea.martin@yahoo.example", "nina@example.org")
    process(
        runner,
        tmp_path,
        sample("postfix_unknown_user.eml", mailing, by_email["camille.disparue@mx.relais.test"], bounce_app),
    )
    process(runner, tmp_path, sample("arf_complaint.eml", mailing, by_email["lea.martin@yahoo.example"]))
    login(make_user("national"))

    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert 'id="bounce-rate">33,33' in page and "(1 / 3)" in page
    assert 'id="complaint-rate">33,33' in page
    assert 'id="bounce-warning"' in page and "0,3 %" in page
    assert 'data-level="over"' in page
    assert "unknown user: &#34;camille.disparue&#34;" in page or 'unknown user: "camille.disparue"' in page
    assert "Plainte (spam)" in page and "Rejet définitif" in page
    assert "bounced after delivery: 5.1.1" in page  # the delivery's own line in the log

    camille = contact("camille.disparue@mx.relais.test")
    detail = client.get(f"/contacts/{camille.id}").get_data(as_text=True)
    assert 'id="contact-bounces"' in detail and "Rejet définitif" in detail and "bounced, address suppressed" in detail

    dashboard = client.get("/").get_data(as_text=True)
    assert 'id="deliverability"' in dashboard
    assert "33,33" in dashboard and 'data-level="over"' in dashboard


def test_a_clean_mailing_shows_no_warning(bounce_app, sent, make_user, login, client):
    mailing, _ = sent("nina@example.org")
    login(make_user("national"))
    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert 'id="bounce-rate">0,00' in page and 'id="bounce-warning"' not in page


def test_erasing_a_contact_forgets_what_the_servers_said_about_them(bounce_app, runner, tmp_path, sent):
    from accounts.models import AuditEntry
    from contacts.services import erase_contact

    mailing, by_email = sent("camille.disparue@mx.relais.test")
    process(
        runner,
        tmp_path,
        sample("postfix_unknown_user.eml", mailing, by_email["camille.disparue@mx.relais.test"], bounce_app),
    )
    erase_contact(None, contact("camille.disparue@mx.relais.test"))
    db.session.commit()
    assert db.session.scalar(select(db.func.count(BounceEvent.id))) == 0
    trail = db.session.scalars(select(AuditEntry.changes).where(AuditEntry.entity == "bounce_events")).all()
    assert trail and all("camille" not in str(changes) for changes in trail)
    assert suppression("camille.disparue@mx.relais.test") == "erased"
    later = sample("postfix_unknown_user.eml", mailing, by_email["camille.disparue@mx.relais.test"], bounce_app)
    later = later.replace(b"20261205063040.B1E2120C1E2@", b"20261206090000.C0FFEE00001@")  # another report
    assert process(runner, tmp_path, later).output.strip().endswith("unknown address, nothing changed")
    assert db.session.scalar(select(db.func.count(BounceEvent.id))) == 0


def test_a_database_that_cannot_be_reached_asks_the_mail_server_to_try_again():
    """Exit 75 (EX_TEMPFAIL): Postfix's pipe keeps the message in its queue instead of losing it."""
    from app import create_app
    from config import TestConfig

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    down = create_app({**config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/relais"})
    result = down.test_cli_runner().invoke(
        args=["bounces", "process"], input=(SAMPLES / "postfix_unknown_user.eml").read_bytes()
    )
    assert result.exit_code == 75, result.output
    assert result.output.startswith("stdin: database unavailable, try again later")
    with down.app_context():
        db.engine.dispose()
