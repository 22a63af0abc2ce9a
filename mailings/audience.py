"""Who a mailing goes to: its lists, segments and contacts, as one query of contact ids.

Segments are resolved by contacts.audiences (one meaning of a segment everywhere). Unlike
contacts.audiences.audience_contacts(), opted-out and bounced contacts are kept here: the engine
freezes them as `skipped` deliveries, so the log says who did not get the message and why.
"""

from sqlalchemy import or_, select, union
from sqlalchemy.sql import Select

from contacts.audiences import segment_contact_ids
from contacts.models import Contact, ContactList, Segment, list_members
from extensions import db
from i18n import _


def as_list(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def audience_ids(audience: dict, region_id: int | None = None) -> Select | None:
    """One select of the distinct contact ids of an audience, or None when it is empty.

    A regional mailing (`region_id`) reaches national contacts and its own region's only, whatever
    a national list or segment holds: its delivery log never shows another region's people."""
    parts = []
    if list_ids := as_list(audience.get("list_ids")):
        parts.append(select(list_members.c.contact_id).where(list_members.c.list_id.in_(list_ids)))
    for segment_id in as_list(audience.get("segment_ids")):
        segment = db.session.get(Segment, segment_id)
        if segment is not None:
            parts.append(segment_contact_ids(segment))
    if contact_ids := as_list(audience.get("contact_ids")):
        parts.append(select(Contact.id).where(Contact.id.in_(contact_ids)))
    if not parts:
        return None
    ids = parts[0] if len(parts) == 1 else union(*parts)
    if excluded := as_list(audience.get("exclude_contact_ids")):  # issue 6: excluded in one click (pressure)
        ids = select(Contact.id).where(Contact.id.in_(ids), Contact.id.not_in(excluded))
    if region_id is not None:
        ids = select(Contact.id).where(Contact.id.in_(ids), in_reach(Contact.region_id, region_id))
    return ids


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
                problems[f"audience.{field}"] = f"unknown ids: {sorted(wanted - found)}"
    return problems
