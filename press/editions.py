"""What a new edition carries over from press relations: its contact-pressure settings. Answers,
attendance, releases and coverage belong to the edition they happened in."""

from extensions import db
from press.models import PressSettings


def copy_settings(source, target) -> dict:
    settings = db.session.get(PressSettings, source.id)
    if settings is None:
        return {"press_settings": 0}
    db.session.add(
        PressSettings(campaign_id=target.id, pressure_days=settings.pressure_days, weekly_limit=settings.weekly_limit)
    )
    return {"press_settings": 1}
