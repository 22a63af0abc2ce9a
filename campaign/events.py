"""Events of the month: vocabulary, editing, public proposals, moderation and its emails.

Moderation: `proposed` → `approved` or `rejected` (with a reason); a rejected event can be
approved on second thought and an approved one withdrawn (rejected, with a reason). Only approved
events are ever public.
"""

import hashlib
import logging
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import cast, delete, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import selectinload

from accounts.models import Region, User
from accounts.scoping import WRITERS, get_readable, readable, require_write
from campaign.federation_models import EventVocabulary, ProposalAttempt
from campaign.models import Campaign, Event
from campaign.services import region_by_code, to_utc, zone
from errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from extensions import db
from i18n import _
from input_rules import has_nul, refuse_nul
from mail_transport import SmtpChannel
from matching import pick, unique
from pagination import page_count, paginate

log = logging.getLogger("relais.events")

# The seed's vocabulary (note de présentation, Mois de l'ESS 2008): the default, editable per campaign.
DEFAULT_TYPES = (
    "Séminaire",
    "Visite d'entreprise",
    "Forum",
    "Colloque",
    "Journée portes ouvertes",
    "Opération de prévention",
    "Marché",
    "Salon",
    "Session d'information",
    "Rendez-vous festif",
)
DEFAULT_THEMES = (
    "Tourisme social et solidaire",
    "Investissement socialement responsable",
    "Économie et utilité sociale",
    "Bénévolat associatif",
    "Femme et laïcité",
    "Services à la personne",
    "Coopération décentralisée",
    "Éducation populaire",
    "Développement durable",
    "Élections prud'homales",
    "Culture et territoires",
    "Recyclage",
    "Insertion",
    "Responsabilité sociale des entreprises",
    "Mutualisme et prévention",
    "Consommation responsable",
    "Démocratie et entreprise",
    "Patrimoine et chantiers de jeunes",
    "Fondations",
    "Lutte contre les discriminations",
)
TRANSITIONS = {
    "proposed": ("approved", "rejected"),
    "approved": ("rejected",),
    "rejected": ("approved",),
}
MAX_THEMES = 5
PROGRAMME_PAGE = 50  # events per page of the public programme
TEXT_LIMITS = {
    "title": 200,
    "type": 60,
    "city": 120,
    "venue": 200,
    "organiser": 200,
    "organiser_email": 254,
    "description": 5000,
}


# ---- vocabulary ---------------------------------------------------------------------------------


def vocabulary(campaign: Campaign) -> tuple[list[str], list[str]]:
    """The campaign's event types and themes, or the seed's lists when it has none of its own."""
    rows = db.session.scalars(
        select(EventVocabulary)
        .where(EventVocabulary.campaign_id == campaign.id)
        .order_by(EventVocabulary.position, EventVocabulary.id)
    ).all()
    types = [r.label for r in rows if r.kind == "type"] or list(DEFAULT_TYPES)
    themes = [r.label for r in rows if r.kind == "theme"] or list(DEFAULT_THEMES)
    return types, themes


def save_vocabulary(actor: User, campaign: Campaign, types: list[str], themes: list[str]) -> None:
    """Replace the campaign's lists (national team); events keep the labels they already carry."""
    require_write(actor, None)
    if has_nul(types) or has_nul(themes):
        raise ValidationFailed(
            _("Caractère NUL refusé."),
            {"types" if has_nul(types) else "themes": _("sans caractère NUL")},
        )
    cleaned = {kind: clean_labels(values) for kind, values in (("type", types), ("theme", themes))}
    for kind, values in cleaned.items():
        if not values:
            raise ValidationFailed(_("Une liste ne peut pas être vide."), {f"{kind}s": _("au moins une entrée")})
        if any(len(v) > 120 for v in values):
            raise ValidationFailed(_("Entrée trop longue."), {f"{kind}s": _("120 caractères au plus par entrée")})
    db.session.execute(delete(EventVocabulary).where(EventVocabulary.campaign_id == campaign.id))
    for kind, values in cleaned.items():
        for position, label in enumerate(values):
            db.session.add(EventVocabulary(campaign_id=campaign.id, kind=kind, label=label, position=position))
    db.session.flush()


