"""The public page of one event of the programme, with an "add to my calendar" file, and the
programme feed's `webcal://` address (calendar programs subscribe to it in one click)."""

from flask import Response, abort, render_template
from sqlalchemy import select

from campaign import calendar, editions
from campaign.brand import brand_of
from campaign.event_views import public
from campaign.models import Event
from extensions import db
from formatting import date_time, local, weekday_date
from public_links import public_host, public_url


def public_event(event_id: int) -> tuple[Event, dict]:
    """An approved event of an edition the public may browse (nothing proposed or rejected is ever
    public, nor an edition still in preparation), else 404; with the query naming its edition."""
    event = db.session.scalar(select(Event).where(Event.id == event_id, Event.status == "approved"))
    shown = editions.public_editions()
    if event is None or event.campaign not in shown:
        abort(404)
    return event, editions.edition_args(event.campaign, shown)


def webcal_url(endpoint: str, **values) -> str:
    """A feed's address for calendar programs: `webcal://` in place of http(s)://."""
    url = public_url(endpoint, **values)
    return "webcal://" + url.split("://", 1)[1]


@public.context_processor
def programme_links() -> dict:
    """`webcal_url` for the programme's pages (the subscribe link keeps the page's filters)."""
    return {"webcal_url": webcal_url}


def when(event: Event, tz: str) -> str:
    """ "mardi 4 novembre 2008, 18:00 – 21:00" (the end's date too when it is another day)."""
    start, end = local(event.starts_at, tz), local(event.ends_at, tz) if event.ends_at else None
    text = f"{weekday_date(event.starts_at, tz)}, {start:%H:%M}"
    if end is None:
        return text
    return f"{text} – {end:%H:%M}" if end.date() == start.date() else f"{text} – {date_time(event.ends_at, tz)}"


@public.route("/programme/events/<int:event_id>")
def event_page(event_id: int):
    event, edition = public_event(event_id)
    campaign = event.campaign
    return render_template(
        "programme/event.html",
        event=event,
        when=when(event, campaign.timezone),
        edition=edition,
        campaign=campaign,
        brand=brand_of(campaign),
        brand_region=event.region,
        site_name=campaign.name,
    )


@public.route("/programme/events/<int:event_id>.ics")
def event_ics(event_id: int):
    """One event as an RFC 5545 file to add to a calendar; its UID is the programme feed's, so a
    calendar subscribed to the feed too keeps one copy of it."""
    event, _edition = public_event(event_id)
    campaign = event.campaign
    body = calendar.event_calendar(
        campaign, event, public_host(), public_url("programme.event_page", event_id=event.id)
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="evenement-{event.id}.ics"'},
    )
