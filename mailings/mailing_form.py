"""The mailing form's audience and sender, shared by the new-mailing and edit pages and by a
release's mailing: choices offered, what was ticked, and the service's data made from it."""

from email.utils import parseaddr

from flask import current_app, flash, request
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.models import Region, User
from accounts.scoping import readable
from campaign.models import Milestone
from campaign.services import to_utc, zone
from contacts.audiences import FORM_FILTER_KEYS, filter_choices, filter_from_form
from contacts.models import Contact, ContactList, Segment
from contacts.services import cities_of, contact_query
from dbtypes import MAX_ID
from errors import DomainError, ValidationFailed
from extensions import db
from mailings.audience import as_list, in_reach
from mailings.identities import identities_for
from mailings.models import EmailTemplate, Mailing

FILTER_PREFIX = "f_"  # the filter's fields: f_region, f_media_type, f_kind, f_beats (checkboxes), f_city (typed)
PICKER_LIMIT = 20


def regions_in_reach(user: User, region_id: int | None) -> list[Region]:
    """Regions a filter may name: every active one for a national mailing, its own for a regional one."""
    query = select(Region).where(Region.active).order_by(Region.name)
    if region_id is not None:
        query = query.where(Region.id == region_id)
    elif user.role == "regional":
        query = query.where(Region.id == user.region_id)
    return db.session.scalars(query).all()


def sender_choices(form, region_id: int | None) -> list:
    """Fill the sender select with the identities offered; their list (empty: addresses are typed)."""
    offered = identities_for(region_id)
    form.sender_id.choices = [SelectChoice(i.id, i.label) for i in offered]
    if offered and not form.sender_id.data:
        form.sender_id.data = offered[0].id  # the region's own identity comes first
    if not offered and request.method == "GET" and not form.from_email.data:
        form.from_name.data, form.from_email.data = last_sender(region_id)
    return offered


def last_sender(region_id: int | None) -> tuple[str, str]:
    """Without identities, the sender of the region's latest mailing (else the default sender): not retyped."""
    same_region = Mailing.region_id.is_(None) if region_id is None else Mailing.region_id == region_id
    latest = db.session.execute(
        select(Mailing.from_name, Mailing.from_email).where(same_region).order_by(Mailing.id.desc()).limit(1)
    ).first()
    if latest is not None:
        return latest.from_name, latest.from_email
    name, address = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    return name, address


def mailing_choices(form, user: User, campaign, region_id: int | None) -> list:
    """Templates, lists, segments and milestones the user may use; returns the identities offered."""
    templates = db.session.scalars(
        readable(select(EmailTemplate), user, EmailTemplate.region_id).order_by(EmailTemplate.name)
    )
    form.template_id.choices = [SelectChoice(t.id, t.name) for t in templates]
    lists = db.session.scalars(readable(select(ContactList), user, ContactList.region_id).order_by(ContactList.name))
    form.list_ids.choices = [SelectChoice(x.id, x.name) for x in lists]
    segments = db.session.scalars(readable(select(Segment), user, Segment.region_id).order_by(Segment.name))
    form.segment_ids.choices = [SelectChoice(s.id, s.name) for s in segments]
    milestones = db.session.scalars(
        readable(select(Milestone).where(Milestone.campaign_id == campaign.id), user, Milestone.region_id).order_by(
            Milestone.starts_at
        )
    )
    form.milestone_id.choices = [SelectChoice(0, "—")] + [SelectChoice(m.id, m.title) for m in milestones]
    return sender_choices(form, region_id)


def sender_data(form, offered: list) -> dict:
    """from_name, from_email, reply_to: the chosen identity's when identities are offered."""
    if not offered:
        return {
            "from_name": form.from_name.data or "",
            "from_email": form.from_email.data or "",
            "reply_to": (form.reply_to.data or "") if hasattr(form, "reply_to") else "",
        }
    chosen = next((i for i in offered if i.id == form.sender_id.data), None)
    if chosen is None:
        raise ValidationFailed(_("Choisissez un expéditeur proposé."), {"sender_id": _("expéditeur non proposé")})
    reply_to = (form.reply_to.data if hasattr(form, "reply_to") else "") or chosen.reply_to
    return {"from_name": chosen.name, "from_email": chosen.email, "reply_to": reply_to or ""}


def contact_ids_ticked() -> list[int]:
    return ids_ticked("contact_ids")


def audience_data(form) -> dict:
    """The audience ticked in the form: lists, segments, filter and contacts picked by name."""
    return {
        "list_ids": form.list_ids.data or [],
        "segment_ids": form.segment_ids.data or [],
        "filter": filter_from_form(request.form, FILTER_PREFIX),
        "contact_ids": contact_ids_ticked(),
    }


def mailing_data(form, campaign, offered: list) -> dict:
    data = {
        "name": form.name.data,
        "template_id": form.template_id.data,
        "milestone_id": form.milestone_id.data or None,
        "embargo_until": to_utc(form.embargo_until.data, campaign.timezone) if form.embargo_until.data else None,
        "audience": audience_data(form),
    }
    return data | sender_data(form, offered)


