"""The public programme: approved events only, filters, French dates, pages of 50, .ics feeds
(bounded to recent and coming events, with conditional GET) parsed with icalendar."""

import html as htmllib
import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from campaign import events
from campaign.models import Event
from dbtypes import utcnow
from demo import events as event_demo
from extensions import db
from tests.readers import read_calendar


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


def test_every_parser_reads_the_programme_at_its_times(client, programme):
    """icalendar, vobject and ical.js (Thunderbird) agree on every event's UTC start and end."""
    read = read_calendar(client.get("/programme.ics").data)
    approved = {f"event-{e.id}@relais.test": e for e in all_events() if e.status == "approved"}
    assert read.keys() == approved.keys()
    for uid, (start, end) in read.items():
        assert start == approved[uid].starts_at.astimezone(UTC)
        assert end == (approved[uid].ends_at or approved[uid].starts_at + timedelta(hours=1)).astimezone(UTC)
    assert read_calendar(client.get("/programme.ics?region=91").data).keys() < read.keys()


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


# ---- pages, SQL filters, feed window and conditional GET -----------------------------------------


def add_event(campaign, regions, title: str, starts_at: datetime, **fields) -> Event:
    fields = {"region_id": regions[fields.pop("region", "93")].id, "status": "approved", "themes": [], **fields}
    event = Event(campaign_id=campaign.id, title=title, starts_at=starts_at, type="Forum", **fields)
    db.session.add(event)
    db.session.flush()
    return event


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-event-id="(\d+)"', html)]


def pager_links(html: str) -> dict[str, dict]:
    nav = re.search(r'<nav class="pager[^"]*".*?</nav>', html, re.S).group(0)
    links = re.findall(r'<a href="([^"]+)" rel="(prev|next)"', nav)
    return {rel: parse_qs(urlsplit(htmllib.unescape(href)).query) for href, rel in links}


@pytest.fixture
def many(demo_campaign, regions):
    """120 approved events in Provence (one an hour), and a few elsewhere or not approved."""
    start = datetime(2008, 11, 3, 8, tzinfo=UTC)
    made = [
        add_event(demo_campaign, regions, f"Rencontre {n:03d}", start + timedelta(hours=n), themes=["Insertion"])
        for n in range(120)
    ]
    add_event(demo_campaign, regions, "Ailleurs", start, region="91", themes=["Insertion"])
    add_event(demo_campaign, regions, "En attente", start, status="proposed", themes=["Insertion"])
    db.session.commit()
    return made


def test_programme_pages_by_fifty_in_start_order(client, many):
    first = client.get("/programme?region=93").get_data(as_text=True)
    assert shown_ids(first) == [e.id for e in many[:50]]
    assert "120 événements" in first and "Page 1 sur 3" in first
    second = client.get("/programme?region=93&page=2").get_data(as_text=True)
    assert shown_ids(second) == [e.id for e in many[50:100]]
    last = client.get("/programme?region=93&page=3").get_data(as_text=True)
    assert shown_ids(last) == [e.id for e in many[100:]]
    assert 'rel="next"' not in last
    everywhere = client.get("/programme").get_data(as_text=True)
    assert "121 événements" in everywhere and 'class="pager' in everywhere


def test_pager_links_keep_the_filters(client, many):
    html = client.get("/programme?region=93&theme=Insertion&type=Forum&from=2008-11-01&page=2").get_data(as_text=True)
    links = pager_links(html)
    filters = {"region": ["93"], "theme": ["Insertion"], "type": ["Forum"], "from": ["2008-11-01"]}
    assert links["prev"] == {**filters, "page": ["1"]}
    assert links["next"] == {**filters, "page": ["3"]}
    feed = re.search(r'href="(/programme\.ics[^"]*)"', html).group(1)
    assert parse_qs(urlsplit(htmllib.unescape(feed)).query) == filters  # the feed link has no page
    following = client.get("/programme", query_string={k: v[0] for k, v in links["next"].items()})
    assert shown_ids(following.get_data(as_text=True)) == [e.id for e in many[100:]]


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2.5", "1000001", "99999999999999999999999"])
def test_bad_page_numbers_are_refused(client, many, page):
    assert client.get(f"/programme?page={page}").status_code == 400


def test_a_page_beyond_the_last_is_not_found_and_an_empty_programme_has_one(client, many):
    assert client.get("/programme?region=93&page=4").status_code == 404
    assert client.get("/programme?region=93&page=1000000").status_code == 404
    empty = client.get("/programme?region=53&page=1")
    assert empty.status_code == 200 and "Aucun événement" in empty.get_data(as_text=True)


