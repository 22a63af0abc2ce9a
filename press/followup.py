"""The follow-up of a press conference that people do by hand: an answer given by phone or email
written down (who, when, how), a journalist who walks in added at the door, the attendees as CSV for
a spreadsheet and the sign-in sheet to print. Services flush; callers commit."""

import csv
import io
import secrets
from datetime import datetime

from sqlalchemy import select, update

from accounts.models import User
from accounts.scoping import can_read, require_write
from campaign.models import Milestone
from campaign.services import zone
from contacts.csvfiles import FORMULA_STARTS
from contacts.models import Contact, fold
from contacts.services import save_contact
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from formatting import long_date
from i18n import _
from mailings.models import Delivery, Mailing
from press.conferences import NO_ADDRESS_DOMAIN, Attendee, attendance, invited_ids
from press.models import ANSWER_CHANNELS, RECORDED_ANSWERS, Rsvp


def answer_labels() -> dict:
    return {"yes": _("Oui"), "no": _("Non"), "maybe": _("Peut-être"), None: _("Pas de réponse")}


def channel_labels() -> dict:
    return {"phone": _("téléphone"), "email": _("e-mail"), "in_person": _("sur place"), None: _("lien de l'invitation")}


def rsvp_of(milestone: Milestone, contact_id: int) -> Rsvp:
    found = db.session.scalar(select(Rsvp).where(Rsvp.milestone_id == milestone.id, Rsvp.contact_id == contact_id))
    if found is None:
        found = Rsvp(milestone_id=milestone.id, contact_id=contact_id)
        db.session.add(found)
    return found


def record_answer(
    user: User, milestone: Milestone, contact_id: int, answer: str, channel: str, now: datetime | None = None
) -> Rsvp:
    """Write down an answer a contact gave by phone, email or on the spot, with who noted it and when.

    A contact not yet invited becomes a guest (the answer is what matters); one of another region
    is out of reach, as everywhere."""
    require_write(user, milestone.region_id)
    errors = {}
    if answer not in RECORDED_ANSWERS:
        errors["answer"] = _("oui, non ou peut-être")
    if channel not in ANSWER_CHANNELS:
        errors["channel"] = _("téléphone, e-mail ou sur place")
    contact = db.session.get(Contact, contact_id) if isinstance(contact_id, int) else None
    if contact is None or not can_read(user, contact.region_id):
        errors["contact_id"] = _("contact inconnu")
    if errors:
        raise ValidationFailed(_("Réponse non enregistrée : vérifiez les champs signalés."), errors)
    now = now or utcnow()
    rsvp = rsvp_of(milestone, contact.id)
    rsvp.answer, rsvp.answered_at, rsvp.channel = answer, now, channel
    rsvp.recorded_by_id, rsvp.recorded_by_label, rsvp.recorded_at = user.id, user.label, now
    db.session.flush()
    return rsvp


def walk_in_source(milestone: Milestone) -> str:
    """What a walk-in's record says of where it came from: "sur place, conférence du 23 octobre 2008"."""
    return _("sur place, conférence du %(day)s", day=long_date(milestone.starts_at, milestone.campaign.timezone))


def same_walk_in(milestone: Milestone, data: dict) -> Contact | None:
    """A walk-in of this conference with the same name and media and no address: the form sent twice
    (a double tap on a phone) checks the same person in, it does not make a second one."""
    wanted = tuple(fold(data.get(k) or "").strip() for k in ("first_name", "last_name", "media"))
    walk_ins = db.session.scalars(
        select(Contact)
        .join(Rsvp, Rsvp.contact_id == Contact.id)
        .where(Rsvp.milestone_id == milestone.id, Rsvp.walk_in.is_(True), Contact.email.like(f"%@{NO_ADDRESS_DOMAIN}"))
    )
    for contact in walk_ins:
        if (fold(contact.first_name).strip(), fold(contact.last_name).strip(), fold(contact.outlet).strip()) == wanted:
            return contact
    return None


