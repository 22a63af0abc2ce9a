"""A VTIMEZONE as calendar programs export it: a STANDARD and a DAYLIGHT observance, each a yearly
RRULE (the month, the n-th or last weekday, the local time of the change), derived from the zone's
transitions in the tz database.

Every parser reads such a zone the same way. A zone written as one observance with a multi-valued
RDATE of every change (icalendar's `add_missing_timezones`) is read one hour off for every summer
date by ical.js (Thunderbird) and vobject.

The rules cover the years from the one before the first event to the last event's: each run of
years with the same rule is one observance; a run that ends before the last year (the rule changed)
gets an UNTIL, the last one stays open so that events added later are still read right.
"""

import calendar as monthdays
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Change:
    at: datetime  # UTC instant of the change
    local: datetime  # naive wall time just before it, in the offset it leaves
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    def rule(self) -> tuple:
        """What stays the same from year to year when the rule does."""
        day, last = self.local.day, self.local.day + 7 > monthdays.monthrange(self.local.year, self.local.month)[1]
        nth = -1 if last else (day - 1) // 7 + 1
        return (
            self.daylight,
            self.local.month,
            f"{nth}{DAYS[self.local.weekday()]}",
            self.local.time(),
            self.offset_from,
            self.offset_to,
            self.name,
        )


def changes(zone: ZoneInfo, first_year: int, last_year: int) -> list[Change]:
    """Every change of offset (or of name) between those years, found to the minute."""
    found = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)

    def state(at: datetime) -> tuple:
        local = at.astimezone(zone)
        return local.utcoffset(), local.tzname(), bool(local.dst())

    while moment < end:
        following = moment + timedelta(days=1)
        if state(moment) != state(following):
            low, high = moment, following  # whole minutes apart: changes fall on a minute
            while high - low > timedelta(minutes=1):
                middle = low + timedelta(minutes=(high - low) // timedelta(minutes=1) // 2)
                low, high = (middle, high) if state(middle) == state(low) else (low, middle)
            before, after = state(low), state(high)
            found.append(
                Change(
                    at=high,
                    local=(high + before[0]).replace(tzinfo=None),
                    offset_from=before[0],
                    offset_to=after[0],
                    name=after[1] or "",
                    daylight=after[2],
                )
            )
        moment = following
    return found


@lru_cache(maxsize=64)
def vtimezone(tz: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE for events from `first_year` to `last_year` (cached: the rules of the
    past do not change while the process runs; the component is copied by `to_ical`)."""
    zone = ZoneInfo(tz)
    component = Timezone()
    component.add("tzid", tz)
    found = changes(zone, first_year - 1, last_year)
    if not found:  # no change in those years: one standard observance
        start = datetime(first_year - 1, 1, 1)
        offset = start.replace(tzinfo=zone).utcoffset()
        standard = TimezoneStandard()
        standard.add("dtstart", start)
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", start.replace(tzinfo=zone).tzname() or tz)
        component.add_component(standard)
        return component
    runs: list[list[Change]] = []
    for change in found:  # runs of consecutive same-kind changes that follow one rule
        same = [run for run in runs if run[-1].daylight == change.daylight]
        if same and same[-1][-1].rule() == change.rule() and same[-1][-1].at.year == change.at.year - 1:
            same[-1].append(change)
        else:
            runs.append([change])
    for run in runs:
        first, last = run[0], run[-1]
        observance = TimezoneDaylight() if first.daylight else TimezoneStandard()
        observance.add("dtstart", first.local)
        observance.add("tzoffsetfrom", first.offset_from)
        observance.add("tzoffsetto", first.offset_to)
        if first.name:
            observance.add("tzname", first.name)
        if len(run) > 1 or last.at.year == last_year:
            _daylight, month, byday, *_ = first.rule()
            rule = {"freq": "yearly", "bymonth": month, "byday": byday}
            if last.at.year < last_year:  # the rule changed after this run: it ends with its last change
                # UNTIL is inclusive and in UTC; a day after that change, as vobject compares it
                # with the local time of each change, and the next one is a year away.
                rule["until"] = last.at + timedelta(days=1)
            observance.add("rrule", rule)
        component.add_component(observance)
    return component


def add_vtimezone(cal, tz: str, starts: list[datetime]) -> None:
    """Puts the zone first in the calendar, before the events that name it."""
    years = [s.year for s in starts] or [datetime.now(UTC).year]
    cal.subcomponents.insert(0, vtimezone(tz, min(years), max(years)))
