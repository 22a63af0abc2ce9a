"""Preview = send: the preview and the test are written by the code that sends, for real recipients,
with each one's own conference; a mailing warns when recipients read different conferences and
refuses to start when some would read none."""

import html
import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from mailings import services
from mailings.composer import Composer, Recipient
from mailings.engine.worker import Worker
from mailings.models import Mailing
from mailings.rendering import date_fr
from tests.conftest import csrf_from
from tests.test_press_helpers import regional_conference, two_conference_dates


def local_date(campaign, milestone) -> str:
    from campaign.services import zone

    return date_fr(milestone.starts_at.astimezone(zone(campaign.timezone)))


PERSONAL_LINK = re.compile(r"http://relais\.test/(?:rsvp|unsubscribe|relay|preferences)/[^\"\s<>)]*")


def lines(text: str, test_links: bool = False) -> list[str]:
    """A part's lines (the wire ends them with CRLF, as SMTP wants; the preview with LF). With
    `test_links`, the personal links a recipient gets read as the test page a preview shows instead."""
    if test_links:
        text = PERSONAL_LINK.sub("http://relais.test/test-link", text)
    return text.replace("\r\n", "\n").split("\n")


def test_preview_and_send_give_each_recipient_the_same_message(mail_app, smtp_server, make_mailing, make_contact):
    people = [make_contact(region="93", first_name="Aïcha"), make_contact(region="53", first_name="Bruno")]
    mailing = make_mailing(people)
    previews = {p.email: Composer(mailing).preview(Recipient.of(p)) for p in people}
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    Worker(mail_app, connections=1, once=True, idle=0.05).run()
    received = {m.rcpt_tos[0]: message_from_bytes(m.data, policy=policy.default) for m in smtp_server.messages}
    assert set(received) == set(previews)
    for email, preview in previews.items():
        message = received[email]
        assert message["Subject"] == preview["subject"]
        # the same message, but for the links that act for the person: a preview's record nothing
        assert lines(message.get_body(("html",)).get_content(), test_links=True) == lines(preview["html"])
        assert lines(message.get_body(("plain",)).get_content(), test_links=True) == lines(preview["text"])


def test_the_mailing_page_previews_real_recipients_with_their_own_conference(
    app, client, login, make_user, make_mailing, make_contact, demo_campaign, mail_app, smtp_server
):
    paca, bzh = two_conference_dates(demo_campaign)  # two regions, two dates
    aicha = make_contact(region="93", first_name="Aïcha", last_name="Zerrouki")
    bruno = make_contact(region="53", first_name="Bruno", last_name="Le Gall")
    mailing = make_mailing([aicha, bruno])
    login(make_user("national"))

    page = client.get(f"/mailings/{mailing.id}").get_data(as_text=True)
    assert "ne recevront pas tous la même conférence" in page
    assert paca.title in page and bzh.title in page and page.count("1 destinataire") == 2
    first = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert "Bonjour Bruno," in first  # the first recipient by region order, a real one
    assert local_date(demo_campaign, bzh) in first

    other = client.get(f"/mailings/{mailing.id}?preview={aicha.id}").get_data(as_text=True)
    shown = html.unescape(re.search(r'srcdoc="([^"]*)"', other).group(1))
    assert "Bonjour Aïcha," in shown and local_date(demo_campaign, paca) in shown

    sent = client.post(
        f"/mailings/{mailing.id}/test",
        data={"csrf_token": csrf_from(other), "email": "moi@example.org", "contact_id": aicha.id},
        follow_redirects=True,
    )
    assert "Test envoyé à moi@example.org" in sent.get_data(as_text=True)
    message = message_from_bytes(smtp_server.messages[-1].data, policy=policy.default)
    assert smtp_server.messages[-1].rcpt_tos == ["moi@example.org"]
    assert message.get_body(("html",)).get_content().count("Bonjour Aïcha,") == 1
    assert local_date(demo_campaign, paca) in message.get_body(("html",)).get_content()


def test_a_mailing_about_a_conference_some_recipients_lack_does_not_start(
    app, make_user, make_mailing, make_contact, demo_campaign
):
    for m in demo_campaign.milestones:
        if m.kind == "national_press_conference" or (m.region and m.region.code == "93" and "conf" in m.kind):
            m.status = "cancelled"
    db.session.commit()
    mailing = make_mailing([make_contact(region="93"), make_contact(region="53")])
    with pytest.raises(ValidationFailed) as refused:
        services.transition(make_user("national"), db.session.get(Mailing, mailing.id), "send_now")
    assert "1 destinataire(s) n'auraient aucune conférence" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(Mailing.status).where(Mailing.id == mailing.id)) == "draft"


def test_the_reminder_leaves_from_the_invitation_s_sender_and_reads_well(
    mail_app, smtp_server, make_user, make_contact, demo_campaign, monkeypatch
):
    from datetime import timedelta

    from flask import current_app

    from press import conferences as press

    milestone = regional_conference(demo_campaign, "53")
    milestone.venue, milestone.city = "Maison de l'ESS", "Rennes"
    db.session.commit()
    make_contact(region="53", first_name="Bruno")
    # the lead sends the invitation (a national mailing) as the chamber: an identity the federation configured
    senders = {"national": ["@example.org", "presse@cress-bretagne.example.org"]}
    monkeypatch.setitem(current_app.config, "MAIL_SENDERS", senders)
    lead = make_user("national")
    before = milestone.starts_at - timedelta(days=10)
    invitation = press.invite(
        lead, milestone, {"from_name": "CRESS Bretagne", "from_email": "presse@cress-bretagne.example.org"}, before
    )
    reminder = press.remind(lead, milestone, {}, milestone.starts_at - timedelta(days=2))
    db.session.commit()
    assert (reminder.from_name, reminder.from_email) == ("CRESS Bretagne", "presse@cress-bretagne.example.org")
    preview = Composer(invitation).preview(Recipient(None, "x@example.org", "Bruno", "", "media", "", None))
    body = preview["html"]
    assert "notre conférence de presse du <strong>" in body and " h" in body.split("<strong>", 1)[1][:60]
    assert "Maison de l&#39;ESS à Rennes" in body or "Maison de l'ESS à Rennes" in body
    assert milestone.title not in body  # the title names the subject, not a sentence