def clean_labels(values: list[str]) -> list[str]:
    """Labels once each, case and accents aside ("Recyclage" and "recyclage" are one)."""
    return unique(values)


def chosen_labels(values: list[str], vocabulary: list[str]) -> tuple[list[str], list[str]]:
    """The labels in the vocabulary's spelling ("recyclage" is "Recyclage"), and those it lacks."""
    chosen, unknown = [], []
    for value in clean_labels(values):
        label = pick(value, vocabulary)
        if label is None:
            unknown.append(value)
        elif label not in chosen:
            chosen.append(label)
    return chosen, unknown


# ---- reading ------------------------------------------------------------------------------------


def get_event(actor: User, event_id: int) -> Event:
    return get_readable(actor, Event, event_id, _("Cet événement n'existe pas."))


def events_query(actor: User, campaign: Campaign, region_code: str | None = None, status: str | None = None):
    """The campaign's events this user may read, by start time."""
    query = readable(select(Event).where(Event.campaign_id == campaign.id), actor, Event.region_id)
    if has_nul(region_code):
        raise ValidationFailed(_("Région inconnue."), {"region": _("code de région inconnu")})
    if region_code:
        query = query.where(Event.region_id == region_by_code(region_code).id)
    if status:
        query = query.where(Event.status == status)
    return query.order_by(Event.starts_at, Event.id)


def has_theme(theme: str):
    """SQL condition: the event's JSON list of themes holds exactly `theme`.

    Compared as JSON values, never as text patterns, so quotes, `%`, `_` or backslashes in a theme
    need no escaping and a theme never matches inside a longer one: SQLite walks the list with
    `json_each`, PostgreSQL tests jsonb containment (`themes::jsonb @> '["<theme>"]'`, which is also
    false, not an error, for a row whose value is not a list).
    """
    if db.engine.dialect.name == "postgresql":
        wanted = func.jsonb_build_array(theme)
        return cast(Event.themes, JSONB).op("@>")(wanted)
    elements = func.json_each(Event.themes).table_valued("value")
    return select(1).select_from(elements).where(elements.c.value == theme).exists()


def public_query(
    campaign: Campaign,
    region: Region | None = None,
    theme: str | None = None,
    type_: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    ends_from: datetime | None = None,
):
    """The select() of the approved events matching the programme's filters, by (start, id)."""
    query = select(Event).where(Event.campaign_id == campaign.id, Event.status == "approved")
    if region is not None:
        query = query.where(Event.region_id == region.id)
    if type_ or theme:  # "recyclage" in a link finds the theme "Recyclage"
        types, themes = vocabulary(campaign)
        type_, theme = type_ and (pick(type_, types) or type_), theme and (pick(theme, themes) or theme)
    if type_:
        query = query.where(Event.type == type_)
    if theme:
        query = query.where(has_theme(theme))
    tz = campaign.timezone
    if date_from:
        query = query.where(
            func.coalesce(Event.ends_at, Event.starts_at) >= to_utc(datetime.combine(date_from, time()), tz)
        )
    if ends_from:
        query = query.where(func.coalesce(Event.ends_at, Event.starts_at) >= ends_from)
    if date_to:
        end = to_utc(datetime.combine(date_to + timedelta(days=1), time()), tz)
        query = query.where(Event.starts_at < end)
    return query.order_by(Event.starts_at, Event.id)


def public_events(campaign: Campaign, *, page: int = 1, per_page: int = PROGRAMME_PAGE, **filters) -> dict:
    """One page of the approved events (nothing proposed or rejected is ever public), filtered in
    SQL by `public_query`'s filters and ordered by (start, id): `{"items", "page", "per_page",
    "total"}` as the API's pages. `ends_from` keeps the events still running at or after that moment
    (the embed's "from today", the .ics feed's window).
    """
    query = public_query(campaign, **filters).options(selectinload(Event.region))
    return paginate(query, {"page": page, "per_page": per_page})


