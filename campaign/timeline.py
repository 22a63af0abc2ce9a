"""The visual timeline: lanes (national, then one per region) and positions on a time axis."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accounts.models import Region
from campaign.models import Campaign, Milestone
from campaign.services import Assessment


@dataclass
class Placed:
    milestone: Milestone
    assessment: Assessment
    left: float  # percent of the axis
    width: float  # percent; 0 for a point in time


@dataclass
class Lane:
    key: str
    label: str
    items: list[Placed] = field(default_factory=list)


@dataclass
class Tick:
    label: date
    left: float


@dataclass
class Timeline:
    lanes: list[Lane]
    ticks: list[Tick]
    today: float | None  # percent, None when today is off the axis
    starts: date
    ends: date


def layout(
    campaign: Campaign,
    milestones: list[Milestone],
    assessments: dict[int, Assessment],
    regions: list[Region],
    now: datetime,
    include_national: bool = True,
) -> Timeline:
    tz = ZoneInfo(campaign.timezone)
    days = [campaign.starts_on, campaign.ends_on] + [m.starts_at.astimezone(tz).date() for m in milestones]
    days += [m.ends_at.astimezone(tz).date() for m in milestones if m.ends_at]
    start = datetime.combine(min(days).replace(day=1), time(), tz)
    last = max(days)
    end = datetime.combine((last.replace(day=28) + timedelta(days=4)).replace(day=1), time(), tz)
    span = (end - start).total_seconds()

    def percent(moment: datetime) -> float:
        return round(max(0.0, min(100.0, (moment - start).total_seconds() / span * 100)), 3)

    lanes = {"national": Lane("national", "National")} if include_national else {}
    for region in regions:
        lanes[region.code] = Lane(region.code, region.name)
    for m in milestones:
        key = m.region.code if m.region else "national"
        lane = lanes.setdefault(key, Lane(key, m.region.name if m.region else "National"))
        left = percent(m.starts_at)
        width = percent(m.ends_at) - left if m.ends_at and m.ends_at - m.starts_at >= timedelta(days=2) else 0.0
        lane.items.append(Placed(m, assessments[m.id], left, width))
    ticks, month = [], start.date()
    while month < end.date():
        ticks.append(Tick(month, percent(datetime.combine(month, time(), tz))))
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    today = percent(now) if start <= now <= end else None
    return Timeline(list(lanes.values()), ticks, today, start.date(), last)
