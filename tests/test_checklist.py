"""The checklist before sending: read from the message each recipient gets; its errors block
submitting, scheduling and sending (422 naming each), its warnings are shown on the mailing page."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dbtypes import utcnow
from extensions import db
from mailings import checklist
from mailings.hooks import hooks
from mailings.models import Delivery, Mailing
from press.message import PressExtras
from tests.conftest import csrf_from

GREETING = '<p class="preheader">Le programme du Mois, en avant-première.</p><p>Bonjour {{ contact.first_name }},</p>'
LOGO = '<p><img src="https://example.org/logo.png" alt="{{ contact.organisation }}"></p>'
IMMEDIATE = "<p>Pour diffusion immédiate</p>"


def items_of(mailing) -> dict:
    return {item.key: item for item in checklist.run(db.session.get(Mailing, mailing.id))}


def test_an_embargo_contradicted_and_an_image_without_alt_block_sending_with_a_422_naming_them(
    app, api, make_user, make_mailing, make_contact
):
    lead = make_user("national")
    # the logo's alternative text is the outlet's name: empty for a freelance journalist
    freelance = make_contact(region="53", first_name="Nolwenn")
    mailing = make_mailing(
        [freelance],
        subject="Communiqué : le Mois de l'ESS",
        html=IMMEDIATE + GREETING + LOGO,
        user=lead,
        embargo_until=utcnow() + timedelta(days=2),
    )
    for path in ("send-now", "submit"):
        answer = api(lead).post(f"/api/v1/mailings/{mailing.id}/{path}")
        assert answer.status_code == 422, (path, answer.get_json())
        error = answer.get_json()["error"]
        assert set(error["fields"]) == {"embargo", "images"}
        assert "Pour diffusion immédiate" in error["fields"]["embargo"]
        assert "1 image(s) sans texte de remplacement" in error["fields"]["images"]
        assert error["message"].startswith("Envoi bloqué par la liste de vérification")
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == "draft"
    assert db.session.scalar(select(func.count(Delivery.id))) == 0  # nothing frozen, nothing queued
    schedule = api(lead).post(
        f"/api/v1/mailings/{mailing.id}/schedule", json={"send_at": (utcnow() + timedelta(days=3)).isoformat()}
    )
    assert schedule.status_code == 422 and set(schedule.get_json()["error"]["fields"]) == {"embargo", "images"}


def test_a_missing_embargo_line_blocks_sending(app, api, make_user, make_mailing, make_contact, monkeypatch):
    """Relais prints the line itself (press); the checklist reads the message and does not trust
    that: with the line switched off, the mailing cannot leave."""

    class NoLine(PressExtras):
        def __init__(self, composer, mailing):
            super().__init__(composer, mailing)
            self.line = ""

    lead = make_user("national")
    mailing = make_mailing(
        [make_contact(region="53")], html=GREETING, user=lead, embargo_until=utcnow() + timedelta(days=2)
    )
    assert items_of(mailing)["embargo"].level == "ok"  # the line Relais prints opens the message
    extras = hooks().message_extras
    monkeypatch.setattr(hooks(), "message_extras", [NoLine if x is PressExtras else x for x in extras])
    answer = api(lead).post(f"/api/v1/mailings/{mailing.id}/send-now")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {
        "embargo": "Un embargo est fixé mais le message ne porte pas la ligne d'embargo."
    }


def test_a_long_subject_is_a_warning_that_does_not_block(
    app, api, client, login, make_user, make_mailing, make_contact
):
    lead = make_user("national")
    subject = (
        "Invitation : la conférence de presse de lancement du Mois de l'ESS en {{ region.name }}, avec le programme"
    )
    mailing = make_mailing([make_contact(region="93")], subject=subject, html=GREETING, user=lead)
    found = items_of(mailing)
    assert found["subject"].level == "warning" and "caractères" in found["subject"].detail
    assert [i.key for i in found.values() if i.level == "error"] == []

    login(lead)
    page = html.unescape(client.get(f"/mailings/{mailing.id}").get_data(as_text=True))
    assert "Liste de vérification avant l'envoi" in page
    assert "À revoir" in page and "L'objet fait" in page and "bloque" not in page
    send_at = (utcnow() + timedelta(days=1)).isoformat()
    answer = api(lead).post(f"/api/v1/mailings/{mailing.id}/schedule", json={"send_at": send_at, "allow_weekend": True})
    assert answer.status_code == 200 and answer.get_json()["status"] == "scheduled"


def test_the_mailing_page_shows_what_blocks_and_the_buttons_are_refused(
    app, client, login, make_user, make_mailing, make_contact
):
    lead = make_user("national")
    mailing = make_mailing([make_contact(region="53")], html=GREETING + LOGO)
    login(lead)
    page = html.unescape(client.get(f"/mailings/{mailing.id}").get_data(as_text=True))
    assert "1 point bloque l'envoi" in page and "✗ Bloquant" in page
    answer = client.post(
        f"/mailings/{mailing.id}/send_now", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "Envoi bloqué par la liste de vérification" in html.unescape(answer.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == "draft"


def test_local_links_are_fetched_through_the_app_and_dead_ones_block(app, make_user, make_mailing, make_contact):
    body = (
        GREETING
        + '<p><a href="http://relais.test/programme?region={{ region.code }}">Le programme</a> '
        + '<a href="http://relais.test/newsroom/999999">Un communiqué retiré</a> '
        + '<a href="http://relais.test/nulle-part">Une page qui n\'existe pas</a> '
        + '<a href="https://www.example.org/ailleurs">Ailleurs</a></p>'
    )
    mailing = make_mailing([make_contact(region="53")], html=body)
    links = items_of(mailing)["links"]
    assert links.level == "error"
    assert "/newsroom/999999" in links.detail and "/nulle-part" in links.detail
    assert "/programme" not in links.detail  # it answers
    good = make_mailing([make_contact(region="53")], html=GREETING + '<p><a href="https://www.example.org/a">A</a></p>')
    assert "1 lien(s) vers d'autres sites, non vérifié(s)" in items_of(good)["links"].detail


def test_weight_preheader_unsubscribe_and_sender(app, make_user, make_mailing, make_contact):
    heavy = make_mailing([make_contact(region="53")], html=GREETING + "<p>" + "é" * 55_000 + "</p>")
    found = items_of(heavy)
    assert found["weight"].level == "warning" and "102 Ko" in found["weight"].detail
    assert found["preheader"].detail == "Le programme du Mois, en avant-première."
    assert found["unsubscribe"].level == "ok"
    bare = make_mailing([make_contact(region="53")], html="<p>Bonjour {{ contact.first_name }},</p>")
    assert items_of(bare)["preheader"].level == "warning"


@pytest.fixture
def senders_of_regions(app):
    saved = app.config.get("MAIL_SENDERS")
    app.config["MAIL_SENDERS"] = {"national": ["presse@example.org"], "53": ["@cress-bretagne.example"]}
    yield
    app.config["MAIL_SENDERS"] = saved


def test_a_sender_no_longer_allowed_for_the_region_blocks(
    app, api, make_user, make_mailing, make_contact, senders_of_regions
):
    breton = make_user("regional", region="53")
    mailing = make_mailing(
        [make_contact(region="53")], html=GREETING, user=breton, from_email="presse@cress-bretagne.example"
    )
    assert items_of(mailing)["from_email"].level == "ok"
    app.config["MAIL_SENDERS"] = {"national": ["presse@example.org"], "53": ["@cress-bretagne.example.org"]}
    answer = api(breton).post(f"/api/v1/mailings/{mailing.id}/submit")
    assert answer.status_code == 422 and "from_email" in answer.get_json()["error"]["fields"]


def test_a_conference_whose_place_is_not_filled_in_is_a_warning(app, make_mailing, make_contact):
    body = GREETING + "<p>Rendez-vous à {{ conference.venue }}, {{ conference.city }}.</p>"
    # the demo knows the Club de la Presse in Montpellier (91), not PACA's venue (93)
    mailing = make_mailing([make_contact(region="93"), make_contact(region="91")], html=body)
    item = items_of(mailing)["conference"]
    assert item.level == "warning" and "« Conférence de presse — Provence-Alpes-Côte d’Azur »" in item.detail
    assert "Languedoc" not in item.detail
    assert "conference" not in items_of(make_mailing([make_contact(region="93")], html=GREETING))


def test_a_scheduled_mailing_whose_checklist_fails_when_due_is_paused_with_the_reason(
    app, api, make_user, make_mailing, make_contact, senders_of_regions
):
    from mailings.scheduler import dispatch_due

    lead = make_user("national")
    mailing = make_mailing([make_contact(region="53")], html=GREETING, user=lead, from_email="presse@example.org")
    send_at = utcnow() + timedelta(hours=1)
    answer = api(lead).post(
        f"/api/v1/mailings/{mailing.id}/schedule", json={"send_at": send_at.isoformat(), "allow_weekend": True}
    )
    assert answer.status_code == 200, answer.get_json()
    # the federation's sending address changes before the mailing is due
    app.config["MAIL_SENDERS"] = {"national": ["@federation.example"]}
    dispatch_due(send_at + timedelta(seconds=5))
    db.session.expire_all()
    paused = db.session.get(Mailing, mailing.id)
    assert paused.status == "paused" and "presse@example.org" in paused.status_reason
    assert db.session.scalar(select(func.count(Delivery.id))) == 0


def test_the_checklist_through_the_api(app, api, make_user, make_mailing, make_contact):
    lead = make_user("national")
    mailing = make_mailing([make_contact(region="53")], html=GREETING + LOGO, user=lead)
    answer = api(lead).get(f"/api/v1/mailings/{mailing.id}/checklist")
    assert answer.status_code == 200
    body = answer.get_json()
    levels = {item["key"]: item["level"] for item in body["items"]}
    assert body["blocking"] is True and levels["images"] == "error" and levels["subject"] == "ok"
    breton = make_user("regional", region="53")
    theirs = make_mailing([make_contact(region="53")], html=GREETING, user=breton)
    assert api(breton).get(f"/api/v1/mailings/{theirs.id}/checklist").get_json()["blocking"] is False
    other = make_user("regional", region="93")
    assert api(other).get(f"/api/v1/mailings/{theirs.id}/checklist").status_code in (403, 404)


def test_an_answer_button_is_not_an_unsubscribe_link_and_a_line_break_does_not_end_the_preheader():
    source = (
        '<p class="preheader">Le programme <br>en avant-première</p><p>Bonjour</p>'
        '<p><a class="button" href="http://relais.test/test-link">Je viendrai</a></p>'
    )
    page = checklist.Page()
    page.feed(source)
    link = "http://relais.test/test-link"
    message = checklist.Message("Invitation", source, f"Je viendrai ({link})", link)
    assert checklist.check_unsubscribe([message], [page]).level == "error"
    assert checklist.check_preheader([page]).detail == "Le programme en avant-première"
    page.feed(f'<p><a href="{link}">Se désinscrire</a></p>')
    assert checklist.check_unsubscribe([message], [page]).level == "ok"
