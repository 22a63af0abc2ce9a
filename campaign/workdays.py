"""Working days in France: nothing is sent on a weekend or a public holiday unless a person says so.

The eleven public holidays of metropolitan France, computed (Easter by dateutil, which icalendar
already brings): 1 January, Easter Monday, 1 May, 8 May, Ascension, Whit Monday, 14 July,
15 August, 1 November, 11 November, 25 December.
"""

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from dateutil.easter import easter

from errors import ValidationFailed
from formatting import long_date
from i18n import _

# milestones that are sends: they too keep to working days
MAIL_KINDS = ("mailing", "press_release")
# what the override is called wherever a person may tick it (forms, API docs, messages)
OVERRIDE_LABEL = "Envoyer quand même un week-end / jour férié"


@cache
def holidays(year: int) -> dict[date, str]:
    """The public holidays of `year`, by key (holiday_name gives the name people read)."""
    sunday = easter(year)
    days = {
        date(year, 1, 1): "new_year",
        sunday + timedelta(days=1): "easter_monday",
        date(year, 5, 1): "labour_day",
        date(year, 5, 8): "victory_1945",
        sunday + timedelta(days=39): "ascension",
        sunday + timedelta(days=50): "whit_monday",
        date(year, 7, 14): "bastille_day",
        date(year, 8, 15): "assumption",
        date(year, 11, 1): "all_saints",
        date(year, 11, 11): "armistice",
        date(year, 12, 25): "christmas",
    }
    if sunday + timedelta(days=39) == date(year, 5, 1):  # 2008: Ascension on Labour Day
        days[date(year, 5, 1)] = "labour_day"
    return days


def holiday_name(day: date) -> str:
    key = holidays(day.year).get(day)
    if key is None:
        return ""
    return {
        "new_year": _("jour de l'An"),
        "easter_monday": _("lundi de Pâques"),
        "labour_day": _("fête du Travail"),
        "victory_1945": _("Victoire 1945"),
        "ascension": _("Ascension"),
        "whit_monday": _("lundi de Pentecôte"),
        "bastille_day": _("fête nationale"),
        "assumption": _("Assomption"),
        "all_saints": _("Toussaint"),
        "armistice": _("Armistice 1918"),
        "christmas": _("Noël"),
    }[key]


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def previous_working_day(day: date) -> date:
    """`day` itself when people work that day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def hanging_day(anchor_day: date, offset: int, is_send: bool) -> date:
    """The day a milestone hanging `offset` days from `anchor_day` falls on; a send on a working day."""
    day = anchor_day + timedelta(days=offset)
    return previous_working_day(day) if is_send else day


def relative_day(offset: int) -> str:
    """How French planning says it: "J-10", "J+2", "jour J"."""
    return f"J{offset:+d}" if offset else _("jour J")


def closed_because(day: date) -> str:
    """Why nothing is sent that day ("un dimanche", "férié : fête nationale"), or "" on a working day."""
    if name := holiday_name(day):
        return _("un jour férié (%(name)s)", name=name)
    if day.weekday() == 5:
        return _("un samedi")
    if day.weekday() == 6:
        return _("un dimanche")
    return ""


def refusal(day: date, label: str) -> str:
    """The French error of a send date that falls on a closed day, naming the field and the override."""
    return _(
        "%(field)s : le %(day)s est %(why)s ; rien ne part un week-end ou un jour férié. "
        "Choisissez un jour ouvré (le %(before)s) ou cochez « %(override)s ».",
        field=label,
        day=long_date(day),
        why=closed_because(day),
        before=long_date(previous_working_day(day)),
        override=_(OVERRIDE_LABEL),
    )


def check_send_day(moment: datetime, tz: str, field: str, label: str, allowed: bool = False) -> None:
    """Refuse (422 naming `field`) a send planned on a weekend or a public holiday, unless `allowed`."""
    day = moment.astimezone(ZoneInfo(tz)).date() if moment.tzinfo else moment.date()
    if allowed or is_working_day(day):
        return
    message = refusal(day, label)
    raise ValidationFailed(message, {field: message})
