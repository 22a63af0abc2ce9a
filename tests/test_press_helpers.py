"""Shared helpers of the press tests (imported by test_press*, test_rsvp*, test_embargo*...)."""

import re
from datetime import timedelta

from sqlalchemy import select

from campaign.models import Milestone
from dbtypes import utcnow
from extensions import db
from mailings.engine.worker import Worker
from mailings.models import Mailing

LINK = re.compile(r"https?://[^\s<>\"')]+")


def conference(campaign, regions, code: str | None = "93", days: float = 10) -> Milestone:
    """The region's (or the national) press-conference milestone of the demo campaign, moved `days` ahead."""
    query = select(Milestone).where(Milestone.campaign_id == campaign.id)
    if code is None:
        query = query.where(Milestone.kind == "national_press_conference")
    else:
        query = query.where(Milestone.kind == "regional_press_conference", Milestone.region_id == regions[code].id)
    milestone = db.session.scalars(query).first()
    milestone.starts_at = utcnow() + timedelta(days=days)
    milestone.venue, milestone.city = "Club de la Presse", "Marseille"
    db.session.commit()
    return milestone


def regional_conference(campaign, code: str) -> Milestone:
    """The region's press-conference milestone of the demo campaign, as the demo left it (`conference`
    above also moves it ten days ahead and names its venue)."""
    found = [
        m for m in campaign.milestones if m.kind == "regional_press_conference" and m.region and m.region.code == code
    ]
    assert found, f"no regional press conference for region {code} in {campaign.name}"
    return found[0]


def two_conference_dates(campaign) -> tuple[Milestone, Milestone]:
    """PACA's and Bretagne's conferences on two different days (committed): a mailing to both regions
    gives each recipient their own date."""
    paca, bzh = regional_conference(campaign, "93"), regional_conference(campaign, "53")
    bzh.starts_at = paca.starts_at.replace(day=paca.starts_at.day % 27 + 1)
    db.session.commit()
    return paca, bzh


def deliver(app, mailing_id: int) -> Mailing:
    """Run one worker until the mailing's messages are handed to the loopback server."""
    Worker(app, connections=1, once=True, idle=0.05).run()
    db.session.expire_all()
    return db.session.get(Mailing, mailing_id)


def text_part(received) -> str:
    return received.parsed().get_body(preferencelist=("plain",)).get_content()


def links(received, path: str) -> list[str]:
    return [u for u in LINK.findall(text_part(received)) if f"/{path}/" in u]
