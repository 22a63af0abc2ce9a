"""Press conferences: details, invitations and reminders sent as mailings, RSVP by signed link,
attendance and check-in, and the national side-by-side view. Services flush; callers commit."""

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from markupsafe import escape
from sqlalchemy import and_, case, delete, func, or_, select, union
from sqlalchemy.orm import selectinload

from accounts.models import User
from accounts.scoping import get_readable, readable, require_write
from campaign.models import Campaign, Milestone
from contacts.models import Contact
from contacts.services import contact_erased
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db, found_or_added
from i18n import _
from input_rules import refuse_nul
from mailings import services
from mailings.models import Delivery, Mailing
from mailings.tokens import read_rsvp_token, rsvp_token
from press.models import RSVP_ANSWERS, PressConference, RelayReport, Rsvp

CONFERENCE_KINDS = ("national_press_conference", "regional_press_conference")
INVITED_STATUSES = ("pending", "sending", "retry", "sent", "unknown")
NO_ADDRESS_DOMAIN = "sans-adresse.example"  # a walk-in without an address (RFC 2606: never resolves)


def text_literal(text: str) -> str:
    """User text inside a text template (a subject): braces can no longer open Jinja."""
    return " ".join((text or "").split()).replace("{", '{{ "{" }}')


def literal(text: str) -> str:
    """User text put inside a mailing template: HTML-escaped, and braces can no longer open Jinja."""
    return str(escape(text or "")).replace("{", '{{ "{" }}')  # also opens no {% or {# (the text part is derived)


# ---- conferences ------------------------------------------------------------------------------


def get_conference(user: User, milestone_id: int) -> Milestone:
    return get_readable(
        user,
        Milestone,
        milestone_id,
        _("Cette conférence de presse n'existe pas."),
        accept=lambda m: m.kind in CONFERENCE_KINDS,
    )


def conferences(user: User, campaign: Campaign) -> list[Milestone]:
    query = select(Milestone).where(Milestone.campaign_id == campaign.id, Milestone.kind.in_(CONFERENCE_KINDS))
    query = readable(query, user, Milestone.region_id).order_by(Milestone.kind, Milestone.starts_at)
    return list(db.session.scalars(query.options(selectinload(Milestone.region))))


def details(milestone: Milestone) -> PressConference:
    found = db.session.scalar(select(PressConference).where(PressConference.milestone_id == milestone.id))
    return found or PressConference(milestone_id=milestone.id, address="", speakers="", notes="")


def save_details(user: User, milestone: Milestone, data: dict) -> PressConference:
    """Venue and city live on the milestone; address, speakers and notes beside it."""
    require_write(user, milestone.region_id)
    refuse_nul(data)
    record = details(milestone)
    for field, size in (("venue", 200), ("city", 120)):
        if field in data:
            value = " ".join((data[field] or "").split())
            if len(value) > size:
                raise ValidationFailed(_("Texte trop long."), {field: _("%(n)s caractères au plus", n=size)})
            setattr(milestone, field, value)
    for field in ("address", "speakers", "notes"):
        if field in data:
            setattr(record, field, (data[field] or "").strip())
    if len(record.address) > 300:
        raise ValidationFailed(_("Adresse trop longue."), {"address": _("%(n)s caractères au plus", n=300)})
    db.session.add(record)
    db.session.flush()
    return record


# ---- who was invited, who answered, who came -------------------------------------------------


def invited_ids(milestone: Milestone):
    """Invited: an RSVP row, or a delivery of a mailing tied to the conference."""
    by_rsvp = select(Rsvp.contact_id).where(Rsvp.milestone_id == milestone.id)
    by_mail = (
        select(Delivery.contact_id)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(
            Mailing.milestone_id == milestone.id,
            Delivery.status.in_(INVITED_STATUSES),
            Delivery.contact_id.is_not(None),
        )
    )
    return union(by_rsvp, by_mail)


@dataclass
class Attendee:
    contact_id: int
    name: str
    email: str
    organisation: str
    answer: str | None
    answered_at: datetime | None
    checked_in_at: datetime | None
    channel: str | None = None  # None: by the invitation's link
    recorded_by: str = ""  # who wrote down an answer given by phone, email or on the spot
    recorded_at: datetime | None = None
    walk_in: bool = False
    last_name: str = ""
    first_name: str = ""

    @property
    def shown_email(self) -> str:
        """The address people may write to; "" for a walk-in who gave none."""
        return "" if self.email.endswith("@" + NO_ADDRESS_DOMAIN) else self.email


