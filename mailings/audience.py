"""Who a mailing goes to: its lists, segments, filter and contacts, as one query of contact ids.

Segments are resolved by contacts.audiences (one meaning of a segment everywhere). Unlike
contacts.audiences.audience_contacts(), opted-out and bounced contacts are kept here: the engine
freezes them as `skipped` deliveries, so the log says who did not get the message and why.
"""

from datetime import datetime

from sqlalchemy import case, func, literal, or_, select, union
from sqlalchemy.sql import Select

from accounts.models import Region
from accounts.scoping import can_read
from contacts.audiences import clean_filter, describe_filter, segment_contact_ids
from contacts.models import Contact, ContactList, Segment, list_members
from contacts.services import apply_filters
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db
from i18n import _
from mailings.hooks import hooks
from mailings.streams import chose_to_stop


def as_list(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def chosen_ids(audience: dict) -> Select | None:
    """The contacts the audience names (lists, segments, filter, contacts), before any exclusion."""
    parts = []
    if list_ids := as_list(audience.get("list_ids")):
        parts.append(select(list_members.c.contact_id).where(list_members.c.list_id.in_(list_ids)))
    for segment_id in as_list(audience.get("segment_ids")):
        segment = db.session.get(Segment, segment_id)
        if segment is not None:
            parts.append(segment_contact_ids(segment))
    if audience.get("filter"):
        parts.append(apply_filters(select(Contact.id), audience["filter"]))
    if contact_ids := as_list(audience.get("contact_ids")):
        parts.append(select(Contact.id).where(Contact.id.in_(contact_ids)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union(*parts)


def audience_ids(audience: dict, region_id: int | None = None) -> Select | None:
    """One select of the distinct contact ids of an audience, or None when it is empty.

    A regional mailing (`region_id`) reaches national contacts and its own region's only, whatever
    a national list or segment holds: its delivery log never shows another region's people."""
    ids = chosen_ids(audience)
    if ids is None:
        return None
    if excluded := as_list(audience.get("exclude_contact_ids")):  # issue 6: excluded in one click (pressure)
        ids = select(Contact.id).where(Contact.id.in_(ids), Contact.id.not_in(excluded))
    if region_id is not None:
        ids = select(Contact.id).where(Contact.id.in_(ids), in_reach(Contact.region_id, region_id))
    return ids


def audience_filter(raw, region_id: int | None, problems: dict) -> dict:
    """The `filter` of an audience (a segment's filter, not saved), cleaned; a regional mailing's names
    no other region."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        problems["audience.filter"] = _("un filtre (kind, region, media_type, beats, tags, city)")
        return {}
    try:
        cleaned = clean_filter(raw)
    except ValidationFailed as error:
        problems["audience.filter"] = "; ".join(str(v) for v in error.fields.values()) or error.message
        return {}
    if region_id is not None:
        region = db.session.get(Region, region_id)
        others = [c for c in as_list(cleaned.get("region")) if c not in ("national", region.code if region else "")]
        if others:
            problems["audience.filter"] = _("appartient à une autre région")
    return cleaned


def in_reach(region_column, region_id: int):
    """Rows a regional mailing may use: national ones and its own region's."""
    return or_(region_column.is_(None), region_column == region_id)


def mailing_audience(mailing) -> Select | None:
    """The contact ids of a mailing's audience, within what its region may reach."""
    return audience_ids(mailing.audience or {}, mailing.region_id)


def out_of_reach(audience: dict, region_id: int | None) -> dict[str, str]:
    """Lists, segments and contacts of another region named in a regional mailing's audience, by field."""
    if region_id is None:
        return {}
    problems = {}
    for field, model in (("list_ids", ContactList), ("segment_ids", Segment), ("contact_ids", Contact)):
        wanted = {int(i) for i in as_list(audience.get(field))}
        if wanted and db.session.scalar(
            select(model.id).where(model.id.in_(wanted), ~in_reach(model.region_id, region_id)).limit(1)
        ):
            problems[f"audience.{field}"] = _("appartient à une autre région")
    return problems


def audience_contacts(audience: dict, region_id: int | None = None) -> Select | None:
    ids = audience_ids(audience, region_id)
    return None if ids is None else select(Contact).where(Contact.id.in_(ids))


def audience_size(audience: dict, region_id: int | None = None) -> dict:
    """How many contacts, and how many of them can be written to (not opted out nor bounced)."""
    ids = audience_ids(audience, region_id)
    if ids is None:
        return {"total": 0, "reachable": 0}
    base = select(db.func.count()).select_from(Contact).where(Contact.id.in_(ids))
    total = db.session.scalar(base)
    reachable = db.session.scalar(base.where(Contact.opted_out.is_(False), Contact.bounced.is_(False)))
    return {"total": total, "reachable": reachable}


def missing_ids(audience: dict) -> dict[str, str]:
    """Audience ids that do not exist, by field."""
    problems = {}
    for field, model in (("list_ids", ContactList), ("segment_ids", Segment), ("contact_ids", Contact)):
        wanted = {int(i) for i in as_list(audience.get(field))}
        if wanted:
            found = set(db.session.scalars(select(model.id).where(model.id.in_(wanted))))
            if wanted - found:
                problems[f"audience.{field}"] = _(
                    "identifiants inconnus : %(ids)s", ids=", ".join(str(i) for i in sorted(wanted - found))
                )
    return problems


# ---- who receives it, who is left out and why ---------------------------------------------------

EXCLUSIONS = ("other_region", "erased", "opted_out", "bounced", "stopped_stream", "pressure", "no_address")


def exclusion_reason(mailing, now: datetime | None = None):
    """A SQL expression over Contact: why the contact is left out of the mailing (one of EXCLUSIONS), or NULL."""
    audience, region_id = mailing.audience or {}, mailing.region_id
    rules = []
    if region_id is not None:
        rules.append((~in_reach(Contact.region_id, region_id), "other_region"))
    rules += [(Contact.opted_out.is_(True), "opted_out"), (Contact.bounced.is_(True), "bounced")]
    rules.append((Contact.id.in_(chose_to_stop(mailing)), "stopped_stream"))  # their preference page
    if excluded := as_list(audience.get("exclude_contact_ids")):
        rules.append((Contact.id.in_(excluded), "pressure"))
    for hook in hooks().recipient_exclusions:  # press: the week's limit, walk-ins without an address
        code, ids = hook(mailing, now or utcnow())
        if ids is not None:
            rules.append((Contact.id.in_(ids), code))
    rules.append((or_(Contact.email.is_(None), Contact.email == "", Contact.email.not_like("%@%")), "no_address"))
    return case(*rules, else_=literal(None))


def erased_ids(audience: dict) -> list[int]:
    """Contacts named one by one that no longer exist (erased, GDPR): left out, nothing kept of them."""
    named = {int(i) for i in as_list(audience.get("contact_ids"))}
    if not named:
        return []
    return sorted(named - set(db.session.scalars(select(Contact.id).where(Contact.id.in_(named)))))


def recipients(mailing, page: int = 1, per_page: int = 50, excluded: bool | None = None) -> dict:
    """The mailing's audience as it would be frozen now, page by page: who receives it first (by name),
    then who is left out with the reason. `excluded`: only those left out (True) or only recipients
    (False). Also the counts: `receiving`, and by reason in `excluded`."""
    audience = mailing.audience or {}
    ids = chosen_ids(audience)
    reason = exclusion_reason(mailing).label("reason")
    rows = select(Contact, reason).where(Contact.id.in_(ids)) if ids is not None else None
    counts: dict = {}
    if rows is not None:
        tally = select(rows.subquery().c.reason, func.count()).group_by("reason")
        counts = {code: n for code, n in db.session.execute(tally).all()}
    gone = erased_ids(audience)
    by_reason = {code: counts.get(code, 0) for code in EXCLUSIONS}
    by_reason["erased"] = len(gone)
    receiving = counts.get(None, 0)
    items, total = [], 0
    if rows is not None:
        if excluded is True:
            rows = rows.where(reason.is_not(None))
        elif excluded is False:
            rows = rows.where(reason.is_(None))
        rows = rows.order_by(
            case((reason.is_(None), 0), else_=1), reason, Contact.last_name, Contact.first_name, Contact.id
        )
        total = db.session.scalar(select(func.count()).select_from(rows.subquery())) or 0
        for contact, why in db.session.execute(rows.limit(per_page).offset((page - 1) * per_page)).all():
            items.append(
                {"contact_id": contact.id, "contact": contact, "email": contact.email, "excluded_because": why}
            )
    if excluded is not False and gone:
        start = max((page - 1) * per_page - total, 0)
        room = per_page - len(items)
        items += [
            {"contact_id": i, "contact": None, "email": None, "excluded_because": "erased"}
            for i in gone[start : start + room]
        ]
        total += len(gone)
    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "receiving": receiving,
        "excluded": by_reason,
    }


def summary(audience: dict) -> str:
    """The audience as people read it: "Quotidien régional (PQR) · Bretagne + liste « Presse ESS » + 2 contacts choisis"."""
    parts = []
    if audience.get("filter"):
        parts.append(describe_filter(audience["filter"]))
    for field, model, word in (("list_ids", ContactList, _("liste")), ("segment_ids", Segment, _("segment"))):
        if wanted := as_list(audience.get(field)):
            names = db.session.scalars(select(model.name).where(model.id.in_(wanted)).order_by(model.name))
            parts += [f"{word} « {name} »" for name in names]
    if n := len(as_list(audience.get("contact_ids"))):
        parts.append(_("1 contact choisi") if n == 1 else _("%(n)s contacts choisis", n=n))
    return " + ".join(parts) or _("aucun destinataire choisi")


def recipient_rows(user, mailing, page: int = 1, per_page: int = 50, excluded: bool | None = None) -> dict:
    """recipients() for a person: name and region of each; someone of a region the person does not
    read (left out as `other_region`) shows neither name nor address."""
    found = recipients(mailing, page, per_page, excluded)
    for row in found["items"]:
        contact = row.pop("contact")
        if contact is not None and not can_read(user, contact.region_id):
            row.update(email=None, name="", region=None, region_name="", organisation="", hidden=True)
            continue
        row["hidden"] = False
        row["name"] = contact.full_name if contact is not None else ""
        row["region"] = contact.region.code if contact is not None and contact.region else None
        row["region_name"] = contact.region.name if contact is not None and contact.region else ""
        row["organisation"] = (contact.outlet or contact.organisation_name) if contact is not None else ""
    return found
