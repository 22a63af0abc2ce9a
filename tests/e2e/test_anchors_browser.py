"""In Chromium: a national lead moves the national press conference by a week; the page lists what
hangs on it (invitations, reminder, regional conferences, the scheduled invitation mailing), one
confirmation moves them all, the audit log records it; at phone width nothing scrolls sideways."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from accounts.models import AuditEntry
from campaign import playbook
from campaign.models import Milestone
from extensions import db
from mailings import services as mailing_services
from mailings.models import Mailing
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits

PARIS = ZoneInfo("Europe/Paris")


def test_moving_the_national_conference_moves_its_invitations_and_reminder(
    page, live_server, browser_login, make_user, make_contact, regions, console_errors, artifacts
):
    lead = make_user("national")
    campaign = playbook.build(
        lead, "Mois de l'ESS 2027", date(2027, 6, 17), date(2027, 11, 1), sorted(regions.values(), key=lambda r: r.name)
    )
    db.session.commit()
    by_title = {m.title: m for m in campaign.milestones}
    national = by_title["Conférence de presse nationale"]
    invitations = by_title["Invitations à la conférence de presse nationale"]
    reminder = by_title["Relance des journalistes sans réponse"]
    before = {m.id: m.starts_at for m in campaign.milestones}
    template = mailing_services.save_template(lead, None, {"name": "Invitation", "subject": "S", "html": "<p>x</p>"})
    mailing = mailing_services.save_mailing(
        lead,
        None,
        {
            "name": "Invitations conférence nationale",
            "from_name": "ESS France",
            "from_email": "presse@example.org",
            "template_id": template.id,
            "milestone_id": national.id,
            "audience": {"contact_ids": [make_contact(kind="media").id]},
        },
        campaign=campaign,
    )
    mailing_services.transition(lead, mailing, "schedule", send_at=invitations.starts_at)
    db.session.commit()

    page.set_viewport_size({"width": 375, "height": 800})
    browser_login(lead, PASSWORD)
    page.goto(f"{live_server}/milestones/{national.id}/edit")
    assert_fits(page)
    new_start = (national.starts_at + timedelta(days=7)).astimezone(PARIS)
    page.get_by_label("Début").fill(new_start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Fin (facultatif)").fill(new_start.replace(hour=11).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Enregistrer").click()

    proposal = page.locator("#move-proposal")
    proposal.get_by_role("heading", name="Déplacer aussi ce qui en dépend ?").wait_for()
    moved = proposal.locator('[data-move="milestones"] li')
    item = moved.filter(has_text="Invitations à la conférence de presse nationale")
    assert "27 août 2027, 09:00 → 3 septembre 2027, 09:00" in item.inner_text()
    assert "→ 10 septembre 2027, 09:00" in moved.filter(has_text="Relance des journalistes").inner_text()
    assert moved.filter(has_text="Conférence de presse — Bretagne").count() == 1
    mailings = proposal.locator('[data-move="mailings"] li')
    assert "Invitations conférence nationale" in mailings.inner_text()
    assert_fits(page)
    page.screenshot(path=str(artifacts / "anchors-proposal.png"), full_page=True)
    # nothing is saved before the person chooses
    db.session.expire_all()
    assert db.session.get(Milestone, national.id).starts_at == before[national.id]

    proposal.get_by_role("button", name="Tout déplacer").click()
    page.get_by_text("Jalon enregistré, avec").wait_for()
    assert_fits(page)
    db.session.expire_all()
    week = timedelta(days=7)
    for m in (national, invitations, reminder, by_title["Conférence de presse — Bretagne"]):
        assert db.session.get(Milestone, m.id).starts_at == before[m.id] + week, m.title
    assert db.session.get(Mailing, mailing.id).scheduled_at == before[invitations.id] + week
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "move"))
    assert entry is not None and entry.user_id == lead.id
    row = page.locator(f"#m{reminder.id}")
    assert "10 septembre 2027" in row.inner_text() and "J-2 de « Conférence de presse nationale »" in row.inner_text()
    assert console_errors == []