def attendance_query(milestone: Milestone):
    return (
        select(Contact, Rsvp)
        .outerjoin(Rsvp, and_(Rsvp.contact_id == Contact.id, Rsvp.milestone_id == milestone.id))
        .where(Contact.id.in_(invited_ids(milestone)))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )


def attendee(contact: Contact, rsvp: Rsvp | None) -> Attendee:
    return Attendee(
        contact.id,
        contact.full_name or contact.email,
        contact.email,
        contact.organisation.name if contact.organisation else (contact.outlet or ""),
        rsvp.answer if rsvp else None,
        rsvp.answered_at if rsvp else None,
        rsvp.checked_in_at if rsvp else None,
        rsvp.channel if rsvp else None,
        rsvp.recorded_by_label if rsvp else "",
        rsvp.recorded_at if rsvp else None,
        bool(rsvp and rsvp.walk_in),
        contact.last_name,
        contact.first_name,
    )


def attendance(milestone: Milestone) -> list[Attendee]:
    return [attendee(c, r) for c, r in db.session.execute(attendance_query(milestone))]


def summaries(milestones: list[Milestone]) -> dict[int, dict]:
    """Each conference's invited, confirmed (yes), declined (no), maybe, no answer and came, in one
    query for all of them."""
    ids = [m.id for m in milestones]
    invited = union(
        select(Rsvp.milestone_id.label("milestone_id"), Rsvp.contact_id.label("contact_id")).where(
            Rsvp.milestone_id.in_(ids)
        ),
        select(Mailing.milestone_id.label("milestone_id"), Delivery.contact_id.label("contact_id"))
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(
            Mailing.milestone_id.in_(ids),
            Delivery.status.in_(INVITED_STATUSES),
            Delivery.contact_id.is_not(None),
        ),
    ).subquery()
    rows = db.session.execute(
        select(
            invited.c.milestone_id,
            func.count(),
            *(func.count(case((Rsvp.answer == answer, 1))) for answer in ("yes", "no", "maybe")),
            func.count(Rsvp.checked_in_at),
        )
        .select_from(invited)
        .outerjoin(Rsvp, and_(Rsvp.milestone_id == invited.c.milestone_id, Rsvp.contact_id == invited.c.contact_id))
        .group_by(invited.c.milestone_id)
    ).all()
    found = {milestone_id: (count, yes, no, maybe, came) for milestone_id, count, yes, no, maybe, came in rows}
    out = {}
    for milestone_id in ids:
        count, yes, no, maybe, came = found.get(milestone_id, (0, 0, 0, 0, 0))
        out[milestone_id] = {
            "invited": count,
            "yes": yes,
            "no": no,
            "maybe": maybe,
            "pending": count - yes - no - maybe,
            "came": came,
        }
    return out


def summary(milestone: Milestone) -> dict:
    """Invited, confirmed (yes), declined (no), maybe, no answer, came."""
    return summaries([milestone])[milestone.id]


def national_view(user: User, campaign: Campaign) -> list[tuple[Milestone, dict]]:
    """Every conference of the campaign side by side (a regional account sees its own and the national)."""
    found = conferences(user, campaign)
    counted = summaries(found)
    return [(m, counted[m.id]) for m in found]


def scrub_contact(sender=None, contact_id: int | None = None, **_) -> None:
    """On erasure (GDPR): the person's answers, check-ins and relay reports go with them, on every engine."""

    if contact_id:
        db.session.execute(delete(Rsvp).where(Rsvp.contact_id == contact_id))
        db.session.execute(delete(RelayReport).where(RelayReport.contact_id == contact_id))


contact_erased.connect(scrub_contact)


# ---- RSVP by signed link ----------------------------------------------------------------------


@dataclass
class RsvpLink:
    contact: Contact
    milestone: Milestone
    answer: str
    current: Rsvp | None
    open: bool


def read_link(token: str, now: datetime | None = None) -> RsvpLink | None:
    """What a link stands for; None when tampered with or pointing at nothing (erased, deleted)."""
    found = read_rsvp_token(token)
    if found is None or found[2] not in RSVP_ANSWERS:
        return None
    contact, milestone = db.session.get(Contact, found[0]), db.session.get(Milestone, found[1])
    if contact is None or milestone is None or milestone.kind not in CONFERENCE_KINDS:
        return None
    now = now or utcnow()
    current = db.session.scalar(select(Rsvp).where(Rsvp.milestone_id == milestone.id, Rsvp.contact_id == contact.id))
    is_open = milestone.status != "cancelled" and now < milestone.starts_at
    return RsvpLink(contact, milestone, found[2], current, is_open)


def other_link(link: RsvpLink) -> str:
    """The token for the other answer, so the page can offer to change one's mind."""
    other = "no" if link.answer == "yes" else "yes"
    return rsvp_token(link.contact.id, link.milestone.id, other)


