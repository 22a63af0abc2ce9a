"""The gallery of ready templates: one for each step of the playbook, in French, written with the
editor's fields and buttons; a person's copy is theirs (a regional coordinator's, their region's),
and a template about a press conference is not attached to a mailing that has none."""

import html
import re

import pytest
from sqlalchemy import func, select

from campaign.models import Campaign, Milestone
from campaign.services import zone
from contacts.models import Contact
from extensions import db
from mailings import checklist, gallery, services
from mailings.composer import Composer, Recipient
from mailings.models import EmailTemplate, Mailing
from mailings.rendering import date_fr, datetime_fr
from tests.conftest import csrf_from

KEYS = {
    "save_the_date",
    "invitation_national",
    "invitation_regional",
    "reminder",
    "release",
    "press_kit",
    "relay_kit",
    "thanks",
}
EDITOR_FIELDS = re.compile(r"{{\s*(.*?)\s*}}")


def test_the_gallery_covers_each_step_with_the_editors_own_fields_and_buttons(app):
    assert {ready.key for ready in gallery.items()} == KEYS
    names = gallery.labels()
    with app.test_request_context():
        for ready in gallery.items():
            body = gallery.body(ready)
            assert body.startswith('<p class="preheader">'), ready.key
            for found in EDITOR_FIELDS.finditer(re.sub(r'href="[^"]*"', "", body + ready.subject)):
                # every field shown in the text is one the editor's menu inserts: it opens as a labelled chip
                assert found.group(1).replace(" ", "") in names, (ready.key, found.group(1))
            assert "@BASE@" not in body, ready.key
            assert "{%" not in body  # no logic chips: what the person sees is words and fields
    invitation = gallery.body(gallery.get("invitation_regional"))
    assert '<a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a>' in invitation
    assert 'href="{{ rsvp_no_url }}">Je ne pourrai pas venir</a>' in invitation
    for words in ("Date :", "Lieu :", "Accès :", "Contact presse :"):
        assert words in invitation


def demo_people(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "Mois de l'ESS 2008"))
    roig = db.session.scalar(select(Contact).where(Contact.last_name == "Roig"))  # L'Indépendant, Montpellier
    heuze = db.session.scalar(select(Contact).where(Contact.last_name == "Heuzé"))  # Ouest-France
    return campaign, roig, heuze


def test_each_gallery_template_renders_for_real_recipients_of_the_demo(app, runner):
    from accounts.models import User

    campaign, roig, heuze = demo_people(runner)
    lead = db.session.scalar(select(User).where(User.email == "coordination@example.org"))
    tz = zone(campaign.timezone)
    for ready in gallery.items():
        template = gallery.copy(lead, ready.key)
        mailing = services.save_mailing(
            lead,
            None,
            {
                "name": str(ready.name),
                "from_name": "CNCRES — service presse",
                "from_email": "presse@example.org",
                "template_id": template.id,
                "audience": {"contact_ids": [roig.id, heuze.id]},
            },
            campaign=campaign,
        )
        db.session.commit()
        composer = Composer(mailing)
        for person in (roig, heuze):
            message = composer.preview(Recipient.of(person))
            conference = db.session.scalar(
                select(Milestone).where(
                    Milestone.campaign_id == campaign.id,
                    Milestone.kind == "regional_press_conference",
                    Milestone.region_id == person.region_id,
                )
            )
            shown = message["subject"] + message["html"] + message["text"]
            assert "{{" not in shown and "}}" not in shown, ready.key
            assert f"Bonjour {person.first_name}," in message["html"] or ready.key == "release", ready.key
            if "conference" in composer.compiled.names:
                assert date_fr(conference.starts_at.astimezone(tz)) in html.unescape(shown), (ready.key, person)
        items = {item.key: item for item in checklist.run(mailing)}
        assert [i.detail for i in items.values() if i.level == "error"] == [], ready.key
        assert items["preheader"].level == "ok" and items["links"].level == "ok", ready.key
    invitation = db.session.scalar(select(Mailing).where(Mailing.name == "Invitation — conférence de presse régionale"))
    montpellier = Composer(invitation).preview(Recipient.of(roig))
    # Languedoc-Roussillon met the press on 23 October 2008 at 10:00, Club de la Presse, Montpellier
    conference = db.session.scalar(
        select(Milestone).where(
            Milestone.campaign_id == campaign.id,
            Milestone.kind == "regional_press_conference",
            Milestone.region_id == roig.region_id,
        )
    )
    assert datetime_fr(conference.starts_at.astimezone(tz)) == "jeudi 23 octobre 2008 à 10 h"
    assert "jeudi 23 octobre 2008 à 10 h" in montpellier["html"]
    assert "Club de la Presse, Montpellier" in html.unescape(montpellier["html"])
    assert "Je viendrai (http://relais.test/test-link)" in montpellier["text"]


