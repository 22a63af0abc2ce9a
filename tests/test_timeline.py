"""Milestone rules, the playbook's plan, and the timeline page."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaign import playbook, services
from campaign.models import Milestone
from extensions import db
from tests.conftest import csrf_from

PARIS = ZoneInfo("Europe/Paris")


def paris(milestone: Milestone) -> datetime:
    return milestone.starts_at.astimezone(PARIS)


def by_kind(campaign, kind):
    return [m for m in campaign.milestones if m.kind == kind]


def test_playbook_places_milestones_where_the_seed_plan_puts_them(demo_campaign):
    partners = by_kind(demo_campaign, "partner_deadline")[0]
    assert paris(partners).date() == date(2008, 5, 31)  # "finalisés fin mai"
    launch = by_kind(demo_campaign, "internal_launch")[0]
    assert paris(launch).date() == date(2008, 6, 19) and paris(launch).hour == 10  # AG, 19 June
    relay = by_kind(demo_campaign, "network_relay")[0]
    national = by_kind(demo_campaign, "national_press_conference")[0]
    assert paris(relay).date() == date(2008, 6, 20)
    assert relay.ends_at < national.starts_at
    assert paris(national).month == 9 and paris(national).weekday() == 1  # rentrée, a Tuesday
    regional = by_kind(demo_campaign, "regional_press_conference")
    assert len(regional) == 20 and len({m.region_id for m in regional}) == 20
    week = {paris(national).isocalendar()[1]}
    held_on_plan = [m for m in regional if m.region.code != "91"]  # Languedoc met the press on 23 October
    assert {paris(m).isocalendar()[1] for m in held_on_plan} == week
    month = [m for m in by_kind(demo_campaign, "event_period") if m.region_id is None][0]
    assert paris(month).date() == date(2008, 11, 1) and month.ends_at.astimezone(PARIS).date() == date(2008, 11, 30)
    invitation = next(m for m in by_kind(demo_campaign, "mailing") if m.title.startswith("Invitations à la conférence"))
    # D-10 of a Tuesday is a Saturday: the invitations go the Friday before, still hanging on D-10
    assert invitation.anchor is national and invitation.offset_days == -10
    assert paris(invitation).date() == date(2008, 8, 29) and paris(invitation).weekday() == 4
    assert all(m.status == "done" for m in [partners, launch, national])


def test_playbook_refuses_an_event_month_before_the_ag():
    import pytest

    from errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        playbook.plan(date(2009, 6, 18), date(2009, 1, 1))
    assert "event_month_start" in error.value.fields


def test_regional_conference_outside_the_press_week_is_flagged(demo_campaign):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assessed = services.assess(demo_campaign, demo_campaign.milestones, now)
    flagged = [
        m for m in demo_campaign.milestones if any(w.code == "outside_press_week" for w in assessed[m.id].warnings)
    ]
    assert [m.region.code for m in flagged] == ["91"]


def test_milestone_before_its_dependency_is_flagged_and_late_items_are_computed(demo_campaign, make_user):
    lead = make_user("national")
    national = by_kind(demo_campaign, "national_press_conference")[0]
    early = services.save_milestone(
        lead,
        demo_campaign,
        None,
        {
            "kind": "press_release",
            "title": "Communiqué trop tôt",
            "starts_at": datetime(2008, 9, 1, 9, 0),
            "depends_on": [national.id],
        },
    )
    db.session.commit()
    assessed = services.assess(demo_campaign, demo_campaign.milestones, datetime(2026, 1, 1, tzinfo=UTC))
    assert [w.code for w in assessed[early.id].warnings] == ["before_dependency"]
    assert assessed[early.id].late  # planned, and its date has passed
    assert not assessed[national.id].late  # done
    assert not services.assess(demo_campaign, demo_campaign.milestones, datetime(2008, 8, 1, tzinfo=UTC))[early.id].late


def test_naive_times_are_read_in_the_campaign_zone(demo_campaign, make_user):
    m = services.save_milestone(
        make_user("national"),
        demo_campaign,
        None,
        {"kind": "other", "title": "Heure d'été", "starts_at": datetime(2008, 7, 1, 10, 0)},
    )
    assert m.starts_at == datetime(2008, 7, 1, 8, 0, tzinfo=UTC)


def test_dependency_cycle_is_refused(demo_campaign, make_user):
    import pytest

    from errors import ValidationFailed

    lead = make_user("national")
    launch = by_kind(demo_campaign, "internal_launch")[0]
    partners = launch.depends_on[0]
    with pytest.raises(ValidationFailed) as error:
        services.save_milestone(lead, demo_campaign, partners, {"depends_on": [launch.id]})
    assert error.value.fields == {"depends_on": "créerait une dépendance circulaire"}


def test_timeline_page_shows_lanes_warnings_and_filters(client, login, make_user, demo_campaign):
    login(make_user("viewer"))
    page = client.get(f"/campaigns/{demo_campaign.id}").get_data(as_text=True)
    assert page.count('class="tl-lane"') == 21
    assert "hors de la semaine de la conférence nationale" in page
    assert "en retard" in page  # Limousin's conference was never marked as held
    filtered = client.get(f"/campaigns/{demo_campaign.id}?region=53&kind=regional_press_conference").get_data(
        as_text=True
    )
    assert filtered.count('class="tl-lane"') == 1 and 'data-lane="53"' in filtered
    assert "Conférence de presse — Bretagne" in filtered and "Conférence de presse — Alsace" not in filtered
    assert "Modifier" not in page  # a viewer writes nothing


def test_milestone_form_shows_field_errors_and_keeps_nothing(client, login, make_user, demo_campaign):
    login(make_user("national"))
    form = client.get(f"/campaigns/{demo_campaign.id}/milestones/new").get_data(as_text=True)
    count = db.session.scalar(select(db.func.count(Milestone.id)))
    response = client.post(
        f"/campaigns/{demo_campaign.id}/milestones/new",
        data={
            "csrf_token": csrf_from(form),
            "title": "",
            "kind": "other",
            "region": "",
            "status": "planned",
            "owner_id": "0",
            "starts_at": "2008-10-02T10:00",
            "ends_at": "2008-10-01T10:00",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "La fin ne peut pas précéder le début." in text and 'id="title"' in text and 'aria-invalid="true"' in text
    assert db.session.scalar(select(db.func.count(Milestone.id))) == count


def test_mark_done_from_the_timeline(client, login, make_user, demo_campaign):
    login(make_user("national"))
    late = next(m for m in demo_campaign.milestones if m.status == "planned")
    page = client.get(f"/campaigns/{demo_campaign.id}").get_data(as_text=True)
    response = client.post(f"/milestones/{late.id}/done", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    db.session.refresh(late)
    assert late.status == "done"


def test_playbook_page_creates_a_campaign_for_chosen_regions(client, login, make_user, regions):
    login(make_user("national"))
    form = client.get("/campaigns/new").get_data(as_text=True)
    response = client.post(
        "/campaigns/new",
        data={
            "csrf_token": csrf_from(form),
            "name": "Mois de l'ESS 2009",
            "ag_date": "2009-06-18",
            "event_month_start": "2009-11-01",
            "regions": ["53", "93"],
        },
    )
    assert response.status_code == 302
    campaign = services.current_campaign()
    assert campaign.name == "Mois de l'ESS 2009"
    assert sorted(m.region.code for m in campaign.milestones if m.kind == "regional_press_conference") == ["53", "93"]


def test_dashboard_summarises_progress(client, login, make_user, demo_campaign):
    login(make_user("national"))
    page = client.get("/").get_data(as_text=True)
    assert demo_campaign.name.replace("'", "&#39;") in page
    done = sum(m.status == "done" for m in demo_campaign.milestones)
    assert f"{done} / {len(demo_campaign.milestones)}" in page


def test_region_page_leads_to_everything_of_the_region(client, login, make_user, demo_campaign):
    login(make_user("regional", region="93"))
    page = client.get("/regions/93").get_data(as_text=True)
    assert "Conférence de presse — Provence-Alpes-Côte d’Azur" in page
    for link in ("/regions/93/readiness", "/coverage?region=93", "/contacts?region=93", "/programme?region=93"):
        assert link in page


def test_english_is_one_click_away_and_dates_follow(client, login, make_user, demo_campaign):
    login(make_user("national"))
    english = client.get(f"/campaigns/{demo_campaign.id}?lang=en").get_data(as_text=True)
    assert "Dashboard" in english and "New milestone" in english and "19 June 2008" in english
    assert "regional conference outside the national conference week" in english
    french = client.get(f"/campaigns/{demo_campaign.id}?lang=fr").get_data(as_text=True)
    assert "Tableau de bord" in french and "19 juin 2008" in french
