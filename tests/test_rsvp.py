"""RSVP by signed link: invitations sent to a real loopback SMTP server, yes, change to no,
tampered and expired links, GET changes nothing, reminders only to those who did not answer."""

from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

from sqlalchemy import select

from dbtypes import utcnow
from extensions import db
from press import conferences
from press.models import Rsvp
from tests.conftest import csrf_from
from tests.test_press_helpers import conference, deliver, links


def invite_region(mail_app, smtp_server, make_contact, make_user, demo_campaign, regions):
    milestone = conference(demo_campaign, regions, "93")
    media = [
        make_contact(email="lea@example.org", first_name="Léa", region="93", kind="media"),
        make_contact(email="marc@example.org", first_name="Marc", region="93", kind="media"),
    ]
    make_contact(email="other-region@example.org", region="91", kind="media")
    make_contact(email="partner@example.org", region="93", kind="partner")
    user = make_user("national")
    mailing = conferences.invite(user, milestone, {"from_email": "presse@example.org", "from_name": "CRESS PACA"})
    db.session.commit()
    assert deliver(mail_app, mailing.id).status == "sent"
    return milestone, media, user


def path_of(url: str) -> str:
    return urlsplit(url).path


def answer(client, url: str):
    page = client.get(path_of(url))
    return client.post(path_of(url), data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_invitation_yes_then_no(mail_app, smtp_server, make_contact, make_user, demo_campaign, regions, client, api):
    milestone, media, user = invite_region(mail_app, smtp_server, make_contact, make_user, demo_campaign, regions)
    received = smtp_server.by_recipient()
    assert set(received) == {"lea@example.org", "marc@example.org"}  # the region's media only
    message = received["lea@example.org"][0]
    assert "Club de la Presse" in message.parsed().get_body(preferencelist=("html",)).get_content()
    yes, no = links(message, "rsvp")
    assert yes.startswith("http://relais.test/rsvp/")

    page = client.get(path_of(yes))
    assert page.status_code == 200
    assert "je serai présent·e" in page.get_data(as_text=True)
    assert db.session.scalar(select(Rsvp.answer).where(Rsvp.contact_id == media[0].id)) is None  # GET changed nothing

    assert answer(client, yes).status_code == 200
    first = db.session.scalar(select(Rsvp).where(Rsvp.contact_id == media[0].id))
    assert (first.answer, first.answered_at is not None) == ("yes", True)

    assert answer(client, no).status_code == 200
    db.session.expire_all()
    rsvps = api(user).get(f"/api/v1/milestones/{milestone.id}/rsvps").get_json()
    assert rsvps["total"] == 2
    by_contact = {r["contact_id"]: r for r in rsvps["items"]}
    assert by_contact[media[0].id]["answer"] == "no" and by_contact[media[0].id]["answered_at"]
    assert by_contact[media[1].id]["answer"] is None and by_contact[media[1].id]["answered_at"] is None


def test_tampered_and_expired_links_change_nothing(
    mail_app, smtp_server, make_contact, make_user, demo_campaign, regions, client
):
    milestone, media, _ = invite_region(mail_app, smtp_server, make_contact, make_user, demo_campaign, regions)
    yes, no = links(smtp_server.by_recipient()["lea@example.org"][0], "rsvp")
    tampered = yes[:-3] + ("AAA" if not yes.endswith("AAA") else "BBB")
    assert client.get(path_of(tampered)).status_code == 404
    forged = yes.replace(f"{media[0].id}.", f"{media[1].id}.", 1)
    assert client.get(path_of(forged)).status_code == 404
    assert answer(client, yes).status_code == 200
    token = csrf_from(client.get(path_of(no)).get_data(as_text=True))

    milestone.starts_at = utcnow() - timedelta(minutes=5)  # the conference has started: links expire
    db.session.commit()
    page = client.get(path_of(no))
    assert "Les réponses sont closes" in page.get_data(as_text=True)
    assert client.post(path_of(no), data={"csrf_token": token}).status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(Rsvp.answer).where(Rsvp.contact_id == media[0].id)) == "yes"
    # a POST without the form's token records nothing either
    milestone.starts_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert client.post(path_of(no)).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(Rsvp.answer).where(Rsvp.contact_id == media[0].id)) == "yes"


