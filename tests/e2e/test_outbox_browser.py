"""In Chromium, with the local outbox on (as `make run` starts): a regional invitation from the gallery,
previewed for two journalists of two regions, is scheduled; the scheduler and a worker send it; the
outbox shows each journalist's message as they received it, word for word what the preview showed
them, with their own region's conference date."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaign.services import zone
from extensions import db
from mail_outbox import OutboxMessage
from mailings import gallery, services
from mailings.rendering import date_fr
from tests.conftest import PASSWORD
from tests.fixtures_mail import free_port, sending
from tests.test_press_helpers import two_conference_dates


def test_a_scheduled_invitation_reads_in_the_outbox_as_its_preview_showed(
    app, page, live_server, browser_login, make_user, make_contact, demo_campaign, console_errors, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", True)
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there: the outbox keeps all
    paca, bzh = two_conference_dates(demo_campaign)  # two regions, two dates
    tz = zone(demo_campaign.timezone)
    aicha = make_contact(region="93", first_name="Aïcha", last_name="Zerrouki")
    bruno = make_contact(region="53", first_name="Bruno", last_name="Le Gall")
    lead = make_user("national")
    template = gallery.copy(lead, "invitation_regional")
    data = {
        "name": "Invitations presse — régions",
        "from_name": "CNCRES — service presse",
        "from_email": "presse@example.org",
        "template_id": template.id,
        "audience": {"contact_ids": [aicha.id, bruno.id]},
    }
    mailing = services.save_mailing(lead, None, data, campaign=demo_campaign)
    db.session.commit()

    with sending(app):
        page.set_default_timeout(15_000)
        browser_login(lead, PASSWORD)
        page.goto(f"{live_server}/mailings/{mailing.id}")
        previews = {}
        for person in (aicha, bruno):
            page.get_by_label("Voir le message tel que le reçoit").select_option(value=str(person.id))
            page.get_by_role("button", name="Voir", exact=True).click()
            frame = page.frame_locator("#preview-frame")
            frame.get_by_text(f"Bonjour {person.first_name},").wait_for()
            previews[person.email] = frame.locator("body").inner_text()

        now = datetime.now(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")
        page.get_by_label("Envoyer le").fill(now)
        page.get_by_label("Envoyer quand même un week-end / jour férié").check()  # the test may run on a Sunday
        page.get_by_role("button", name="Programmer").click()
        page.get_by_text("Envoi programmé").wait_for()
        page.locator("#mailing-status", has_text="Envoyé").wait_for(timeout=30_000)

        page.goto(f"{live_server}/outbox")
        assert page.get_by_text("2 messages").is_visible()
        for person, milestone in ((aicha, paca), (bruno, bzh)):
            row = page.locator("tbody tr", has_text=person.email)
            row.get_by_role("link").first.click()
            frame = page.frame_locator("iframe.mail-preview")
            frame.get_by_text(f"Bonjour {person.first_name},").wait_for()
            received = frame.locator("body").inner_text()
            assert received == previews[person.email]  # what the preview showed this journalist, word for word
            assert date_fr(milestone.starts_at.astimezone(tz)) in received
            assert frame.get_by_role("link", name="Je viendrai").count() == 1
            page.go_back()
    kept = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert sorted(kept) == sorted([aicha.email, bruno.email])
    assert console_errors == []
