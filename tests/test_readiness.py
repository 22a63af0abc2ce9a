"""Readiness per region: steps and due dates derived from the region's milestones, edited by the region."""

from datetime import timedelta

from sqlalchemy import event, func, select

from accounts.models import Region
from campaign import readiness
from campaign.federation_models import ReadinessItem
from extensions import db
from tests.conftest import csrf_from
from tests.test_press_helpers import regional_conference


def steps(campaign, code: str) -> dict[str, readiness.Step]:
    region = db.session.scalar(select(Region).where(Region.code == code))
    return {s.key: s for s in readiness.region_steps(campaign, region)}


def test_steps_and_due_dates_come_from_the_timeline(app, demo_campaign):
    conf = regional_conference(demo_campaign, "91")  # moved to 23 October 2008 in the demo
    found = steps(demo_campaign, "91")
    assert found["venue_booked"].due_at == conf.starts_at - timedelta(days=21)
    assert found["press_kit_ready"].due_at == conf.starts_at - timedelta(days=3)
    assert found["conference_held"].milestone.id == conf.id
    assert found["programme_complete"].milestone.kind == "deadline"
    # a milestone that moves moves its steps
    conf.starts_at += timedelta(days=7)
    db.session.commit()
    assert steps(demo_campaign, "91")["venue_booked"].due_at == conf.starts_at - timedelta(days=21)


def test_a_step_follows_its_milestone(app, demo_campaign):
    conf = regional_conference(demo_campaign, "74")  # Limousin's conference is still planned in the demo
    assert steps(demo_campaign, "74")["conference_held"].done is False
    conf.status = "done"
    db.session.commit()
    assert steps(demo_campaign, "74")["conference_held"].done is True


def test_the_region_ticks_and_edits_its_checklist(app, client, demo_campaign, make_user, login):
    login(make_user("regional", region="93"))
    page = client.get("/regions/93/readiness")
    assert page.status_code == 200 and "Dossier de presse régional prêt" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    assert client.post("/regions/93/readiness/press_kit_ready/toggle", data={"csrf_token": token}).status_code == 302
    assert steps(demo_campaign, "93")["press_kit_ready"].done is True
    response = client.post(
        "/regions/93/readiness/venue_booked/edit",
        data={
            "csrf_token": token,
            "title": "Salle réservée au Club de la Presse",
            "due_at": "2008-08-20T12:00",
            "owner_id": "0",
        },
    )
    assert response.status_code == 302
    step = steps(demo_campaign, "93")["venue_booked"]
    assert (
        step.title == "Salle réservée au Club de la Presse" and step.due_at.isoformat() == "2008-08-20T10:00:00+00:00"
    )
    client.post("/regions/93/readiness", data={"csrf_token": token, "title": "Réserver le traiteur", "owner_id": "0"})
    assert any(s.custom and s.title == "Réserver le traiteur" for s in steps(demo_campaign, "93").values())


def test_other_regions_cannot_read_or_edit(app, client, demo_campaign, make_user, login):
    login(make_user("regional", region="91"))
    token = csrf_from(client.get("/regions/91/readiness").get_data(as_text=True))
    assert client.get("/regions/93/readiness").status_code == 403
    assert client.post("/regions/93/readiness/press_kit_ready/toggle", data={"csrf_token": token}).status_code == 403
    assert client.get("/regions/93/readiness/press_kit_ready/edit").status_code == 403
    assert steps(demo_campaign, "93")["press_kit_ready"].done is False


def test_viewer_reads_without_buttons(app, client, demo_campaign, make_user, login):
    login(make_user("viewer"))
    page = client.get("/regions/93/readiness")
    assert page.status_code == 200 and "/toggle" not in page.get_data(as_text=True)


def test_two_coordinators_ticking_the_same_step_at_once_make_one_row(app, client, demo_campaign, make_user, login):
    """The second's insert meets the row the first has just committed: it ticks that row, no 500."""
    login(make_user("regional", region="93"))
    token = csrf_from(client.get("/regions/93/readiness").get_data(as_text=True))
    region = db.session.scalar(select(Region).where(Region.code == "93"))
    done = []

    def twin_first(session, context, instances):
        if not done and any(isinstance(row, ReadinessItem) for row in session.new):
            done.append(True)
            with db.engine.begin() as other:  # the other coordinator's request commits the step first
                other.execute(
                    ReadinessItem.__table__.insert().values(
                        campaign_id=demo_campaign.id, region_id=region.id, key="press_kit_ready", title="", done=False
                    )
                )

    event.listen(db.session, "before_flush", twin_first)
    try:
        answer = client.post("/regions/93/readiness/press_kit_ready/toggle", data={"csrf_token": token})
    finally:
        event.remove(db.session, "before_flush", twin_first)
    assert done and answer.status_code == 302
    assert steps(demo_campaign, "93")["press_kit_ready"].done is True
    count = select(func.count()).where(ReadinessItem.region_id == region.id, ReadinessItem.key == "press_kit_ready")
    assert db.session.scalar(count) == 1