def test_reminders_go_only_to_those_who_did_not_answer(
    mail_app, smtp_server, make_contact, make_user, demo_campaign, regions, client
):
    milestone, media, user = invite_region(mail_app, smtp_server, make_contact, make_user, demo_campaign, regions)
    silent = make_contact(email="silent@example.org", region="93", kind="media")
    third = conferences.invite(user, milestone, {"contact_ids": [silent.id], "from_email": "presse@example.org"})
    db.session.commit()
    deliver(mail_app, third.id)
    answer(client, links(smtp_server.by_recipient()["lea@example.org"][0], "rsvp")[0])  # yes
    answer(client, links(smtp_server.by_recipient()["marc@example.org"][0], "rsvp")[1])  # no
    before = len(smtp_server.messages)

    reminder = conferences.remind(user, milestone, {"from_email": "presse@example.org"})
    db.session.commit()
    assert reminder.audience["contact_ids"] == [silent.id]
    deliver(mail_app, reminder.id)
    new = smtp_server.messages[before:]
    assert [m.rcpt_tos for m in new] == [["silent@example.org"]]
    assert new[0].parsed()["Subject"].startswith("Relance")
    assert conferences.summary(milestone) == {"invited": 3, "yes": 1, "no": 1, "maybe": 0, "pending": 1, "came": 0}


def test_a_regional_invitation_waits_for_national_approval(
    mail_app, smtp_server, make_contact, make_user, demo_campaign, regions
):
    from mailings import services

    milestone = conference(demo_campaign, regions, "93")
    for name in ("ana", "bob"):
        make_contact(email=f"{name}@example.org", region="93", kind="media")
    mailing = conferences.invite(make_user("regional", region="93"), milestone, {"from_email": "presse@example.org"})
    db.session.commit()
    assert mailing.status == "submitted" and mailing.milestone_id == milestone.id
    assert conferences.summary(milestone)["invited"] == 0  # nothing sent, nobody invited yet
    national = make_user("national")
    services.transition(national, mailing, "approve")  # asked for "now": approved, it goes at once
    db.session.commit()
    assert mailing.status == "sending"
    deliver(mail_app, mailing.id)
    assert set(smtp_server.by_recipient()) == {"ana@example.org", "bob@example.org"}
    assert conferences.summary(milestone) == {"invited": 2, "yes": 0, "no": 0, "maybe": 0, "pending": 2, "came": 0}


def test_a_double_click_on_the_first_answer_records_it_once(
    mail_app, smtp_server, make_contact, make_user, demo_campaign, regions, client, monkeypatch
):
    """The same answer posted twice at once (a double click): the second finds the row the first
    has just written between its reading of the link and its own insert, and answers over it."""
    milestone, media, _user = invite_region(mail_app, smtp_server, make_contact, make_user, demo_campaign, regions)
    yes, _no = links(smtp_server.by_recipient()["lea@example.org"][0], "rsvp")
    # invited by a mailing tied to the conference (its page, its approval): no answer row before the first answer
    db.session.execute(Rsvp.__table__.delete().where(Rsvp.contact_id == media[0].id))
    db.session.commit()
    page = client.get(path_of(yes))
    read_link = conferences.read_link

    calls = []

    def twin_first(token, now=None):
        link = read_link(token, now)
        calls.append(token)
        if len(calls) == 2:  # as this click records its answer, the twin click's connection commits its own
            with db.engine.begin() as other:
                other.execute(Rsvp.__table__.insert().values(milestone_id=milestone.id, contact_id=media[0].id))
        return link  # still without the twin's row, as read a moment before

    monkeypatch.setattr(conferences, "read_link", twin_first)
    answer = client.post(path_of(yes), data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert answer.status_code == 200 and "merci, c'est noté" in unescape(answer.get_data(as_text=True))
    db.session.expire_all()
    rows = db.session.scalars(select(Rsvp).where(Rsvp.contact_id == media[0].id)).all()
    assert [(r.answer, r.answered_at is not None) for r in rows] == [("yes", True)]