def programme_pages(total: int, per_page: int = PROGRAMME_PAGE) -> int:
    """How many pages a programme of `total` events takes (one, even when empty)."""
    return page_count(total, per_page)


FEED_PAST_DAYS = 30
FEED_LIMIT = 1000


def feed_since(campaign: Campaign, now: datetime) -> datetime:
    """Where the .ics feed's window starts. A subscribed calendar cannot turn pages, so the feed is
    bounded: until the campaign has ended, events ending from 30 days before today (the campaign's
    zone) onward, so past events drop out of subscriptions as in Indico's category feeds; once it has
    ended (`ends_on` before today), everything from the campaign's first day: static history."""
    today = now.astimezone(zone(campaign.timezone)).date()
    first = campaign.starts_on if campaign.ends_on < today else today - timedelta(days=FEED_PAST_DAYS)
    return to_utc(datetime.combine(first, time()), campaign.timezone)


def feed_events(campaign: Campaign, since: datetime, **filters) -> list[Event]:
    """The .ics feed's events: the approved events matching `filters` that end at or after `since`
    (see feed_since), at most 1,000, by start."""
    return public_events(campaign, **filters, ends_from=since, per_page=FEED_LIMIT)["items"]


def feed_version(campaign: Campaign, since: datetime, filters: dict, *context) -> str:
    """The ETag of the feed of the events from `since` matching `filters`, rendered with `context`
    (the filters as given, title...), without loading a row.

    One aggregate over the feed's whole window (the same conditions, uncapped, on the programme's
    index): how many events and their latest `updated_at`. An addition, an approval or any edit
    moves the latest change; a withdrawal, a deletion or a move out of the selection lowers the
    count; `since` is in the tag, so it changes when the window moves. No Last-Modified is derived
    from it: a removal leaves the latest change where it was, and a client polling with
    If-Modified-Since alone would keep a withdrawn event.
    """
    query = public_query(campaign, **filters, ends_from=since).order_by(None)
    count, latest = db.session.execute(query.with_only_columns(func.count(Event.id), func.max(Event.updated_at))).one()
    return hashlib.sha256(repr((context, since, count, latest)).encode()).hexdigest()[:32]


# ---- writing ------------------------------------------------------------------------------------


def apply_fields(campaign: Campaign, event: Event, data: dict, errors: dict) -> None:
    """Copy and check the editable fields of `data` onto `event` (nothing reaches the database yet)."""
    with db.session.no_autoflush:
        copy_fields(campaign, event, data, errors)


def copy_fields(campaign: Campaign, event: Event, data: dict, errors: dict) -> None:
    refuse_nul(data)
    types, themes = vocabulary(campaign)
    for key, limit in TEXT_LIMITS.items():
        if key in data and data[key] is not None:
            value = data[key].strip() if isinstance(data[key], str) else data[key]
            if isinstance(value, str) and len(value) > limit:
                errors[key] = _("%(n)s caractères au plus", n=limit)
            setattr(event, key, value)
    if "region" in data:
        try:
            region = region_by_code(data["region"]) if data["region"] else None
        except ValidationFailed as error:
            errors.update(error.fields)
            region = None
        if region is None:
            errors.setdefault("region", "required")
        else:
            event.region, event.region_id = region, region.id
    if "themes" in data:
        chosen, unknown = chosen_labels(data["themes"] or [], themes)
        if unknown:
            errors["themes"] = _("thème inconnu : %(theme)s", theme=unknown[0])
        elif len(chosen) > MAX_THEMES:
            errors["themes"] = _("%(n)s thèmes au plus", n=MAX_THEMES)
        event.themes = chosen
    for key in ("starts_at", "ends_at"):
        if key in data:
            setattr(event, key, to_utc(data[key], campaign.timezone, key) if data[key] else None)
    if not (event.title or "").strip():
        errors["title"] = _("obligatoire")
    if event.type and "type" in data:
        event.type = pick(event.type, types) or event.type
        if event.type not in types:
            errors["type"] = _("l'un de : %(values)s", values=", ".join(types))
    if event.starts_at is None:
        errors["starts_at"] = _("obligatoire")
    elif event.ends_at and event.ends_at < event.starts_at:
        errors["ends_at"] = _("pas avant le début")
    if event.region_id is None:
        errors.setdefault("region", "required")


