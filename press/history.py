"""What press relations add to a contact's history: answers to conference invitations (by link or
recorded by a person), attendance on the day, and the coverage its outlet published (registered into
`contacts.history` by press/extension.py)."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask import url_for
from sqlalchemy import select

from campaign.federation_models import PressClipping
from campaign.models import Milestone
from contacts.history import HistoryItem
from contacts.models import Contact, fold
from extensions import db
from i18n import _
from press.models import Rsvp

PARIS = ZoneInfo("Europe/Paris")


def answer_label(answer: str) -> str:
    return {"yes": _("oui"), "no": _("non"), "maybe": _("peut-être")}.get(answer, answer)


def channel_label(channel: str | None) -> str:
    return {"phone": _("par téléphone"), "email": _("par e-mail"), "in_person": _("sur place")}.get(
        channel or "", _("par le lien de l'invitation")
    )


def answers_and_attendance(contact: Contact) -> list[HistoryItem]:
    rows = db.session.execute(
        select(Rsvp, Milestone).join(Milestone, Milestone.id == Rsvp.milestone_id).where(Rsvp.contact_id == contact.id)
    ).all()
    items = []
    for rsvp, milestone in rows:
        url = url_for("press.conference", milestone_id=milestone.id)
        if rsvp.answer and rsvp.answered_at:
            detail = channel_label(rsvp.channel)
            if rsvp.recorded_by_label:
                detail += " · " + _("noté par %(who)s", who=rsvp.recorded_by_label)
            title = _("Réponse « %(answer)s » à « %(title)s »", answer=answer_label(rsvp.answer), title=milestone.title)
            items.append(HistoryItem(rsvp.answered_at, "answer", title, detail, milestone.region_id, url))
        if rsvp.checked_in_at:
            title = _("Présent·e à « %(title)s »", title=milestone.title)
            detail = _("venu·e sans invitation") if rsvp.walk_in else ""
            items.append(HistoryItem(rsvp.checked_in_at, "attendance", title, detail, milestone.region_id, url))
    return items


def coverage(contact: Contact) -> list[HistoryItem]:
    """Clippings of the contact's outlet (its media or organisation, case and accents aside)."""
    names = {fold(n).strip() for n in (contact.outlet, contact.organisation_name) if n and n.strip()}
    if not names:
        return []
    clippings = db.session.scalars(select(PressClipping).where(PressClipping.outlet != "")).all()
    return [
        HistoryItem(
            datetime.combine(c.published_on, time(12), PARIS).astimezone(UTC),
            "coverage",
            _("Article de %(outlet)s : « %(title)s »", outlet=c.outlet, title=c.title),
            c.url,
            c.region_id,
        )
        for c in clippings
        if fold(c.outlet).strip() in names
    ]
