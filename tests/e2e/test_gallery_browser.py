"""In Chromium, on a desktop and at 375 px: a regional invitation taken from the gallery without
typing HTML, previewed for two real recipients of two regions (each their own conference date),
checked by the checklist, sent as a test to the loopback server and read back with the std `email`
package; a regional coordinator's copy is their region's."""

import html
import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from campaign.services import zone
from extensions import db
from mailings.models import EmailTemplate
from mailings.rendering import date_fr
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits
from tests.test_press_helpers import two_conference_dates

INVITATION = "Invitation — conférence de presse régionale"


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_a_regional_invitation_from_the_gallery_previewed_for_two_regions_and_sent_as_a_test(
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
    page.set_default_timeout(15_000)
    browser_login(lead, PASSWORD)

    page.goto(f"{live_server}/templates")
    page.get_by_text("Nouveau modèle depuis la galerie").click()
    gallery = page.locator("#gallery")
    assert gallery.get_by_text("Relance — journalistes sans réponse").is_visible()
    assert "{{" not in gallery.inner_text() and "J-10 (entre J-21 et J-7)" in gallery.inner_text()
    assert_fits(page)
    page.screenshot(path=str(artifacts / f"gallery-{width}.png"), full_page=True)
    page.get_by_role("button", name=f"Créer ma copie de « {INVITATION} »").click()
    page.get_by_text("Votre copie est prête").wait_for()

    area = page.get_by_role("textbox", name="Corps du message")
    area.locator(".field-chip").first.wait_for()  # the editor has turned the stored fields into chips
    assert area.locator(".field-chip", has_text="Date et heure de la conférence").count() == 2
    assert area.locator(".field-chip", has_text="Prénom").count() == 1
    assert area.get_by_role("link", name="Je viendrai").count() == 1
    assert "{{" not in area.inner_text()
    assert_fits(page)
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Modèle enregistré").wait_for()
    template = db.session.scalar(select(EmailTemplate).where(EmailTemplate.name == INVITATION))
    assert '<a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a>' in template.html

    page.goto(f"{live_server}/mailings")
    page.get_by_text("Nouvel envoi").click()
    page.get_by_label("Nom de l'envoi").fill("Invitations presse — régions")
    page.get_by_label("Modèle").select_option(label=INVITATION)
    page.get_by_label("Nom de l'expéditeur").fill("CNCRES — service presse")
    page.get_by_label("Adresse de l'expéditeur").fill("presse@example.org")
    for typed, person in (("Zerrouki", "Aïcha Zerrouki"), ("Le Gall", "Bruno Le Gall")):  # picked by name
        page.get_by_label("Ajouter un contact par son nom").fill(typed)
        page.get_by_role("option", name=person).click()
    page.get_by_role("button", name="Créer le brouillon").click()
    page.get_by_text("Envoi créé").wait_for()

    checklist = page.locator("#checklist")
    assert "Liste de vérification avant l'envoi" in checklist.inner_text()
    assert checklist.locator(".check-error").count() == 0  # nothing blocks
    left = checklist.locator('[data-check="placeholders"]').inner_text()
    assert "À revoir" in left and "transports en commun" in left  # what is left to write, not blocking
    assert "lien(s) vers Relais vérifié(s)" in checklist.locator('[data-check="links"]').inner_text()
    for person, milestone in ((bruno, bzh), (aicha, paca)):
        page.get_by_label("Voir le message tel que le reçoit").select_option(value=str(person.id))
        page.get_by_role("button", name="Voir", exact=True).click()
        frame = page.frame_locator("#preview-frame")
        frame.get_by_text(f"Bonjour {person.first_name},").wait_for()
        assert date_fr(milestone.starts_at.astimezone(tz)) in frame.locator("body").inner_text()
        assert frame.get_by_role("link", name="Je viendrai").count() == 1
        assert_fits(page)

    page.get_by_label("Adresse de test").fill("moi@example.org")
    page.get_by_role("button", name="Envoyer ce message en test").scroll_into_view_if_needed()
    page.get_by_role("button", name="Envoyer ce message en test").click()
    page.screenshot(path=str(artifacts / f"gallery-mailing-{width}.png"), full_page=True)
    page.get_by_text("Test envoyé à moi@example.org").wait_for(timeout=45_000)  # a loaded machine is slow
    assert_fits(page)
    received = smtp_server.messages[-1]
    assert received.rcpt_tos == ["moi@example.org"]
    message = message_from_bytes(received.data, policy=policy.default)
    body = html.unescape(message.get_body(("html",)).get_content())
    text = message.get_body(("plain",)).get_content()
    when = date_fr(paca.starts_at.astimezone(tz))
    assert message["Subject"] == f"[TEST] Invitation presse — Provence-Alpes-Côte d’Azur, {when}"
    assert "Bonjour Aïcha," in body and when in body and "{{" not in body
    assert re.search(r'<p class="preheader"[^>]*>[^<]*' + re.escape(when), body)
    assert "Je viendrai (http://relais.test/test-link)" in text
    assert "Je ne pourrai pas venir (http://relais.test/test-link)" in text
    assert "http://relais.test/programme?region=93" in text
    assert console_errors == []


def test_a_regional_coordinator_copies_their_regions_invitation_on_a_phone(
    page, live_server, browser_login, make_user, demo_campaign, console_errors
):
    breton = make_user("regional", region="53")
    page.set_viewport_size({"width": 375, "height": 800})
    page.set_default_timeout(15_000)
    browser_login(breton, PASSWORD)
    page.goto(f"{live_server}/templates")
    page.get_by_text("Nouveau modèle depuis la galerie").click()
    assert_fits(page)
    page.get_by_role("button", name=f"Créer ma copie de « {INVITATION} »").click()
    page.get_by_text("Votre copie est prête").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == f"{INVITATION} — Bretagne"
    assert_fits(page)
    copy = db.session.scalar(select(EmailTemplate).where(EmailTemplate.name == f"{INVITATION} — Bretagne"))
    assert copy.region_id == breton.region_id
    assert console_errors == []