def test_theme_filter_is_exact_in_sql_even_with_quotes_and_percent(client, demo_campaign, regions):
    day = datetime(2008, 11, 12, 9, tzinfo=UTC)
    tricky = ['100 % "bio" l\'été', "Élections prud'homales"]
    wanted = add_event(demo_campaign, regions, "La bonne", day, themes=tricky)
    add_event(demo_campaign, regions, "Joker %", day, themes=['100 x "bio" l\'été'])  # `%` as a wildcard would match
    add_event(demo_campaign, regions, "Plus long", day, themes=["100 % \"bio\" l'été et l'hiver"])
    add_event(demo_campaign, regions, "Souligné", day, themes=["Elections_prud"])
    db.session.commit()
    for theme in tricky:
        page = events.public_events(demo_campaign, theme=theme)
        assert [e.id for e in page["items"]] == [wanted.id] and page["total"] == 1  # counted by the database
        assert shown_ids(client.get("/programme", query_string={"theme": theme}).get_data(as_text=True)) == [wanted.id]
    for theme in ("%", "_", "100", "bio", '"', "Elections_prud'"):
        assert events.public_events(demo_campaign, theme=theme)["total"] == 0


def feed_titles(response) -> set[str]:
    return {str(v["SUMMARY"]) for v in Calendar.from_ical(response.data).walk("VEVENT")}


def run_campaign_now(campaign) -> None:
    """Date the campaign around today, so that it is running."""
    today = date.today()
    campaign.starts_on, campaign.ends_on = today - timedelta(days=60), today + timedelta(days=20)


def test_running_campaign_feed_keeps_recent_and_coming_events_only(client, demo_campaign, regions):
    run_campaign_now(demo_campaign)
    now = utcnow()
    add_event(
        demo_campaign, regions, "Fini il y a 40 jours", now - timedelta(days=41), ends_at=now - timedelta(days=40)
    )
    add_event(
        demo_campaign, regions, "Fini il y a 20 jours", now - timedelta(days=21), ends_at=now - timedelta(days=20)
    )
    add_event(
        demo_campaign,
        regions,
        "Commencé il y a 40 jours, en cours",
        now - timedelta(days=40),
        ends_at=now + timedelta(days=2),
    )
    add_event(demo_campaign, regions, "La semaine prochaine", now + timedelta(days=7))
    db.session.commit()
    response = client.get("/programme.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert feed_titles(response) == {
        "Fini il y a 20 jours",
        "Commencé il y a 40 jours, en cours",
        "La semaine prochaine",
    }
    assert "terminés depuis plus de 30 jours en sortent" in client.get("/programme").get_data(as_text=True)


