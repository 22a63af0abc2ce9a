"""The printed programme: what goes in a booklet, a poster and a flyer, and the version of that data.

The booklet lists every approved event matching the programme's filters, numbered and grouped by
day, with an index by theme and by town (by event number: an index by page would cost a second
layout pass for 2,000 events), the partners and a QR code to the same selection online. The
poster (one page, A3 or A4) and the flyer (one A5 sheet, two sides at most) carry highlights.
"""

import hashlib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from babel.dates import format_date
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from accounts.models import Region
from campaign import events as programme_events
from campaign.brand import brand_of
from campaign.models import Campaign, Event
from campaign.services import zone
from contacts.models import Contact, Organisation
from extensions import db
from printing.typography import NBSP

FORMATS = ("booklet", "poster", "flyer")
POSTER_SIZES = ("A3", "A4")
POSTER_HIGHLIGHTS = 8
FLYER_HIGHLIGHTS = 16


@dataclass(frozen=True)
class Options:
    """How the document is printed: its format, the poster's paper size, colour or grey ink."""

    format: str = "booklet"
    size: str = "A3"
    grey: bool = False

    @property
    def paper(self) -> str:
        return self.size if self.format == "poster" else "A5"


def french_day(day: date) -> str:
    """'Samedi 1er novembre 2008'."""
    text = format_date(day, "EEEE d MMMM y", locale="fr")
    if day.day == 1:
        text = text.replace(" 1 ", " 1er ", 1)
    return text[:1].upper() + text[1:]


def french_period(start: date, end: date) -> str:
    """'Du 1er au 30 novembre 2008', 'Du 19 octobre au 10 décembre 2008'."""

    def day(d: date) -> str:
        return "1er" if d.day == 1 else str(d.day)

    if (start.year, start.month) == (end.year, end.month):
        return f"Du {day(start)} au {day(end)} {format_date(end, 'MMMM y', locale='fr')}"
    first = format_date(start, "MMMM" if start.year == end.year else "MMMM y", locale="fr")
    return f"Du {day(start)} {first} au {day(end)} {format_date(end, 'MMMM y', locale='fr')}"


def events_period(campaign: Campaign, events: list[Event]) -> str:
    """The span of the selection's events (the month itself), else the campaign's dates."""
    if not events:
        return french_period(campaign.starts_on, campaign.ends_on)
    tz = zone(campaign.timezone)
    last = max((e.ends_at or e.starts_at) for e in events)
    return french_period(events[0].starts_at.astimezone(tz).date(), last.astimezone(tz).date())


def french_time(moment: datetime) -> str:
    """'10 h 30', '14 h' (French typography: h, not a colon, with no-break spaces)."""
    return f"{moment.hour}{NBSP}h" + (f"{NBSP}{moment.minute:02d}" if moment.minute else "")


def time_span(event: Event, tz) -> str:
    start = event.starts_at.astimezone(tz)
    if event.ends_at is None:
        return french_time(start)
    end = event.ends_at.astimezone(tz)
    if end.date() != start.date():
        return f"{french_time(start)} – {format_date(end.date(), 'd MMMM', locale='fr')} {french_time(end)}"
    return f"{french_time(start)} – {french_time(end)}"


def selection_events(campaign: Campaign, filters: dict) -> list[Event]:
    query = programme_events.public_query(campaign, **filters).options(selectinload(Event.region))
    return list(db.session.scalars(query))


def partners_query(region: Region | None):
    """Confirmed partners: the national ones, and the region's when the programme is a region's."""
    where = [Contact.kind == "partner", Contact.partnership_status == "confirmed"]
    if region is None:
        where.append(Contact.region_id.is_(None))
    else:
        where.append(or_(Contact.region_id.is_(None), Contact.region_id == region.id))
    return select(Contact).where(*where)


def partners(region: Region | None) -> list[dict]:
    """Partner organisations by level (one line each), the national ones first."""
    rows = db.session.execute(
        partners_query(region)
        .with_only_columns(Organisation.name, Contact.partnership_level, Contact.region_id)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .distinct()
    ).all()
    seen, out = set(), []
    for name, level, region_id in sorted(rows, key=lambda r: (r[2] is not None, r[1] or "~", r[0])):
        if name not in seen:
            seen.add(name)
            out.append({"name": name, "level": level or "", "regional": region_id is not None})
    return out


def data_version(campaign: Campaign, filters: dict, options: Options, *context) -> tuple[str, int]:
    """The document's version without loading a row: the selection's count and latest change (as the
    .ics feed's ETag), the partners' count and latest change, the charter, the options and `context`
    (the public address in the QR code...)."""
    events = programme_events.public_query(campaign, **filters).order_by(None)
    count, latest = db.session.execute(events.with_only_columns(func.count(Event.id), func.max(Event.updated_at))).one()
    partner_state = db.session.execute(
        partners_query(filters.get("region")).with_only_columns(func.count(Contact.id), func.max(Contact.updated_at))
    ).one()
    parts = (count, latest, tuple(partner_state), brand_of(campaign).version, campaign.starts_on, campaign.ends_on)
    parts += (options, sorted((k, getattr(v, "code", str(v))) for k, v in filters.items() if v), context)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32], count


def index_of(numbered: list[tuple[int, Event]], key) -> list[tuple[str, list[int]]]:
    found: dict[str, list[int]] = defaultdict(list)
    for number, event in numbered:
        for label in key(event):
            if label:
                found[label].append(number)
    return sorted(found.items(), key=lambda item: collation_key(item[0]))


def collation_key(text: str) -> str:
    """French dictionary order, near enough: accents and case do not count (É with E, not after Z)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def highlights(events: list[Event], count: int) -> list[Event]:
    """`count` events spread evenly over the selection (first and last included), by date."""
    if len(events) <= count:
        return events
    step = (len(events) - 1) / (count - 1)
    return [events[round(i * step)] for i in range(count)]


def programme_context(campaign: Campaign, filters: dict, options: Options, online_url: str) -> dict:
    """Everything the booklet, poster and flyer templates read."""
    tz = zone(campaign.timezone)
    events = selection_events(campaign, filters)
    region = filters.get("region")
    numbered = list(enumerate(events, start=1))
    days: dict[date, list[tuple[int, Event]]] = defaultdict(list)
    for number, event in numbered:
        days[event.starts_at.astimezone(tz).date()].append((number, event))
    return {
        "campaign": campaign,
        "region": region,
        "filters": filters,
        "options": options,
        "tz": tz,
        "events": events,
        "days": [(french_day(day), items) for day, items in sorted(days.items())],
        "by_theme": index_of(numbered, lambda e: e.themes or []),
        "by_town": index_of(numbered, lambda e: [e.city]),
        "partners": partners(region),
        "highlights": highlights(events, POSTER_HIGHLIGHTS if options.format == "poster" else FLYER_HIGHLIGHTS),
        "organisers": len({e.organiser for e in events if e.organiser}),
        "towns": len({e.city for e in events if e.city}),
        "online_url": online_url,
        "time_span": lambda e: time_span(e, tz),
        "day_of": lambda e: french_day(e.starts_at.astimezone(tz).date()),
    }


def online_address(base: str, args: dict) -> str:
    """The online programme with the same filters (what the QR code opens)."""
    query = urlencode(sorted((k, v) for k, v in args.items() if v))
    return f"{base}/programme" + (f"?{query}" if query else "")
