"""Public event pages: the details of one approved event in the campaign's name, an "add to my
calendar" file read back by icalendar and ical.js (and vobject) at the right time, and the
programme's `webcal://` subscribe link."""

from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from markupsafe import escape
from sqlalchemy import select

from campaign.models import Event
from demo import events as event_demo
from extensions import db
from tests.readers import by_ical_js, by_icalendar, read_calendar

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def programme(app, demo_campaign):
    event_demo.load(demo_campaign)
    db.session.commit()
    return demo_campaign


def one(status: str = "approved") -> Event:
    return db.session.scalars(select(Event).where(Event.status == status).order_by(Event.id)).first()


def test_an_approved_event_has_its_page_in_the_campaigns_name(client, programme):
    event = one()
    page = client.get(f"/programme/events/{event.id}")
    assert page.status_code == 200
    text = unescape(page.text)
    local = event.starts_at.astimezone(PARIS)
    assert f"<h1>{event.title}</h1>" in text
    assert f"{local:%H:%M}" in text and event.region.name in text and event.city in text
    assert f"<title>{escape(event.title)} · {escape(programme.name)}</title>" in page.text  # not "Relais"
    assert f'href="/programme/events/{event.id}.ics"' in page.text and "Ajouter à mon agenda" in text
    assert f'href="webcal://relais.test/programme.ics?region={event.region.code}&amp;edition=2008"' in page.text
    assert 'href="/programme?edition=2008"' in page.text  # back to this edition's programme
    listing = client.get("/programme").text
    assert f'href="/programme/events/{event.id}"' in listing  # the programme leads to it


def test_proposed_rejected_and_unknown_events_have_no_page(client, programme):
    for status in ("proposed", "rejected"):
        hidden = one(status)
        assert client.get(f"/programme/events/{hidden.id}").status_code == 404
        assert client.get(f"/programme/events/{hidden.id}.ics").status_code == 404
    assert client.get("/programme/events/999999").status_code == 404


def test_the_events_calendar_file_is_read_at_the_right_time(client, programme):
    event = one()
    answer = client.get(f"/programme/events/{event.id}.ics")
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="evenement-{event.id}.ics"'
    uid = f"event-{event.id}@relais.test"  # the programme feed's own UID: one copy in a subscribed calendar
    expected_start = event.starts_at.astimezone(UTC)
    for reading in (by_icalendar(answer.text), by_ical_js(answer.text), read_calendar(answer.data)):
        assert list(reading) == [uid]
        assert reading[uid][0] == expected_start
    [entry] = Calendar.from_ical(answer.data).walk("VEVENT")
    start = entry.decoded("dtstart")
    assert str(entry["dtstart"].params["TZID"]) == "Europe/Paris"
    assert (start.hour, start.minute) == (
        event.starts_at.astimezone(PARIS).hour,
        event.starts_at.astimezone(PARIS).minute,
    )
    assert str(entry["url"]) == f"http://relais.test/programme/events/{event.id}"
    assert str(entry["summary"]) == event.title


def test_a_winter_event_keeps_its_paris_hour(client, programme):
    """November is CET (UTC+1): 18:30 in Paris is 17:30 UTC, for every reader."""
    event = one()
    event.starts_at = datetime(2008, 11, 20, 17, 30, tzinfo=UTC)
    event.ends_at = datetime(2008, 11, 20, 19, 0, tzinfo=UTC)
    db.session.commit()
    reading = read_calendar(client.get(f"/programme/events/{event.id}.ics").data)
    assert reading[f"event-{event.id}@relais.test"] == (event.starts_at, event.ends_at)
    page = client.get(f"/programme/events/{event.id}").text
    assert "18:30" in page and "20:00" in page


def test_the_programme_offers_a_webcal_subscription_with_its_filters(client, programme):
    page = client.get("/programme?region=93&theme=Insertion").text
    assert 'href="webcal://relais.test/programme.ics?region=93&amp;theme=Insertion"' in page
    feed = client.get("/programme.ics?region=93&theme=Insertion")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"


def test_the_public_programme_and_newsroom_carry_the_campaigns_name(client, programme):
    for path in ("/programme", "/newsroom"):
        page = client.get(path).text
        assert f"· {escape(programme.name)}</title>" in page, path
        assert "<strong>Relais</strong>" not in page, path


def test_an_edition_still_in_preparation_shows_no_event_page(client, programme):
    from datetime import date

    from campaign.models import Campaign

    coming = Campaign(name="Mois de l'ESS 2099", starts_on=date(2099, 11, 1), ends_on=date(2099, 11, 30))
    event = one()
    later = Event(campaign=coming, region=event.region, title="Forum 2099", status="approved")
    later.starts_at = datetime(2099, 11, 5, 17, 0, tzinfo=UTC)
    db.session.add_all([coming, later])
    db.session.commit()
    assert client.get(f"/programme/events/{later.id}").status_code == 404
    assert client.get(f"/programme/events/{later.id}.ics").status_code == 404
    assert client.get(f"/programme/events/{event.id}").status_code == 200  # 2008's stay public