def record(token: str, now: datetime | None = None) -> RsvpLink | None:
    """Record the link's answer (POST only); a closed or bad link changes nothing."""
    now = now or utcnow()
    link = read_link(token, now)
    if link is None or not link.open:
        return link
    if link.current is None:  # the first answer: a twin click may be writing it at this moment
        link.current = found_or_added(
            select(Rsvp).where(Rsvp.milestone_id == link.milestone.id, Rsvp.contact_id == link.contact.id),
            Rsvp(milestone_id=link.milestone.id, contact_id=link.contact.id, invited_at=None),
        )
    rsvp = link.current
    if rsvp.answer != link.answer or rsvp.channel is not None:  # the person's own word replaces a note
        rsvp.answer, rsvp.answered_at = link.answer, now
        rsvp.channel, rsvp.recorded_by_id, rsvp.recorded_by_label, rsvp.recorded_at = None, None, "", None
    db.session.flush()
    return link


def check_in(user: User, milestone: Milestone, contact_id: int, present: bool, now: datetime | None = None) -> Rsvp:
    """Mark an invited contact as come (or not) on the day."""
    require_write(user, milestone.region_id)
    invited = select(Contact.id).where(Contact.id == contact_id, Contact.id.in_(invited_ids(milestone)))
    if db.session.scalar(invited) is None:
        raise ValidationFailed(_("Ce contact n'a pas été invité."), {"contact_id": _("pas invité")})
    rsvp = db.session.scalar(select(Rsvp).where(Rsvp.milestone_id == milestone.id, Rsvp.contact_id == contact_id))
    rsvp = rsvp or Rsvp(milestone_id=milestone.id, contact_id=contact_id)
    rsvp.checked_in_at = (now or utcnow()) if present else None
    db.session.add(rsvp)
    db.session.flush()
    return rsvp


# ---- invitations and reminders ----------------------------------------------------------------


def region_media_ids(milestone: Milestone) -> list[int]:
    """A regional conference invites the region's media; the national one the national media."""
    query = select(Contact.id).where(Contact.kind == "media", Contact.opted_out.is_(False), Contact.bounced.is_(False))
    if milestone.region_id is not None:
        query = query.where(Contact.region_id == milestone.region_id)
    else:
        query = query.where(or_(Contact.region_id.is_(None), Contact.media_scope == "national"))
    return list(db.session.scalars(query.order_by(Contact.id)))


def pending_ids(milestone: Milestone) -> list[int]:
    """Invited contacts who have not answered, or only "maybe" (and can still be written to)."""
    answered = select(Rsvp.contact_id).where(Rsvp.milestone_id == milestone.id, Rsvp.answer.in_(RSVP_ANSWERS))
    query = select(Contact.id).where(
        Contact.id.in_(invited_ids(milestone)),
        Contact.id.not_in(answered),
        Contact.opted_out.is_(False),
        Contact.bounced.is_(False),
    )
    return list(db.session.scalars(query.order_by(Contact.id)))


def default_template(milestone: Milestone, reminder: bool) -> dict:
    """The invitation (or its reminder) in plain French: date with its time, venue, address, speakers
    and the two answer buttons; the conference's title names it in the subject, not in a sentence."""
    record_ = details(milestone)
    speakers = "".join(f"<li>{literal(s)}</li>" for s in record_.speaker_list)
    address = f"<p>Adresse : {literal(record_.address)}</p>" if record_.address else ""
    intro = (
        "Sauf erreur, nous n'avons pas encore reçu votre réponse à notre invitation à la conférence de presse"
        if reminder
        else "Nous avons le plaisir de vous inviter à notre conférence de presse"
    )
    return {
        "name": ("Relance — " if reminder else "Invitation — ") + milestone.title[:150],
        "subject": ("Relance : " if reminder else "Invitation presse : ") + "{{ conference.title }}",
        "html": (
            "<p>Bonjour {{ contact.first_name }},</p>"
            f"<p>{intro} du <strong>{{{{ conference.starts_at|datetime_fr }}}}</strong>"
            "{% if conference.venue %}, {{ conference.venue }}{% endif %}"
            "{% if conference.city %} à {{ conference.city }}{% endif %}.</p>"
            f"{address}"
            + (f"<p>Avec :</p><ul>{speakers}</ul>" if speakers else "")
            + "<p>Merci de nous dire si vous venez :</p>"
            '<p><a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a> '
            '<a class="button button-secondary" href="{{ rsvp_no_url }}">Je ne pourrai pas venir</a></p>'
            # linked, never attached: a light message, and the kit always current
            '<p>Le dossier de presse : <a href="{{ press_kit_url }}">à télécharger (PDF)</a>.</p>'
        ),
        "text": "",
    }


