"""Who a mailing goes to: its lists, segments and contacts, as one query of contact ids.

A private resolver until `contacts.services` provides the shared one (then this should call it).
"""

from sqlalchemy import String, cast, or_, select, union
from sqlalchemy.sql import Select

from campaign.models import Region
from contacts.models import Contact, ContactList, Segment, contact_tags, list_members
from extensions import db


def as_list(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def segment_query(segment_filter: dict) -> Select:
    """The contact ids a saved filter (kind, region, tags, media_type, beats) matches."""
    query = select(Contact.id)
    if kinds := as_list(segment_filter.get("kind")):
        query = query.where(Contact.kind.in_(kinds))
    if codes := as_list(segment_filter.get("region")):
        query = query.where(Contact.region_id.in_(select(Region.id).where(Region.code.in_(codes))))
    if media := as_list(segment_filter.get("media_type")):
        query = query.where(Contact.media_type.in_(media))
    if tags := as_list(segment_filter.get("tags")):
        query = query.where(Contact.id.in_(select(contact_tags.c.contact_id).where(contact_tags.c.tag.in_(tags))))
    if beats := as_list(segment_filter.get("beats")):
        text = cast(Contact.beats, String)
        query = query.where(or_(*(text.like(f'%"{beat}"%') for beat in beats)))
    return query


def audience_ids(audience: dict) -> Select | None:
    """One select of the distinct contact ids of an audience, or None when it is empty."""
    parts = []
    if list_ids := as_list(audience.get("list_ids")):
        parts.append(select(list_members.c.contact_id).where(list_members.c.list_id.in_(list_ids)))
    for segment_id in as_list(audience.get("segment_ids")):
        segment = db.session.get(Segment, segment_id)
        if segment is not None:
            parts.append(segment_query(segment.filter or {}))
    if contact_ids := as_list(audience.get("contact_ids")):
        parts.append(select(Contact.id).where(Contact.id.in_(contact_ids)))
    if not parts:
        return None
    ids = parts[0] if len(parts) == 1 else union(*parts)
    if excluded := as_list(audience.get("exclude_contact_ids")):  # issue 6: excluded in one click (pressure)
        ids = select(Contact.id).where(Contact.id.in_(ids), Contact.id.not_in(excluded))
    return ids


def audience_contacts(audience: dict) -> Select | None:
    ids = audience_ids(audience)
    return None if ids is None else select(Contact).where(Contact.id.in_(ids))


def audience_size(audience: dict) -> dict:
    """How many contacts, and how many of them can be written to (not opted out nor bounced)."""
    ids = audience_ids(audience)
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