def contact_label(contact: Contact) -> str:
    who = contact.full_name or contact.email
    where = contact.outlet or contact.organisation_name
    return f"{who} — {contact.email}" + (f" ({where})" if where else "")


def picked(user: User, ids: list[int], region_id: int | None) -> list[dict]:
    """Contacts chosen by name, as the picker shows them (only those the user reads, in reach)."""
    ids = [i for i in ids if i <= MAX_ID]  # a larger one names no contact (and overflows SQLite)
    if not ids:
        return []
    query = contact_query(user).where(Contact.id.in_(ids))
    if region_id is not None:
        query = query.where(in_reach(Contact.region_id, region_id))
    return [{"id": c.id, "label": contact_label(c)} for c in db.session.scalars(query)]


def search(user: User, text: str, region_id: int | None, limit: int = PICKER_LIMIT) -> list[dict]:
    """Contacts whose name, address, organisation or outlet hold the words typed (the contact search)."""
    if len((text or "").strip()) < 2:
        return []
    try:
        query = contact_query(user, {"q": text})
    except DomainError:
        return []
    if region_id is not None:
        query = query.where(in_reach(Contact.region_id, region_id))
    return [{"id": c.id, "label": contact_label(c)} for c in db.session.scalars(query.limit(limit))]


def ids_ticked(name: str) -> list[int]:
    return sorted({int(v) for v in request.form.getlist(name) if v.strip().isdigit()})


def audience_from_request() -> dict:
    """The audience ticked in a form that has no list or segment fields of its own (a release's mailing)."""
    return {
        "list_ids": ids_ticked("list_ids"),
        "segment_ids": ids_ticked("segment_ids"),
        "filter": filter_from_form(request.form, FILTER_PREFIX),
        "contact_ids": contact_ids_ticked(),
    }


def list_choices(user: User) -> dict:
    """Lists and segments the user may use, as (id, name) pairs."""
    lists = db.session.scalars(readable(select(ContactList), user, ContactList.region_id).order_by(ContactList.name))
    segments = db.session.scalars(readable(select(Segment), user, Segment.region_id).order_by(Segment.name))
    return {"lists": [(x.id, x.name) for x in lists], "segments": [(x.id, x.name) for x in segments]}


def form_context(user: User, region_id: int | None, audience: dict | None = None, posted: bool | None = None) -> dict:
    """What the audience part of the form shows: the filter's choices and ticks, the contacts
    picked, and (without JavaScript, after "Chercher") the matches of the search. `posted`: read
    the ticks from this request's form (default: when it is a POST)."""
    posted = request.method == "POST" if posted is None else posted
    if posted:
        ids = contact_ids_ticked()
        chosen = {k: request.form.getlist(FILTER_PREFIX + k) for k in FORM_FILTER_KEYS}
    else:
        audience = audience or {}
        ids = [int(i) for i in as_list(audience.get("contact_ids"))]
        chosen = {k: as_list((audience.get("filter") or {}).get(k)) for k in FORM_FILTER_KEYS}
    chosen["city"] = ", ".join(cities_of(chosen["city"]))  # one text field: "Rennes, Brest"
    query = request.form.get("contact_search", "") if posted else ""
    return {
        "filter_choices": filter_choices(regions_in_reach(user, region_id)),
        "filter_chosen": chosen,
        "chosen_contacts": picked(user, ids, region_id),
        "search_results": search(user, query, region_id) if request.form.get("search_contacts") else [],
        "search_query": query,
        "filter_prefix": FILTER_PREFIX,
    }


def fill_from(form, mailing: Mailing, offered: list) -> None:
    """The form of an existing mailing, as it is."""
    audience = mailing.audience or {}
    form.list_ids.data = [int(i) for i in as_list(audience.get("list_ids"))]
    form.segment_ids.data = [int(i) for i in as_list(audience.get("segment_ids"))]
    form.milestone_id.data = mailing.milestone_id or 0
    match = next((i for i in offered if i.email == mailing.from_email), None)
    form.sender_id.data = match.id if match else (offered[0].id if offered else None)
    if mailing.embargo_until is not None:
        form.embargo_until.data = to_local(mailing.embargo_until, mailing.campaign.timezone)


def to_local(value, timezone: str):
    return value.astimezone(zone(timezone)).replace(tzinfo=None)


def place_errors(form, error: DomainError, offered: list) -> list[str]:
    """Put the service's field errors next to their fields; returns those about the audience (shown
    above the recipients) and flashes the message when no field could hold it."""
    audience, placed = [], False
    parts = {
        "audience.list_ids": _("Listes"),
        "audience.segment_ids": _("Segments"),
        "audience.contact_ids": _("Contacts choisis"),
        "audience.exclude_contact_ids": _("Contacts écartés"),
        "audience.filter": _("Filtres"),
    }
    for name, message in error.fields.items():
        if name.startswith("audience"):
            audience.append(
                _("%(part)s : %(problem)s", part=parts[name], problem=message) if name in parts else str(message)
            )
            continue
        if name in ("from_email", "from_name") and offered:
            name = "sender_id"
        if hasattr(form, name):
            getattr(form, name).errors = [*getattr(form, name).errors, message]
            placed = True
    if not placed:
        flash(error.message, "error")
    return audience