def save_event(actor: User, campaign: Campaign, event: Event | None, data: dict) -> Event:
    """Create or change an event; a coordinator only in its own region. Staff-made events are approved."""
    if event is not None:
        require_write(actor, event.region_id)
    elif actor.role not in WRITERS:
        raise PermissionDenied(_("Compte en lecture seule."))
    is_new = event is None
    event = event or Event(campaign_id=campaign.id, status="approved", themes=[])
    errors: dict[str, str] = {}
    apply_fields(campaign, event, data, errors)
    status = data.get("status")
    if is_new and status:
        if status not in TRANSITIONS:
            errors["status"] = _("l'un de : %(values)s", values="proposed, approved, rejected")
        event.status = status
    if event.status == "rejected" and is_new and not (data.get("rejection_reason") or "").strip():
        errors["rejection_reason"] = _("obligatoire pour refuser")
    if errors:
        raise ValidationFailed(_("Événement invalide : vérifiez les champs signalés."), errors)
    require_write(actor, event.region_id)
    if is_new and status == "rejected":
        event.rejection_reason = data["rejection_reason"].strip()
    db.session.add(event)
    db.session.flush()
    if not is_new and status and status != event.status:
        moderate(actor, event, status, data.get("rejection_reason") or data.get("reason"))
    return event


def delete_event(actor: User, event: Event) -> None:
    require_write(actor, event.region_id)
    db.session.delete(event)
    db.session.flush()


def label(status: str) -> str:
    """An event status as people say it ("approuvé", not "approved")."""
    words = {"proposed": _("proposé"), "approved": _("approuvé"), "rejected": _("refusé")}
    return words.get(status, status)


def moderate(actor: User, event: Event, status: str, reason: str | None = None) -> Event:
    """Approve or reject an event of the actor's region; a rejection needs a reason."""
    require_write(actor, event.region_id)
    if status not in TRANSITIONS.get(event.status, ()):
        raise Conflict(
            _(
                "Un événement « %(now)s » ne peut pas devenir « %(then)s ».",
                now=label(event.status),
                then=label(status),
            ),
            {"status": _("possible : %(values)s", values=", ".join(map(label, TRANSITIONS[event.status])) or "—")},
        )
    reason = (reason or "").strip()
    if has_nul(reason):
        raise ValidationFailed(_("Caractère NUL refusé."), {"reason": _("sans caractère NUL")})
    if status == "rejected" and not reason:
        raise ValidationFailed(_("Un refus doit être motivé."), {"reason": _("obligatoire pour refuser")})
    if len(reason) > 2000:
        raise ValidationFailed(_("Motif trop long."), {"reason": _("%(n)s caractères au plus", n=2000)})
    event.status = status
    event.rejection_reason = reason if status == "rejected" else ""
    db.session.flush()
    return event


# ---- public proposals ---------------------------------------------------------------------------


def proposal_limit() -> tuple[int, int]:
    config = current_app.config
    return int(config.get("EVENT_PROPOSAL_LIMIT", 5)), int(config.get("EVENT_PROPOSAL_WINDOW_SECONDS", 3600))


class TooManyProposals(DomainError):
    status = 429
    code = "too_many_requests"


