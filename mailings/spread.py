"""Before sending: who gets which conference. The template's `conference` depends on each
recipient's region (whatever fills it, through the composer's context), so a preview for one person
can show a date others will not get: the mailing page shows the spread, and a mailing whose template
speaks of a conference cannot start while some recipients would get none."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from contacts.models import Contact
from errors import ValidationFailed
from extensions import db
from mailings.audience import audience_ids
from mailings.composer import Composer, Recipient
from mailings.models import Delivery, Mailing


@dataclass
class Share:
    """How many recipients read about one conference (`title` empty: none)."""

    title: str
    starts_at: datetime | None
    venue: str
    city: str
    count: int

    @property
    def missing(self) -> bool:
        return self.starts_at is None


def recipient_ids(mailing: Mailing):
    """The frozen audience once the mailing started, else its audience as it stands."""
    if mailing.frozen_at is not None:
        return select(Delivery.contact_id).where(Delivery.mailing_id == mailing.id, Delivery.contact_id.is_not(None))
    return audience_ids(mailing.audience or {})


def conference_spread(mailing: Mailing, composer: Composer | None = None) -> list[Share]:
    """The conferences the recipients will read about, most read first."""
    ids = recipient_ids(mailing)
    if ids is None:
        return []
    composer = composer or Composer(mailing)
    by_region = db.session.execute(
        select(Contact.region_id, func.count()).where(Contact.id.in_(ids)).group_by(Contact.region_id)
    ).all()
    shares: dict[object, Share] = {}
    for region_id, count in by_region:
        conference = composer.context(Recipient(None, "", region_id=region_id), "")["conference"]
        key = (conference.get("title"), conference.get("starts_at"), conference.get("venue"), conference.get("city"))
        if key not in shares:
            shares[key] = Share(
                conference.get("title") or "",
                conference.get("starts_at"),
                conference.get("venue") or "",
                conference.get("city") or "",
                0,
            )
        shares[key].count += count
    return sorted(shares.values(), key=lambda s: (-s.count, s.starts_at is None, s.title))


def reads_conference(composer: Composer) -> bool:
    return "conference" in composer.compiled.names or "rsvp_yes_url" in composer.compiled.names


def check_conferences(mailing: Mailing) -> None:
    """Refuse to start a mailing whose template speaks of a conference some recipients have none of."""
    composer = Composer(mailing)
    if not reads_conference(composer):
        return
    missing = sum(s.count for s in conference_spread(mailing, composer) if s.missing)
    if missing:
        raise ValidationFailed(
            f"{missing} destinataire(s) n'auraient aucune conférence de presse dans ce message (ni dans leur "
            "région, ni nationale) : ajoutez la conférence au calendrier ou retirez-les de l'audience.",
            {"audience": "no conference"},
        )


@dataclass
class PagePreview:
    """The mailing page's preview: the chosen recipient, what they get, and who gets which conference."""

    recipients: list[Contact]
    chosen: Contact | None
    message: dict | None
    problem: str
    spread: list[Share]


def page_preview(mailing: Mailing, contact_id: int | None, readable_ids) -> PagePreview:
    """Preview for a real recipient of the audience (the first one unless `contact_id` names another),
    written by the composer that sends; `readable_ids` narrows the list to what the person may read."""
    ids = recipient_ids(mailing)
    if ids is None:
        return PagePreview([], None, None, "", [])
    query = (
        select(Contact)
        .where(Contact.id.in_(ids), Contact.id.in_(readable_ids))
        .order_by(Contact.region_id, Contact.last_name, Contact.first_name, Contact.id)
    )
    recipients = list(db.session.scalars(query.limit(300)))
    chosen = next((c for c in recipients if c.id == contact_id), None) if contact_id else None
    if chosen is None and contact_id:
        chosen = db.session.scalar(query.where(Contact.id == contact_id))
    chosen = chosen or (recipients[0] if recipients else None)
    try:
        composer = Composer(mailing)
        message = composer.preview(Recipient.of(chosen)) if chosen else None
        return PagePreview(recipients, chosen, message, "", conference_spread(mailing, composer))
    except ValidationFailed as error:
        return PagePreview(recipients, chosen, None, error.message, [])
