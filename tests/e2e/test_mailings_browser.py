"""In Chromium: write a template, preview it for a contact, schedule a mailing, watch it send, read the log."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PASSWORD
from tests.fixtures_mail import sending


@pytest.mark.engines("sqlite", "postgresql")  # the scheduler and a worker send it
def test_write_preview_schedule_and_watch_a_mailing(
    page,
    live_server,
    browser_login,
    make_user,
    demo_campaign,
    mail_app,
    smtp_server,
    many_contacts,
    console_errors,
    artifacts,
):
    smtp_server.handler.every_message_delay = 0.05
    many_contacts(20, "e2e")  # media of PACA
    user = make_user("national")
    with sending(mail_app):
        page.set_default_timeout(10_000)
        browser_login(user, PASSWORD)
        page.goto(f"{live_server}/templates")
        page.get_by_text("Nouveau modèle", exact=True).click()
        page.locator("#name").fill("Invitation Marseille")
        page.get_by_label("Objet du message").fill("Invitation : {{ campaign.name }}")
        page.get_by_role("button", name="Mode HTML").click()  # the expert mode: the stored HTML itself
        page.get_by_label("Corps HTML").fill(
            "<p>Bonjour {{ contact.first_name }},</p><p>Le {{ conference.starts_at|date_fr }}.</p>"
        )
        page.get_by_role("button", name="Enregistrer").click()
        page.get_by_text("Modèle enregistré").wait_for()

        page.get_by_label("Aperçu pour").select_option(label="Prénom3 Journaliste — e2e000003@example.org")
        page.frame_locator("#preview-frame").get_by_text("Bonjour Prénom3,").wait_for()
        assert page.locator("#preview-kb").inner_text() not in ("", "–")
        assert page.locator("#preview-subject").inner_text() == "Invitation : Mois de l'ESS 2008"

        page.goto(f"{live_server}/mailings")
        page.get_by_text("Nouvel envoi").click()
        page.get_by_label("Nom de l'envoi").fill("Invitation presse PACA")
        page.get_by_label("Modèle").select_option(label="Invitation Marseille")
        page.get_by_label("Nom de l'expéditeur").fill("CRESS PACA")
        page.get_by_label("Adresse de l'expéditeur").fill("presse@example.org")
        page.locator("details[data-name=f_region] > summary").click()  # several regions may be ticked
        page.get_by_role("checkbox", name="Provence-Alpes-Côte d’Azur").check()
        page.get_by_role("button", name="Créer le brouillon").click()
        page.get_by_text("Envoi créé").wait_for()
        assert "20" in page.get_by_text("Destinataires :").inner_text()

        now = datetime.now(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")
        page.get_by_label("Envoyer le").fill(now)
        page.get_by_label("Envoyer quand même un week-end / jour férié").check()  # the test may run on a Sunday
        page.get_by_role("button", name="Programmer").click()
        page.get_by_text("Envoi programmé").wait_for()
        page.wait_for_function(
            "() => { const b = document.getElementById('progress-bar'); return b && b.max == 20 && b.value == 20; }",
            timeout=30_000,
        )
        page.locator("#mailing-status", has_text="Envoyé").wait_for(timeout=15_000)
        log = page.locator("#delivery-log")
        assert log.locator("tbody tr").count() == 20
        assert log.locator("tbody tr", has_text="e2e000003@example.org").get_by_text("envoyé", exact=True).count() == 1
        assert "250" in log.inner_text()
        page.screenshot(path=str(artifacts / "mailing.png"), full_page=True)
        assert len(smtp_server.messages) == 20
    assert console_errors == []


def test_preview_keeps_the_last_contact_chosen_when_answers_cross(
    page, live_server, browser_login, make_user, demo_campaign, many_contacts, console_errors
):
    many_contacts(3, "late")
    browser_login(make_user("national"), PASSWORD)
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/templates")
    page.get_by_text("Nouveau modèle", exact=True).click()
    page.locator("#name").fill("Aperçu")
    page.get_by_label("Objet du message").fill("Bonjour")
    page.get_by_role("button", name="Mode HTML").click()
    page.get_by_label("Corps HTML").fill("<p>Bonjour {{ contact.first_name }},</p>")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Modèle enregistré").wait_for()

    # The preview asked for on load (the example contact) is held back until the chosen contact's is shown.
    held = []
    page.route("**/templates/preview", lambda route: held.append(route) if not held else route.continue_())
    page.reload()
    page.wait_for_function("() => document.readyState === 'complete'")
    for _ in range(200):  # the route's handler runs when Playwright next reads its events: wait for it
        if held:
            break
        page.wait_for_timeout(25)
    assert len(held) == 1
    page.get_by_label("Aperçu pour").select_option(label="Prénom2 Journaliste — late000002@example.org")
    frame = page.frame_locator("#preview-frame")
    frame.get_by_text("Bonjour Prénom2,").wait_for()

    with page.expect_response("**/templates/preview"):
        held[0].continue_()
    page.wait_for_timeout(300)  # the late answer's handler has run by now
    assert frame.get_by_text("Bonjour Prénom2,").is_visible()
    assert console_errors == []
