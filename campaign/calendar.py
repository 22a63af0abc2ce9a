"""RFC 5545 calendars: the campaign timeline and the public programme."""

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from icalendar import Calendar
from icalendar import Event as ICalEvent
from itsdangerous import BadSignature, Signer

from campaign.forms import KIND_LABELS
from campaign.models import Campaign, Event, Milestone
from campaign.vtimezone import add_vtimezone
from extensions import db


def new_calendar(name: str, tz: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Relais//Campaign calendar//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz)
    return cal


def add_entry(
    cal: Calendar,
    uid: str,
    summary: str,
    start: datetime,
    end: datetime | None,
    tz: str,
    **extra,
) -> None:
    zone = ZoneInfo(tz)
    entry = ICalEvent()
    entry.add("uid", uid)
    entry.add("summary", summary)
    entry.add("dtstamp", datetime.now(ZoneInfo("UTC")))
    entry.add("dtstart", start.astimezone(zone))
    entry.add("dtend", (end or start + timedelta(hours=1)).astimezone(zone))
    for key, value in extra.items():
        if value:
            entry.add(key.replace("_", "-"), value)
    cal.add_component(entry)


def timeline_calendar(campaign: Campaign, milestones: list[Milestone], host: str, title: str) -> bytes:
    cal = new_calendar(title, campaign.timezone)
    for m in milestones:
        add_entry(
            cal,
            f"milestone-{m.id}@{host}",
            m.title,
            m.starts_at,
            m.ends_at,
            campaign.timezone,
            description=m.description,
            location=", ".join(part for part in (m.venue, m.city) if part),
            categories=[str(KIND_LABELS.get(m.kind, m.kind))],
            status="CANCELLED" if m.status == "cancelled" else "CONFIRMED",
        )
    add_vtimezone(cal, campaign.timezone, [m.starts_at for m in milestones])
    return cal.to_ical()


def add_event(cal: Calendar, event: Event, host: str, tz: str, **extra) -> None:
    """One event of the programme; the same UID in the feed and in the event's own file."""
    add_entry(
        cal,
        f"event-{event.id}@{host}",
        event.title,
        event.starts_at,
        event.ends_at,
        tz,
        description=event.description,
        location=", ".join(part for part in (event.venue, event.city) if part),
        categories=[event.type] if event.type else None,
        **extra,
    )


def programme_calendar(campaign: Campaign, events: list[Event], host: str, title: str) -> bytes:
    cal = new_calendar(title, campaign.timezone)
    for e in events:
        add_event(cal, e, host, campaign.timezone)
    add_vtimezone(cal, campaign.timezone, [e.starts_at for e in events])
    return cal.to_ical()


def event_calendar(campaign: Campaign, event: Event, host: str, url: str) -> bytes:
    """One event of the programme, to add to a calendar: the feed's UID, its page's address."""
    cal = new_calendar(event.title, campaign.timezone)
    add_event(cal, event, host, campaign.timezone, url=url)
    add_vtimezone(cal, campaign.timezone, [event.starts_at])
    return cal.to_ical()


def feed_url(campaign: Campaign, region_code: str | None = None, reader=None) -> str:
    """The secret, subscribable address of the campaign's calendar (one region's with a code).

    A regional reader gets a feed of what it may read (the national lane and its region's), under
    a token of its own that no query string widens; the campaign's own token is for the others."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if reader is not None and reader.role == "regional" and reader.region is not None:
        return base + url_for("calendar.feed", token=region_token(campaign, reader.region.code))
    return base + url_for("calendar.feed", token=campaign.calendar_token, region=region_code)


def region_signer(campaign: Campaign) -> Signer:
    # salted with the campaign's secret token: revoking it revokes the regions' feeds too
    return Signer(current_app.config["SECRET_KEY"], salt=f"relais-calendar-region.{campaign.calendar_token}")


def region_token(campaign: Campaign, code: str) -> str:
    return region_signer(campaign).sign(f"{campaign.id}-{code}").decode("ascii")


def read_region_token(token: str) -> tuple[Campaign, str] | None:
    """(campaign, region code) of a regional reader's feed token, or None."""
    campaign_id, _, rest = token.partition("-")
    campaign = db.session.get(Campaign, int(campaign_id)) if campaign_id.isdigit() else None
    if campaign is None:
        return None
    try:
        value = region_signer(campaign).unsign(token.encode("ascii")).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
    return campaign, value.partition("-")[2]


class RenderedFeeds:
    """The last rendered feeds of this process, by version (the feed's ETag).

    Calendar programs poll a subscription every few minutes, many without If-None-Match; building a
    1,000-event feed costs most of a second. A feed's version comes from one indexed aggregate (see
    campaign.events.feed_version), so an unchanged feed is served from here and a change, which
    changes the version, is rendered again. Bounded in entries and bytes; per process.
    """

    def __init__(self, max_entries: int = 64, max_bytes: int = 32 * 1024 * 1024):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, version: str) -> bytes | None:
        with self.lock:
            body = self.entries.get(version)
            if body is not None:
                self.entries.move_to_end(version)
            return body

    def put(self, version: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self.lock:
            if version in self.entries:
                return
            self.entries[version] = body
            self.size += len(body)
            while len(self.entries) > self.max_entries or self.size > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)


PROGRAMME_FEEDS = RenderedFeeds()
