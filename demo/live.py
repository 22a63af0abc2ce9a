"""A live edition beside the 2008 history (`flask demo load --live`, what `make run` loads): the
2008 campaign carried into a new edition by "new edition from this one", dated from today by the
playbook, so a newcomer sees an edition in preparation as well as one that happened.

Its event month starts as far after today as November 2008 was after the 2008 general assembly;
what is past in its timeline is done; a third of the 2008 events come back as proposals for the
new month, the regions' first answers to the call. Idempotent: an edition of that name is kept.
"""

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import select

from accounts.models import Region
from campaign.editions import ag_day, edition_year, event_month, new_edition
from campaign.models import Campaign, Milestone
from campaign.services import to_utc, zone
from dbtypes import utcnow
from demo.event_data import DEMO_EVENTS
from demo.events import event_of
from extensions import db

EVERY = 3  # one 2008 event in three is proposed again


def month_after(day: date) -> date:
    """The first day of the month that follows `day` (or `day` itself when it is a first)."""
    if day.day == 1:
        return day
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def load(source: Campaign, today: date | None = None) -> Campaign:
    """The live edition made from `source`, dated from `today` (Paris); flushes, the caller commits."""
    today = today or utcnow().astimezone(zone(source.timezone)).date()
    lead = (event_month(source) - (ag_day(source) or source.starts_on)).days
    month = month_after(today + timedelta(days=lead))
    name = f"Mois de l'ESS {month.year}"
    live = db.session.scalar(select(Campaign).where(Campaign.name == name))
    if live is not None:
        return live
    live, _ = new_edition(None, source, name, month)
    live.description = (
        f"Édition {month.year}, en préparation : le plan de {edition_year(source)} reporté sur {month.year}."
    )
    now = utcnow()
    for milestone in db.session.scalars(select(Milestone).where(Milestone.campaign_id == live.id)):
        if (milestone.ends_at or milestone.starts_at) < now:
            milestone.status = "done"
    propose_events(live, month)
    db.session.flush()
    return live


def propose_events(live: Campaign, month: date) -> int:
    """A third of the 2008 events, proposed again on the same day of the new month and hour."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    last_day = calendar.monthrange(month.year, month.month)[1]
    added = 0
    for code, rows in DEMO_EVENTS.items():
        region = regions.get(code)
        for index, row in enumerate(rows):
            if region is None or index % EVERY:
                continue
            starts = to_utc(datetime(month.year, month.month, min(row[0], last_day), row[1]), live.timezone)
            db.session.add(event_of(live, region, row, starts, "proposed", f"pour le Mois de l'ESS {month.year}"))
            added += 1
    return added
