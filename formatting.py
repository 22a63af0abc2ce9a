"""Dates and times as people read them: in the campaign's zone, in the page's language."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask import Flask
from flask_babel import get_locale

from matching import fold
from public_links import public_url

PARIS = ZoneInfo("Europe/Paris")


def local(value: datetime, tz: str | ZoneInfo = PARIS) -> datetime:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return value.astimezone(zone)


def locale_name() -> str:
    try:
        return str(get_locale() or "fr")
    except RuntimeError:  # outside a request
        return "fr"


def day_pattern(value: date, pattern: str, locale: str) -> str:
    """French writes the first of the month as an ordinal: '1er mai', never '1 mai'."""
    if value.day == 1 and locale.startswith("fr"):
        return pattern.replace("d MMM", "d'er' MMM", 1)
    return pattern


def french_date(value: date | datetime, pattern: str, locale: str) -> str:
    """format_date (or format_datetime for a datetime) with the ordinal first of the month."""
    formatter = format_datetime if isinstance(value, datetime) else format_date
    return formatter(value, day_pattern(value, pattern, locale), locale=locale)


def long_date(value: date | datetime | None, tz: str = "Europe/Paris") -> str:
    """'19 juin 2008'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, tz).date()
    return french_date(value, "d MMMM y", locale_name())


def weekday_date(value: date | datetime | None, tz: str = "Europe/Paris", locale: str | None = None) -> str:
    """'jeudi 19 juin 2008'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, tz).date()
    return french_date(value, "EEEE d MMMM y", locale or locale_name())


def date_time(value: datetime | None, tz: str = "Europe/Paris") -> str:
    """'19 juin 2008, 10:00'."""
    if value is None:
        return ""
    value = local(value, tz)
    return (
        f"{french_date(value.date(), 'd MMMM y', locale_name())}, {format_time(value, 'HH:mm', locale=locale_name())}"
    )


def short_date(value: date | datetime | None, tz: str = "Europe/Paris") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return french_date(local(value, tz), "d MMM", locale_name())
    return french_date(value, "d MMM", locale_name())


def register_filters(app: Flask) -> None:
    app.add_template_global(public_url)
    app.add_template_filter(long_date)
    app.add_template_filter(weekday_date)
    app.add_template_filter(date_time)
    app.add_template_filter(short_date)
    app.add_template_filter(fold, "fold")  # matching.fold: what search boxes compare (accents and case aside)