def reminder_texts(mailing: Mailing) -> list[dict]:
    """What approving a conference's invitation also approves: its reminder to those who did not
    answer, as it reads now (a change of venue or speakers after the approval changes it)."""
    milestone = mailing.milestone
    if milestone is None or milestone.kind not in CONFERENCE_KINDS or mailing.name.startswith("Relance"):
        return []
    return [default_template(milestone, reminder=True)]


def invitation_sender(milestone: Milestone) -> dict:
    """The sender of the conference's latest invitation: its reminder leaves from the same address."""
    found = db.session.scalar(
        select(Mailing)
        .where(Mailing.milestone_id == milestone.id, Mailing.name.not_like("Relance%"))
        .order_by(Mailing.id.desc())
        .limit(1)
    )
    if found is None:
        return {}
    return {"from_name": found.from_name, "from_email": found.from_email, "reply_to": found.reply_to}


def send_to(user: User, milestone: Milestone, contact_ids: list[int], data: dict, reminder: bool, now: datetime):
    """Create the mailing tied to the conference and send it now (or submit it for approval)."""
    mailing = draft_for(user, milestone, contact_ids, data, reminder)
    action = "submit" if services.needs_approval(mailing) else "send_now"
    services.transition(user, mailing, action, now=now, send_at=now)  # submitted: it goes once approved
    if not reminder and action == "send_now":  # a submitted one invites when it is sent (its deliveries)
        known = set(db.session.scalars(select(Rsvp.contact_id).where(Rsvp.milestone_id == milestone.id)))
        for contact_id in contact_ids:
            if contact_id not in known:
                db.session.add(Rsvp(milestone_id=milestone.id, contact_id=contact_id, invited_at=now))
    db.session.flush()
    return mailing


def prepare_invitation(user: User, milestone: Milestone, data: dict) -> Mailing:
    """The invitation as a draft tied to the conference, addressed to the region's media: its page
    lets the audience be chosen (lists, segments, filters, people by name) and shows who receives it
    before it is sent; its recipients are invited when it goes (its deliveries)."""
    return draft_for(user, milestone, region_media_ids(milestone), data, reminder=False)


def draft_for(user: User, milestone: Milestone, contact_ids: list[int], data: dict, reminder: bool) -> Mailing:
    """The conference's mailing, written but not sent (a draft)."""
    require_write(user, milestone.region_id)
    refuse_nul(data)
    if not contact_ids:
        raise ValidationFailed(_("Personne à qui écrire."), {"audience": _("vide")})
    template = services.save_template(user, None, default_template(milestone, reminder))
    if reminder:
        data = {**invitation_sender(milestone), **{k: v for k, v in data.items() if v}}
    sender_name, sender_email = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    chamber = milestone.region.chamber if milestone.region else ""
    mailing = services.save_mailing(
        user,
        None,
        {
            "name": template.name,
            "from_name": data.get("from_name") or chamber or sender_name or "Relais",
            "from_email": data.get("from_email") or sender_email,
            "reply_to": data.get("reply_to") or "",
            "template_id": template.id,
            "milestone_id": milestone.id,
            "audience": {"contact_ids": contact_ids},
        },
        campaign=milestone.campaign,
    )
    db.session.flush()
    return mailing


def invite(user: User, milestone: Milestone, data: dict, now: datetime | None = None) -> Mailing:
    """Invite the media of the conference's region (or the given contacts)."""
    ids = [int(i) for i in data.get("contact_ids") or []] or region_media_ids(milestone)
    return send_to(user, milestone, ids, data, reminder=False, now=now or utcnow())


def remind(user: User, milestone: Milestone, data: dict, now: datetime | None = None) -> Mailing:
    """A reminder to the invited contacts who have not answered, and to them only."""
    now = now or utcnow()
    if now >= milestone.starts_at:
        raise ValidationFailed(_("La conférence a commencé."), {"milestone": _("commencée")})
    return send_to(user, milestone, pending_ids(milestone), data, reminder=True, now=now)


def rsvps(milestone: Milestone) -> list[dict]:
    """The API's `rsvps`: one per invited contact, answer None until it answers."""
    return [
        {
            "contact_id": a.contact_id,
            "answer": a.answer,
            "answered_at": a.answered_at,
            "checked_in_at": a.checked_in_at,
            "channel": a.channel,
            "recorded_by": a.recorded_by or None,
            "recorded_at": a.recorded_at,
            "walk_in": a.walk_in,
        }
        for a in attendance(milestone)
    ]