def test_the_templates_page_shows_the_gallery_and_makes_each_person_their_own_copy(
    app, client, login, make_user, demo_campaign
):
    breton = make_user("regional", region="53")
    login(breton)
    page = client.get("/templates")
    text = html.unescape(page.get_data(as_text=True))
    assert "Nouveau modèle depuis la galerie" in text
    assert "Invitation — conférence de presse régionale" in text and "J-10 (entre J-21 et J-7)" in text
    assert "Relance — journalistes sans réponse" in text and "seulement à ceux qui n'ont pas répondu" in text
    # the first words an inbox shows, with the fields in words, never {{ }}
    assert (
        "Conférence de presse le «\u00a0Date et heure de la conférence\u00a0» : le programme en «\u00a0Région\u00a0»"
        in text
    )
    gallery_part = text[text.index('id="gallery"') : text.index("</details>", text.index('id="gallery"'))]
    assert "{{" not in gallery_part

    answer = client.post("/templates/gallery/invitation_regional", data={"csrf_token": csrf_from(text)})
    assert answer.status_code == 302
    copy = db.session.scalar(select(EmailTemplate).order_by(EmailTemplate.id.desc()).limit(1))
    assert answer.headers["Location"].endswith(f"/templates/{copy.id}")
    assert copy.name == "Invitation — conférence de presse régionale — Bretagne"
    assert copy.region_id == breton.region_id
    assert "{{ rsvp_yes_url }}" in copy.html and "http://relais.test/programme?region={{ region.code }}" in copy.html
    opened = html.unescape(client.get(f"/templates/{copy.id}").get_data(as_text=True))
    assert 'id="visual-editor"' in opened and "Votre copie est prête" in opened


def test_a_viewer_sees_no_gallery_button_and_cannot_copy(app, client, login, make_user, demo_campaign):
    login(make_user("viewer"))
    page = client.get("/templates").get_data(as_text=True)
    assert "Nouveau modèle depuis la galerie" not in page
    before = db.session.scalar(select(func.count(EmailTemplate.id)))
    client.post("/templates/gallery/reminder", data={"csrf_token": csrf_from(page)})
    assert db.session.scalar(select(func.count(EmailTemplate.id))) == before


def test_the_gallery_through_the_api(app, api, make_user, demo_campaign):
    lead = make_user("national")
    listed = api(lead).get("/api/v1/templates/gallery")
    assert listed.status_code == 200
    assert {r["key"] for r in listed.get_json()} == KEYS
    made = api(lead).post("/api/v1/templates/gallery/thanks")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["name"] == "Remerciements après la conférence"
    assert api(lead).post("/api/v1/templates/gallery/nothing").status_code == 404
    assert api(make_user("viewer")).post("/api/v1/templates/gallery/thanks").status_code == 403


@pytest.fixture
def no_conference(demo_campaign):
    """The demo campaign with every press conference called off."""
    for milestone in demo_campaign.milestones:
        if milestone.kind.endswith("press_conference"):
            milestone.status = "cancelled"
    db.session.commit()
    return demo_campaign


def test_a_template_about_a_conference_is_not_attached_to_a_mailing_that_has_none(
    app, api, client, login, make_user, make_contact, no_conference
):
    lead = make_user("national")
    invitation = gallery.copy(lead, "invitation_regional")
    relay = gallery.copy(lead, "release")  # speaks of no conference
    db.session.commit()
    person = make_contact(region="53")
    data = {
        "campaign_id": no_conference.id,
        "name": "Invitation",
        "from_name": "CNCRES",
        "from_email": "presse@example.org",
        "template_id": invitation.id,
        "audience": {"contact_ids": [person.id]},
    }
    refused = api(lead).post("/api/v1/mailings", json=data)
    assert refused.status_code == 422
    assert "conférence de presse" in refused.get_json()["error"]["fields"]["template_id"]
    assert db.session.scalar(select(func.count(Mailing.id))) == 0
    assert api(lead).post("/api/v1/mailings", json={**data, "template_id": relay.id}).status_code == 201

    login(lead)
    page = client.get("/mailings").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "name": "Invitation",
        "template_id": invitation.id,
        "from_name": "CNCRES",
        "from_email": "presse@example.org",
        "contact_ids": str(person.id),
        "milestone_id": 0,
    }
    answer = client.post("/mailings", data=form)
    shown = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 200 and "cet envoi n'en a aucune" in shown
    assert db.session.scalar(select(func.count(Mailing.id))) == 1  # only the release's