def check_rate(address: str, now: datetime) -> None:
    """Refuse a proposal beyond the limit per address and window (counted in the database)."""
    limit, window = proposal_limit()
    since = now - timedelta(seconds=window)
    db.session.execute(delete(ProposalAttempt).where(ProposalAttempt.at < now - timedelta(days=1)))
    count = db.session.scalar(
        select(func.count())
        .select_from(ProposalAttempt)
        .where(ProposalAttempt.address == address, ProposalAttempt.at >= since)
    )
    if count >= limit:
        raise TooManyProposals("too many proposals from this address; try again later")


def record_attempt(address: str, now: datetime) -> None:
    db.session.add(ProposalAttempt(address=address[:64], at=now))
    db.session.flush()


def propose_event(campaign: Campaign, data: dict, now: datetime) -> Event:
    """An ESS organisation's proposal: it waits in its region's queue as `proposed`."""
    event = Event(campaign_id=campaign.id, status="proposed", themes=[])
    errors: dict[str, str] = {}
    apply_fields(campaign, event, data, errors)
    if not (event.organiser or "").strip():
        errors["organiser"] = _("obligatoire")
    if not (event.organiser_email or "").strip():
        errors["organiser_email"] = _("obligatoire")
    if event.starts_at and not campaign_window(campaign, event.starts_at):
        errors["starts_at"] = _("hors des dates de la campagne")
    if errors:
        raise ValidationFailed(_("Proposition invalide : vérifiez les champs signalés."), errors)
    db.session.add(event)
    db.session.flush()
    return event


def campaign_window(campaign: Campaign, moment: datetime) -> bool:
    day = moment.astimezone(zone(campaign.timezone)).date()
    return campaign.starts_on - timedelta(days=31) <= day <= campaign.ends_on + timedelta(days=62)


# ---- emails -------------------------------------------------------------------------------------


def coordinators(region_id: int) -> list[User]:
    """Who moderates a region: its active coordinators, else the national team."""
    people = db.session.scalars(
        select(User).where(User.region_id == region_id, User.role == "regional", User.active).order_by(User.email)
    ).all()
    if people:
        return list(people)
    return list(db.session.scalars(select(User).where(User.role == "national", User.active).order_by(User.email)))


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def deliver(recipients: list[str], subject: str, template: str, **context) -> bool:
    """Send one message per recipient (text and HTML parts); False when any did not go."""
    context.setdefault("base_url", base_url())
    text = render_template(f"events/email/{template}.txt", **context)
    html = render_template(f"events/email/{template}.html", **context)
    messages = [Message(subject=subject, recipients=[r], body=text, html=html) for r in recipients]
    try:
        return hand_over(messages)
    except Exception:  # a notice must never undo the proposal or the decision it reports
        log.exception("could not send %r to %s", subject, recipients)
        return False


def hand_over(messages: list[Message]) -> bool:
    """Through the transport, the one path to SMTP."""
    channel, all_sent = SmtpChannel(), True
    try:
        for message in messages:
            sender = parseaddr(message.sender or current_app.config["MAIL_DEFAULT_SENDER"])[1]
            outcome = channel.send(sender, message.recipients[0], message.as_bytes())
            if outcome.status != "sent":
                log.warning("notice %r to %s: %s", message.subject, message.recipients[0], outcome.text)
                all_sent = False
    finally:
        channel.close()
    return all_sent


def notify_proposal(event: Event) -> bool:
    """Tell the region's coordinators a proposal waits for them."""
    people = coordinators(event.region_id)
    return deliver(
        [u.email for u in people],
        f"Nouvelle proposition d'événement : {event.title}",
        "proposal",
        event=event,
        tz=event.campaign.timezone,
    )


def notify_decision(event: Event) -> bool:
    """Tell the proposer what the chamber decided."""
    if not event.organiser_email or event.status not in ("approved", "rejected"):
        return False
    subject = (
        f"Votre événement est publié : {event.title}"
        if event.status == "approved"
        else f"Votre proposition d'événement n'a pas été retenue : {event.title}"
    )
    return deliver(
        [event.organiser_email], subject, f"decision_{event.status}", event=event, tz=event.campaign.timezone
    )