def add_walk_in(user: User, milestone: Milestone, data: dict, now: datetime | None = None) -> Contact:
    """A journalist who came without an invitation: a new media contact of the conference's region,
    its source and legal basis recorded (legitimate interest: a journalist at a press conference),
    marked present. An address already known is that contact, marked present. Without an address the
    record gets one under a reserved name that never resolves, and mailings skip it (`skip_addressless`)
    until a person writes the real one on the contact form."""
    require_write(user, milestone.region_id)
    now = now or utcnow()
    email = (data.get("email") or "").strip().lower()
    known = db.session.scalar(select(Contact).where(Contact.email == email)) if email else same_walk_in(milestone, data)
    if known is not None and can_read(user, known.region_id):
        contact = known
    else:
        if not (data.get("last_name") or "").strip():
            raise ValidationFailed(_("Nom manquant."), {"last_name": _("obligatoire")})
        contact = save_contact(
            user,
            None,
            {
                "email": email or f"sur-place-{secrets.token_hex(6)}@{NO_ADDRESS_DOMAIN}",
                "first_name": data.get("first_name") or "",
                "last_name": data.get("last_name") or "",
                "organisation": data.get("media") or "",
                "outlet": data.get("media") or "",
                "kind": "media",
                "region": milestone.region.code if milestone.region else "",
                "source": walk_in_source(milestone),
                "legal_basis": "legitimate_interest",
            },
            now=now,
        )
    invited = select(Contact.id).where(Contact.id == contact.id, Contact.id.in_(invited_ids(milestone)))
    was_invited = db.session.scalar(invited) is not None
    rsvp = rsvp_of(milestone, contact.id)
    rsvp.walk_in = rsvp.walk_in or not was_invited
    if rsvp.answer is None:
        rsvp.answer, rsvp.answered_at, rsvp.channel = "yes", now, "in_person"
        rsvp.recorded_by_id, rsvp.recorded_by_label, rsvp.recorded_at = user.id, user.label, now
    rsvp.checked_in_at = rsvp.checked_in_at or now
    db.session.flush()
    return contact


def by_name(people: list[Attendee]) -> list[Attendee]:
    return sorted(people, key=lambda a: ((a.last_name or a.name).casefold(), a.first_name.casefold(), a.contact_id))


def sign_in_list(milestone: Milestone) -> list[Attendee]:
    """Who the sign-in sheet lists: everyone invited who did not decline, and whoever came, by name."""
    return by_name([a for a in attendance(milestone) if a.answer != "no" or a.checked_in_at])


def cell(value) -> str:
    text = str(value or "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CSV_HEADERS = ("Nom", "Prénom", "Média", "Adresse e-mail", "Réponse", "Canal", "Noté par", "Répondu le", "Venu·e")


def attendees_csv(milestone: Milestone) -> str:
    """The guest list as the contact export writes CSV: `;`, UTF-8 with a BOM, formulas neutralised,
    dates as "2008-10-23 10:05" in the campaign's time."""
    tz = milestone.campaign.timezone
    answers, channels = answer_labels(), channel_labels()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for a in by_name(attendance(milestone)):
        answered = a.answered_at.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M") if a.answered_at else ""
        came = a.checked_in_at.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M") if a.checked_in_at else ""
        row = (
            a.last_name or a.name,
            a.first_name,
            a.organisation,
            a.shown_email,
            answers.get(a.answer, a.answer),
            channels.get(a.channel, a.channel) if a.answer else "",
            a.recorded_by,
            answered,
            came,
        )
        writer.writerow([cell(v) for v in row])
    return "\ufeff" + buffer.getvalue()


def skip_addressless(mailing: Mailing, now: datetime) -> int:
    """Hook of mailings' start: a walk-in who gave no address is skipped, with the reason, never sent to."""
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.mailing_id == mailing.id,
            Delivery.status == "pending",
            Delivery.email.like(f"%@{NO_ADDRESS_DOMAIN}"),
        )
        .values(status="skipped", last_error=_("pas d'adresse e-mail (venu·e sans invitation)"), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
