"""Deadline reminders: one digest per owner and day, never twice for the same item and day, opt-out."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from accounts.models import User
from campaign.federation_models import ReminderSent
from campaign.models import Milestone
from campaign.reminders import send_due_reminders
from extensions import db
from tests.fixtures_mail import body

NOW = datetime(2008, 9, 2, 6, 0, tzinfo=UTC)  # the week before the 2008 press conferences


def test_one_digest_per_owner_and_day_even_when_run_twice(app, demo_campaign, inbox):  # noqa: F811
    coordinator = db.session.scalar(select(User).where(User.email == "paca@example.org"))
    first = send_due_reminders(NOW)
    assert first >= 3  # the demo's three regional coordinators at least
    mine = inbox.to("paca@example.org")
    assert len(mine) == 1
    text = body(mine[0])
    assert "Salle de la conférence de presse réservée" in text and "[EN RETARD]" in text
    assert "/reminders" in text
    sent_rows = db.session.scalar(
        select(func.count()).select_from(ReminderSent).where(ReminderSent.user_id == coordinator.id)
    )
    assert sent_rows >= 2
    assert send_due_reminders(NOW + timedelta(hours=2)) == 0  # the scheduler runs again the same day
    assert len(inbox.to("paca@example.org")) == 1
    assert len(inbox.messages) == first
    assert send_due_reminders(NOW + timedelta(days=1)) == first  # a new day, still late: a new digest
    assert len(inbox.to("paca@example.org")) == 2


def test_an_item_claimed_elsewhere_is_not_sent_again(app, demo_campaign, inbox):  # noqa: F811
    coordinator = db.session.scalar(select(User).where(User.email == "bretagne@example.org"))
    db.session.add(
        ReminderSent(
            user_id=coordinator.id, item_kind="readiness:venue_booked", item_id=coordinator.region_id, day=NOW.date()
        )
    )
    db.session.commit()
    send_due_reminders(NOW)
    assert inbox.to("bretagne@example.org") == []


def test_milestone_owners_and_opt_out(app, demo_campaign, make_user, inbox):  # noqa: F811
    owner = make_user("national", email="owner@example.org")
    quiet = make_user("national", email="quiet@example.org")
    quiet.reminders_opt_out = True
    for user, title in ((owner, "Relancer les partenaires"), (quiet, "Préparer le bilan")):
        db.session.add(
            Milestone(
                campaign_id=demo_campaign.id,
                kind="deadline",
                title=title,
                starts_at=NOW + timedelta(days=1),
                status="planned",
                owner_id=user.id,
            )
        )
    db.session.commit()
    send_due_reminders(NOW)
    assert len(inbox.to("owner@example.org")) == 1 and "Relancer les partenaires" in body(
        inbox.to("owner@example.org")[0]
    )
    assert inbox.to("quiet@example.org") == []


def test_opt_out_page(app, client, make_user, login):
    user = make_user("regional", region="93")
    login(user)
    from tests.conftest import csrf_from

    page = client.get("/reminders")
    client.post("/reminders", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    db.session.refresh(user)
    assert user.reminders_opt_out is True


def test_cli_command_sends_nothing_for_a_past_edition(app, runner, demo_campaign, inbox):  # noqa: F811
    result = runner.invoke(args=["campaign", "reminders"])
    assert result.exit_code == 0 and "reminders: 0 digest(s) sent" in result.output
    assert inbox.messages == []
