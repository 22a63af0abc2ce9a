"""Demo events, readiness and press coverage for the seed's campaign (November 2008).

Organisers are invented, with example.org addresses; cities and outlets are those of 2008.
Idempotent: a campaign that already has events is left alone.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from accounts.models import Region
from campaign.federation_models import PressClipping, ReadinessItem
from campaign.models import Campaign, Event, Milestone
from campaign.readiness import RULES
from campaign.services import to_utc
from demo.event_data import DEMO_CLIPPINGS, DEMO_EVENTS, PROPOSED, REJECTED
from extensions import db


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:30]


def event_of(campaign: Campaign, region: Region, row: tuple, starts: datetime, status: str, purpose: str) -> Event:
    """A demo event from a row of DEMO_EVENTS (day, hour, title, type, themes, city, venue, organiser)."""
    _, _, title, type_, themes, city, venue, organiser = row
    return Event(
        campaign_id=campaign.id,
        region_id=region.id,
        title=title,
        type=type_,
        themes=themes,
        description=f"{type_} proposé par {organiser} {purpose}.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        city=city,
        venue=venue,
        organiser=organiser,
        organiser_email=f"contact@{slug(organiser)}.example.org",
        status=status,
    )


def load(campaign: Campaign) -> int:
    """Add the demo events, readiness ticks and clippings to the campaign; returns events added."""
    if db.session.scalar(select(Event.id).where(Event.campaign_id == campaign.id).limit(1)):
        return 0
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    added = 0
    for code, rows in DEMO_EVENTS.items():
        region = regions.get(code)
        if region is None:
            continue
        for index, row in enumerate(rows, start=1):
            starts = to_utc(datetime(2008, 11, row[0], row[1], 0), campaign.timezone)
            status = (
                "proposed" if (code, index) in PROPOSED else "rejected" if (code, index) in REJECTED else "approved"
            )
            event = event_of(campaign, region, row, starts, status, "dans le cadre du Mois de l'ESS")
            event.rejection_reason = REJECTED.get((code, index), "")
            db.session.add(event)
            added += 1
    load_readiness(campaign, regions)
    load_clippings(campaign, regions)
    db.session.flush()
    return added


def load_readiness(campaign: Campaign, regions: dict[str, Region]) -> None:
    """2008 is over: most regions ticked every step; Limousin and Picardie left some open."""
    open_steps = {"74": {"press_kit_ready", "release_sent", "thanks_sent"}, "22": {"programme_printed", "thanks_sent"}}
    for code, region in regions.items():
        for position, rule in enumerate(RULES):
            done = rule.key not in open_steps.get(code, set())
            db.session.add(
                ReadinessItem(
                    campaign_id=campaign.id,
                    region_id=region.id,
                    key=rule.key,
                    title=rule.title,
                    done=done,
                    position=position,
                )
            )


def load_clippings(campaign: Campaign, regions: dict[str, Region]) -> None:
    conferences = {
        m.region_id: m
        for m in db.session.scalars(
            select(Milestone).where(
                Milestone.campaign_id == campaign.id,
                Milestone.kind.in_(("regional_press_conference", "national_press_conference")),
            )
        )
    }
    for code, outlet, media_type, title, day, reach in DEMO_CLIPPINGS:
        region = regions.get(code) if code else None
        milestone = conferences.get(region.id if region else None)
        db.session.add(
            PressClipping(
                campaign_id=campaign.id,
                region_id=region.id if region else None,
                milestone_id=milestone.id if milestone and day < date(2008, 11, 1) else None,
                outlet=outlet,
                media_type=media_type,
                title=title,
                published_on=day,
                url="",
                reach=reach or None,
            )
        )
