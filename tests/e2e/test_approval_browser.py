"""In Chromium: a regional coordinator asks for approval of an invitation with its send time; the
national lead, told by an email received by a real loopback SMTP server, opens its link, signs in
and approves with a comment; the scheduler sends it at its time without the region coming back.
Every page visited is checked at 375 pixels for sideways scrolling."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaign.workdays import is_working_day
from dbtypes import utcnow
from extensions import db
from mailings import approval, services
from mailings.models import Mailing
from mailings.scheduler import dispatch_due
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits
from tests.test_press_helpers import LINK, deliver, text_part

PARIS = ZoneInfo("Europe/Paris")


def fits_a_phone(page) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    assert_fits(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page, email: str) -> None:
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.engines("sqlite", "postgresql")  # the scheduler and a worker send it
def test_regional_invitation_approved_from_the_email_link_goes_at_its_time(
    page,
    live_server,
    make_user,
    make_contact,
    mail_app,
    smtp_server,
    demo_campaign,
    console_errors,
    artifacts,
    monkeypatch,
):
    monkeypatch.setitem(mail_app.config, "PUBLIC_BASE_URL", live_server)  # links in the notices lead here
    region_user, lead = make_user("regional", region="93"), make_user("national", email="direction@example.org")
    people = [make_contact(email=f"redaction{i}@example.org", region="93", kind="media") for i in range(2)]
    template = services.save_template(
        region_user,
        None,
        {"name": "Invitation", "subject": "Invitation : {{ campaign.name }}", "html": "<p>Bonjour</p>"},
    )
    mailing = services.save_mailing(
        region_user,
        None,
        {
            "name": "Invitation conférence PACA",
            "template_id": template.id,
            "from_name": "CRESS PACA",
            "from_email": "presse@example.org",
            "audience": {"contact_ids": [p.id for p in people]},
        },
    )
    db.session.commit()
    mid, region_email, lead_email = mailing.id, region_user.email, lead.email
    page.set_default_timeout(10_000)

    # the region asks for approval, with the time it should go
    page.goto(f"{live_server}/login")
    sign_in(page, region_email)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/mailings/{mid}")
    assert page.get_by_role("button", name="Valider").count() == 0
    assert page.get_by_role("button", name="Envoyer maintenant").count() == 0  # it would be refused
    wanted = (datetime.now(PARIS) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    while not is_working_day(wanted.date()):  # the next working day at 9:00: no weekend send by mistake
        wanted += timedelta(days=1)
    page.get_by_label("Date d'envoi souhaitée").fill(wanted.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Message pour l'équipe nationale").fill("Pour la conférence de jeudi.")
    page.get_by_role("button", name="Demander la validation").click()
    page.get_by_text("Validation demandée").wait_for()
    page.locator("#approval-state", has_text="En attente de validation").wait_for()
    assert page.get_by_role("button", name="Valider").count() == 0
    page.locator("#approval").screenshot(path=str(artifacts / "approval-region.png"))
    fits_a_phone(page)
    page.context.clear_cookies()  # the region is gone
    page.goto("about:blank")

    # national is told by email, follows the link, signs in and approves
    db.session.remove()
    assert approval.announce_pending(utcnow()) == 1
    notice = next(m for m in smtp_server.messages if "direction@example.org" in m.rcpt_tos)
    assert notice.parsed()["Subject"].startswith("À valider : Invitation conférence PACA")
    link = next(u for u in LINK.findall(text_part(notice)) if f"/mailings/{mid}" in u)
    page.goto(link)
    sign_in(page, lead_email)
    page.wait_for_url(f"{live_server}/mailings/{mid}*")
    assert "Pour la conférence de jeudi." in page.locator("#approval-history").inner_text()
    fits_a_phone(page)
    page.goto(f"{live_server}/")  # it waits under "À traiter" on the dashboard too
    waiting = page.locator("#to-do #waiting-mailings li", has_text="Invitation conférence PACA")
    assert "à valider" in waiting.inner_text() and "Provence" in waiting.inner_text()
    fits_a_phone(page)
    waiting.get_by_role("link").click()
    page.wait_for_url(f"{live_server}/mailings/{mid}*")
    page.get_by_label("Commentaire pour la région").fill("Bon pour moi.")
    page.locator("#approval").screenshot(path=str(artifacts / "approval-national.png"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.locator("#approval").screenshot(path=str(artifacts / "approval-national-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Valider").click()
    page.get_by_text("Envoi validé").wait_for()
    page.locator("#mailing-status", has_text="Programmé").wait_for()
    assert "Bon pour moi." in page.locator("#approval-history").inner_text()
    page.goto(f"{live_server}/")
    page.get_by_role("heading", name="Régions").wait_for()
    assert page.locator("#waiting-mailings").count() == 0  # nothing waits any more
    fits_a_phone(page)

    # the scheduler sends it at its time; nobody of the region came back
    db.session.remove()
    due = db.session.get(Mailing, mid).scheduled_at
    assert due == wanted.astimezone(ZoneInfo("UTC"))
    assert dispatch_due(due - timedelta(minutes=1))["started"] == []
    assert dispatch_due(due + timedelta(seconds=1))["started"] == [mid]
    assert deliver(mail_app, mid).status == "sent"
    assert {"redaction0@example.org", "redaction1@example.org"} <= set(smtp_server.by_recipient())
    approval.announce_pending(utcnow())
    told = [m for m in smtp_server.messages if region_email in m.rcpt_tos]
    assert len(told) == 1 and "Bon pour moi." in text_part(told[0])
    assert console_errors == []
