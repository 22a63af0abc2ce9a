"""The public programme: approved events only, filters, French dates, .ics feeds parsed with icalendar."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from campaign import event_demo
from campaign.models import Event
from extensions import db


@pytest.fixture
def programme(app, demo_campaign):
    event_demo.load(demo_campaign)
    db.session.commit()
    return demo_campaign


def titles(html: str, events: list[Event]) -> set[str]:
    return {e.title for e in events if f'data-event-id="{e.id}"' in html}


def all_events() -> list[Event]:
    return list(db.session.scalars(db.select(Event)))


def test_only_approved_events_are_public(client, programme):
    html = client.get("/programme").get_data(as_text=True)
    shown = titles(html, all_events())
    assert shown == {e.title for e in all_events() if e.status == "approved"}
    assert any(e.status == "proposed" for e in all_events()) and any(e.status == "rejected" for e in all_events())
    assert "samedi 15 novembre 2008" in html  # French dates, grouped by day


def test_filters_by_region_theme_type_and_date(client, programme):
    def shown(query: str) -> set[str]:
        return titles(client.get(f"/programme?{query}").get_data(as_text=True), all_events())

    approved = [e for e in all_events() if e.status == "approved"]
    assert shown("region=93") == {e.title for e in approved if e.region.code == "93"}
    assert shown("theme=Insertion") == {e.title for e in approved if "Insertion" in e.themes}
    assert shown("type=Forum") == {e.title for e in approved if e.type == "Forum"}
    paris = ZoneInfo("Europe/Paris")
    assert shown("from=2008-11-20&to=2008-11-22") == {
        e.title for e in approved if 20 <= e.starts_at.astimezone(paris).day <= 22
    }
    assert shown("region=93&theme=Insertion") == {
        e.title for e in approved if e.region.code == "93" and "Insertion" in e.themes
    }
    assert client.get("/programme?from=hier").status_code == 400
    assert client.get("/programme?region=XX").status_code == 404


def test_calendar_feed_per_region(client, programme):
    response = client.get("/programme.ics?region=91")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    entries = list(cal.walk("VEVENT"))
    expected = {e for e in all_events() if e.status == "approved" and e.region.code == "91"}
    assert {str(v["SUMMARY"]) for v in entries} == {e.title for e in expected}
    colloque = next(v for v in entries if "Colloque" in str(v["SUMMARY"]))
    assert colloque.decoded("DTSTART") == datetime(2008, 11, 6, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert "Montpellier" in str(colloque["LOCATION"])
    assert len({str(v["UID"]) for v in entries}) == len(entries)
    everything = Calendar.from_ical(client.get("/programme.ics").data)
    assert len(list(everything.walk("VEVENT"))) == sum(e.status == "approved" for e in all_events())


def test_region_page_can_be_embedded(client, programme):
    response = client.get("/programme/embed/93")
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert titles(html, all_events()) == {
        e.title for e in all_events() if e.status == "approved" and e.region.code == "93"
    }
    assert "<nav" not in html
    assert client.get("/programme/embed/XX").status_code == 404
    assert "<iframe" in client.get("/programme?region=93").get_data(as_text=True).replace("&lt;", "<")
