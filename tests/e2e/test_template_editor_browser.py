"""In Chromium, on a desktop and on a 390 px phone: an invitation written without typing HTML
(fields and an answer button from the menus), previewed for two real recipients of two regions
(each sees their own conference date), sent as a test and read back with the std `email` package."""

import html
import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from campaign.services import zone
from extensions import db
from mailings import services
from mailings.models import EmailTemplate
from mailings.rendering import date_fr
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits
from tests.test_press_helpers import two_conference_dates


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_an_invitation_written_without_html_previewed_for_two_regions_and_sent_as_a_test(
    width,
    page,
    live_server,
    browser_login,
    make_user,
    make_contact,
    demo_campaign,
    mail_app,
    smtp_server,
    console_errors,
    artifacts,
):
    paca, bzh = two_conference_dates(demo_campaign)  # two regions, two dates
    tz = zone(demo_campaign.timezone)
    aicha = make_contact(region="93", first_name="Aïcha", last_name="Zerrouki")
    bruno = make_contact(region="53", first_name="Bruno", last_name="Le Gall")
    lead = make_user("national")
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(10_000)
    browser_login(lead, PASSWORD)

    page.goto(f"{live_server}/templates")
    page.get_by_text("Nouveau modèle", exact=True).click()
    page.locator("#name").fill("Invitation régionale")
    page.get_by_label("Objet du message").fill("Invitation presse")
    area = page.get_by_role("textbox", name="Corps du message")
    area.click()
    page.keyboard.type("Bonjour ")
    page.get_by_text("Insérer un champ").click()
    page.get_by_role("button", name="Prénom", exact=True).click()
    page.keyboard.type(",")
    page.keyboard.press("Enter")
    page.keyboard.type("Nous vous invitons à notre conférence de presse le ")
    page.get_by_text("Insérer un champ").click()
    page.get_by_role("button", name="Date et heure de la conférence").click()
    page.keyboard.type(".")
    page.keyboard.press("Enter")
    page.get_by_text("Insérer un bouton").click()
    page.get_by_role("button", name="Bouton Je viendrai").click()
    assert area.locator(".field-chip", has_text="Prénom").count() == 1  # a labelled chip, not {{ }}
    assert "{{" not in area.inner_text()
    assert_fits(page)
    page.screenshot(path=str(artifacts / f"editor-{width}.png"), full_page=True)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Modèle enregistré").wait_for()

    template = db.session.scalar(select(EmailTemplate).where(EmailTemplate.name == "Invitation régionale"))
    assert "Bonjour {{ contact.first_name }}," in template.html
    assert "{{ conference.starts_at|datetime_fr }}" in template.html
    assert '<a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a>' in template.html
    mailing = services.save_mailing(
        lead,
        None,
        {
            "name": "Invitation régionale",
            "from_name": "CRESS",
            "from_email": "presse@example.org",
            "template_id": template.id,
            "audience": {"contact_ids": [aicha.id, bruno.id]},
        },
        campaign=demo_campaign,
    )
    db.session.commit()

    page.goto(f"{live_server}/mailings/{mailing.id}")
    page.get_by_text("ne recevront pas tous la même conférence").wait_for()
    for person, milestone in ((bruno, bzh), (aicha, paca)):
        page.get_by_label("Voir le message tel que le reçoit").select_option(value=str(person.id))
        page.get_by_role("button", name="Voir", exact=True).click()
        frame = page.frame_locator("#preview-frame")
        frame.get_by_text(f"Bonjour {person.first_name},").wait_for()
        assert date_fr(milestone.starts_at.astimezone(tz)) in frame.locator("body").inner_text()
        assert frame.get_by_role("link", name="Je viendrai").count() == 1

    page.get_by_label("Adresse de test").fill("moi@example.org")
    page.get_by_role("button", name="Envoyer ce message en test").scroll_into_view_if_needed()
    page.get_by_role("button", name="Envoyer ce message en test").click()
    page.screenshot(path=str(artifacts / f"mailing-{width}.png"), full_page=True)
    page.get_by_text("Test envoyé à moi@example.org").wait_for()
    received = smtp_server.messages[-1]
    assert received.rcpt_tos == ["moi@example.org"]
    message = message_from_bytes(received.data, policy=policy.default)
    body = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Aïcha," in body and date_fr(paca.starts_at.astimezone(tz)) in body
    link = re.search(r'<a class="button" href="([^"]+)"[^>]*>Je viendrai</a>', body)
    # a test answers for nobody: its answer button opens the page that says it was a test
    assert link and html.unescape(link.group(1)) == "http://relais.test/test-link"
    assert "Je viendrai (http://relais.test/test-link)" in text
    assert message["Subject"].startswith("[TEST]")
    assert console_errors == []
