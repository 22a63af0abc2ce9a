"""Calendar feeds: RFC 5545, parsed with icalendar, times in the campaign's zone, revocable."""

from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.conftest import csrf_from

PARIS = ZoneInfo("Europe/Paris")


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def test_campaign_feed_matches_the_milestones_in_paris_time(client, demo_campaign):
    cal = parse(client.get(f"/calendar/{demo_campaign.calendar_token}.ics"))
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert len(events) == len(demo_campaign.milestones)
    launch = next(m for m in demo_campaign.milestones if m.kind == "internal_launch")
    entry = events[f"milestone-{launch.id}@relais.test"]
    start = entry.decoded("dtstart")
    assert str(entry["summary"]) == launch.title
    assert start == launch.starts_at and start.utcoffset().total_seconds() == 7200  # 10:00 CEST
    assert (start.hour, start.minute) == (10, 0)
    assert str(entry["dtstart"].params["TZID"]) == "Europe/Paris"
    assert any(str(tz["tzid"]) == "Europe/Paris" for tz in cal.walk("VTIMEZONE"))


def test_region_feed_has_national_and_that_region_only(client, demo_campaign):
    cal = parse(client.get(f"/calendar/{demo_campaign.calendar_token}.ics?region=91"))
    summaries = [str(e["summary"]) for e in cal.walk("VEVENT")]
    assert "Conférence de presse — Languedoc Roussillon" in summaries
    assert "Conférence de presse nationale" in summaries
    assert not any("Bretagne" in s for s in summaries)
    conference = next(
        e for e in cal.walk("VEVENT") if str(e["summary"]) == "Conférence de presse — Languedoc Roussillon"
    )
    start = conference.decoded("dtstart").astimezone(PARIS)
    assert (start.date().isoformat(), start.hour) == ("2008-10-23", 10)
    assert "Club de la Presse" in str(conference["location"])


def test_unknown_or_revoked_token_stops_working(client, login, make_user, demo_campaign):
    old = demo_campaign.calendar_token
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    login(make_user("national"))
    page = client.get(f"/campaigns/{demo_campaign.id}").get_data(as_text=True)
    assert old in page
    assert (
        client.post(f"/campaigns/{demo_campaign.id}/calendar/revoke", data={"csrf_token": csrf_from(page)}).status_code
        == 302
    )
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    from extensions import db

    db.session.refresh(demo_campaign)
    assert demo_campaign.calendar_token != old
    parse(client.get(f"/calendar/{demo_campaign.calendar_token}.ics"))


def test_regional_coordinator_cannot_revoke_the_feed(client, login, make_user, demo_campaign):
    login(make_user("regional", region="93"))
    page = client.get(f"/campaigns/{demo_campaign.id}/milestones/new").get_data(as_text=True)
    assert (
        client.post(f"/campaigns/{demo_campaign.id}/calendar/revoke", data={"csrf_token": csrf_from(page)}).status_code
        == 403
    )


def test_user_text_cannot_break_out_of_an_ics_field(client, api, make_user, demo_campaign):
    hostile = "Point presse\r\nBEGIN:VEVENT\r\nSUMMARY:injecté"
    before = len(demo_campaign.milestones)
    made = api(make_user("national")).post(
        f"/api/v1/campaigns/{demo_campaign.id}/milestones",
        json={
            "kind": "other",
            "title": "Titre",
            "description": hostile,
            "city": "Lyon\r\nATTENDEE:x",
            "starts_at": "2008-10-01T10:00",
        },
    )
    assert made.status_code == 201
    cal = parse(client.get(f"/calendar/{demo_campaign.calendar_token}.ics"))
    events = [e for e in cal.walk("VEVENT")]
    assert len(events) == before + 1  # no smuggled event
    entry = next(e for e in events if str(e["summary"]) == "Titre")
    assert str(entry["description"]).splitlines() == hostile.splitlines()  # kept as text, line breaks escaped
    assert "ATTENDEE" not in entry


def test_every_parser_places_every_milestone_at_its_utc_start(client, demo_campaign):
    """icalendar, vobject and ical.js (Thunderbird) read the same UTC start and end for every demo
    milestone, in summer time and in winter time, on the campaign feed and on a region's."""
    from datetime import UTC

    from campaign.models import Milestone
    from extensions import db
    from tests.readers import read_calendar

    milestones = {f"milestone-{m.id}@relais.test": m for m in db.session.scalars(db.select(Milestone))}
    read = read_calendar(client.get(f"/calendar/{demo_campaign.calendar_token}.ics").data)
    assert read.keys() == milestones.keys()
    for uid, (start, _end) in read.items():
        assert start == milestones[uid].starts_at.astimezone(UTC), milestones[uid].title
    offsets = {m.starts_at.astimezone(PARIS).utcoffset().total_seconds() for m in milestones.values()}
    assert offsets == {3600, 7200}  # both sides of a change of time
    region = read_calendar(client.get(f"/calendar/{demo_campaign.calendar_token}.ics?region=91").data)
    assert region and all(read[uid] == when for uid, when in region.items())


def test_vtimezone_is_a_standard_daylight_pair_with_yearly_rules(client, demo_campaign):
    cal = parse(client.get(f"/calendar/{demo_campaign.calendar_token}.ics"))
    assert cal.subcomponents[0].name == "VTIMEZONE"
    (zone,) = cal.walk("VTIMEZONE")
    kinds = {c.name: c for c in zone.subcomponents}
    assert set(kinds) == {"STANDARD", "DAYLIGHT"}
    for part in kinds.values():
        assert "RDATE" not in part
        assert part["RRULE"]["FREQ"] == ["YEARLY"]
    assert str(kinds["DAYLIGHT"]["TZOFFSETTO"].to_ical()) in ("+0200", "b'+0200'")


def test_categories_are_the_labels_people_read(client, demo_campaign):
    cal = parse(client.get(f"/calendar/{demo_campaign.calendar_token}.ics"))
    categories = {str(c) for e in cal.walk("VEVENT") for c in e["CATEGORIES"].cats}
    assert "Échéance partenaires" in categories
    assert not any("_" in c for c in categories)


@pytest.mark.parametrize(
    "tz", ["Europe/Paris", "America/New_York", "Australia/Sydney", "Europe/Moscow", "Indian/Reunion"]
)
def test_zones_whose_rules_changed_are_read_alike_by_every_parser(tz):
    """Events every 13 days over 2005-2021, in zones whose rules changed (New York 2007, Sydney 2006
    and 2008, Moscow 2011 and 2014) or that have no summer time: the same UTC instants everywhere."""
    from datetime import UTC, datetime, timedelta

    from icalendar import Event

    from campaign.vtimezone import add_vtimezone
    from tests.readers import read_calendar

    cal, starts, moment = Calendar(), [], datetime(2005, 1, 3, 10, 0, tzinfo=ZoneInfo(tz))
    cal.add("prodid", "-//Relais//test//FR")
    cal.add("version", "2.0")
    while moment.year < 2022:
        entry = Event()
        entry.add("uid", f"e{len(starts)}")
        entry.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        entry.add("dtstart", moment)
        entry.add("dtend", moment + timedelta(hours=1))
        cal.add_component(entry)
        starts.append(moment)
        moment += timedelta(days=13)
    add_vtimezone(cal, tz, starts)
    read = read_calendar(cal.to_ical())
    assert [read[f"e{i}"][0] for i in range(len(starts))] == [s.astimezone(UTC) for s in starts]