def test_ended_campaign_feed_is_its_whole_history(client, demo_campaign, regions):
    last_year = date.today().year - 1
    demo_campaign.starts_on, demo_campaign.ends_on = date(last_year, 11, 1), date(last_year, 11, 30)
    opening = datetime(last_year, 11, 2, 9, tzinfo=UTC)
    add_event(demo_campaign, regions, "Ouverture", opening, ends_at=opening + timedelta(hours=2))
    add_event(demo_campaign, regions, "Clôture", datetime(last_year, 11, 29, 18, tzinfo=UTC), region="91")
    add_event(demo_campaign, regions, "Avant la campagne", datetime(last_year, 10, 1, 9, tzinfo=UTC))
    db.session.commit()
    response = client.get("/programme.ics")
    assert response.status_code == 200 and feed_titles(response) == {"Ouverture", "Clôture"}
    assert feed_titles(client.get("/programme.ics?region=91")) == {"Clôture"}
    assert client.get("/programme.ics", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_ended_campaign_feed_version_does_not_move_with_the_days(app, programme):
    """Static history: the window, hence the tag, is the same whichever day a subscriber polls."""
    now = utcnow()
    days = [now, now + timedelta(days=1), now + timedelta(days=400)]
    first_day = datetime.combine(programme.starts_on, time(), tzinfo=ZoneInfo("Europe/Paris"))
    assert {events.feed_since(programme, day) for day in days} == {first_day.astimezone(UTC)}
    versions = {events.feed_version(programme, events.feed_since(programme, day), {}, "ctx") for day in days}
    assert len(versions) == 1


def test_feed_answers_304_until_the_programme_changes(client, demo_campaign, regions, make_user):
    now = utcnow()
    add_event(demo_campaign, regions, "Déjà là", now + timedelta(days=3))
    proposal = add_event(demo_campaign, regions, "Proposé", now + timedelta(days=4), status="proposed")
    db.session.commit()
    first = client.get("/programme.ics?region=93")
    etag = first.headers["ETag"]
    assert etag and feed_titles(first) == {"Déjà là"}
    assert "Last-Modified" not in first.headers  # a removal could not move it: dates would hide withdrawals
    again = client.get("/programme.ics?region=93", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    other = client.get("/programme.ics?region=91", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag  # the filters are part of the tag

    events.moderate(make_user("national"), db.session.get(Event, proposal.id), "approved")
    db.session.commit()
    fresh = client.get("/programme.ics?region=93", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert feed_titles(fresh) == {"Déjà là", "Proposé"}

    already = db.session.scalar(db.select(Event).where(Event.title == "Déjà là"))
    events.moderate(make_user("national"), already, "rejected", "Annulé par l'organisateur")
    db.session.commit()
    withdrawn = client.get("/programme.ics?region=93", headers={"If-None-Match": fresh.headers["ETag"]})
    assert withdrawn.status_code == 200 and feed_titles(withdrawn) == {"Proposé"}  # one fewer: a new tag
    by_date = client.get("/programme.ics?region=93", headers={"If-Modified-Since": "Sun, 29 Nov 2099 00:00:00 GMT"})
    assert by_date.status_code == 200 and feed_titles(by_date) == {"Proposé"}


def test_editing_only_a_description_changes_the_etag(client, demo_campaign, regions, make_user):
    an_hour_ago = utcnow() - timedelta(hours=1)
    event = add_event(
        demo_campaign, regions, "Forum", utcnow() + timedelta(days=3), created_at=an_hour_ago, updated_at=an_hour_ago
    )
    db.session.commit()
    etag = client.get("/programme.ics").headers["ETag"]
    assert client.get("/programme.ics", headers={"If-None-Match": etag}).status_code == 304

    events.save_event(make_user("national"), demo_campaign, event, {"description": "Avec un atelier en plus."})
    db.session.commit()
    assert event.updated_at > an_hour_ago  # set by the model on every update
    by_tag = client.get("/programme.ics", headers={"If-None-Match": etag})
    assert by_tag.status_code == 200 and by_tag.headers["ETag"] != etag
    assert "Avec un atelier en plus." in by_tag.get_data(as_text=True)


def test_embed_shows_one_page_of_coming_events_and_links_to_the_rest(client, demo_campaign, regions):
    today = date.today()
    demo_campaign.starts_on, demo_campaign.ends_on = today - timedelta(days=10), today + timedelta(days=20)
    now = utcnow()
    add_event(demo_campaign, regions, "Hier", now - timedelta(days=1))
    coming = [add_event(demo_campaign, regions, f"Bientôt {n:02d}", now + timedelta(hours=n + 1)) for n in range(60)]
    db.session.commit()
    html = client.get("/programme/embed/93").get_data(as_text=True)
    assert shown_ids(html) == [e.id for e in coming[:50]]
    assert "Voir tout le programme (60 événements)" in html
    assert re.search(r'href="http://[^"]*/programme\?region=93"', html)


def test_a_poll_without_validators_gets_the_feed_rendered_for_its_version(client, demo_campaign, regions, make_user):
    now = utcnow()
    add_event(demo_campaign, regions, "Forum", now + timedelta(days=3))
    proposal = add_event(demo_campaign, regions, "Atelier", now + timedelta(days=5), status="proposed")
    db.session.commit()
    first, second = client.get("/programme.ics"), client.get("/programme.ics")
    assert first.data == second.data  # the same bytes, DTSTAMP included: rendered once for this version
    events.moderate(make_user("national"), db.session.get(Event, proposal.id), "approved")
    db.session.commit()
    third = client.get("/programme.ics")
    assert third.headers["ETag"] != first.headers["ETag"] and feed_titles(third) == {"Forum", "Atelier"}


def test_the_staff_event_list_pages_by_fifty_and_counts_them_all(client, login, make_user, many):
    login(make_user("national"))
    first = client.get("/events?region=93&status=approved").get_data(as_text=True)
    listed = [int(i) for i in re.findall(r'href="/events/(\d+)"', first)]
    assert listed == [e.id for e in many[:50]]
    assert "<strong>120</strong>" in first  # counted beyond the page
    assert pager_links(first)["next"] == {"page": ["2"], "region": ["93"], "status": ["approved"]}
    third = client.get("/events?region=93&status=approved&page=3").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'href="/events/(\d+)"', third)] == [e.id for e in many[100:120]]
    assert client.get("/events?region=93&status=approved&page=4").status_code == 404
    assert client.get("/events?page=abc").status_code == 400
    everything = client.get("/events?region=93").get_data(as_text=True)
    assert "<strong>120</strong>" in everything and "<strong>1</strong>" in everything  # approved, proposed
