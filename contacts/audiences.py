"""Static lists, segments (saved filters resolved when used) and mailing audiences."""

from collections.abc import Iterable

from sqlalchemy import Select, func, insert, or_, select, union

from accounts.models import Region, User
from accounts.scoping import can_read, get_readable, readable, require_write
from contacts.i18n import _
from contacts.labels import KIND_LABELS, MEDIA_TYPE_LABELS, label
from contacts.models import Contact, ContactList, Segment, list_members
from contacts.services import (
    FILTER_KEYS,
    TEXT_FIELDS,
    apply_filters,
    as_list,
    cities_of,
    contact_query,
    known_beats,
    known_tags,
    labels_matching,
    region_id_for,
)
from errors import ValidationFailed
from extensions import db
from matching import pick, place

SEGMENT_KEYS = ("kind", "region", "tags", "media_type", "beats", "city", "q")


# ---- lists ----------------------------------------------------------------------------------


def list_query(user: User | None) -> Select:
    query = select(ContactList).select_from(ContactList).order_by(ContactList.name, ContactList.id)
    return readable(query, user, ContactList.region_id) if user is not None else query


def get_list(user: User | None, list_id: int) -> ContactList:
    return get_readable(user, ContactList, list_id, _("Cette liste n'existe pas."))


def create_list(actor: User | None, name: str, region: str | None = None, description: str = "") -> ContactList:
    """A new static list; a regional coordinator's lists belong to its region."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("Nom de liste invalide."), {"name": _("obligatoire, 200 caractères au plus")})
    region_id = region_id_for(region)
    if actor is not None and actor.role == "regional" and region_id is None:
        region_id = actor.region_id
    if actor is not None:
        require_write(actor, region_id)
    created = ContactList(name=name, region_id=region_id, description=description or "")
    db.session.add(created)
    db.session.flush()
    return created


def add_members(actor: User | None, contact_list: ContactList, contact_ids: Iterable[int]) -> int:
    """Add contacts (that the actor may read) to a list; returns how many were new."""
    if actor is not None:
        require_write(actor, contact_list.region_id)
    wanted = {int(i) for i in contact_ids}
    if not wanted:
        return 0
    rows = db.session.execute(select(Contact.id, Contact.region_id).where(Contact.id.in_(wanted))).all()
    found = {row.id for row in rows if actor is None or can_read(actor, row.region_id)}
    missing = sorted(wanted - found)
    if missing:
        raise ValidationFailed(
            _("Contacts introuvables : %(ids)s", ids=", ".join(map(str, missing[:20]))),
            {"contact_ids": _("inconnus ou hors de votre périmètre : %(ids)s", ids=missing[:20])},
        )
    present = set(
        db.session.scalars(
            select(list_members.c.contact_id).where(
                list_members.c.list_id == contact_list.id, list_members.c.contact_id.in_(found)
            )
        )
    )
    new = sorted(found - present)
    if new:
        db.session.execute(insert(list_members), [{"list_id": contact_list.id, "contact_id": i} for i in new])
    db.session.flush()
    return len(new)


def add_filtered_members(actor: User, contact_list: ContactList, filters: dict) -> int:
    """Add every contact matching the filters (that the actor reads) to a list, in one statement."""

    require_write(actor, contact_list.region_id)
    chosen = contact_query(actor, filters).with_only_columns(Contact.id).order_by(None)
    already = select(list_members.c.contact_id).where(list_members.c.list_id == contact_list.id)
    chosen = chosen.where(Contact.id.not_in(already))
    before = list_size(contact_list.id)
    db.session.execute(
        insert(list_members).from_select(
            ["list_id", "contact_id"], chosen.with_only_columns(db.literal(contact_list.id), Contact.id)
        )
    )
    db.session.flush()
    return list_size(contact_list.id) - before


def list_size(list_id: int) -> int:
    return db.session.scalar(select(func.count()).where(list_members.c.list_id == list_id)) or 0


def list_sizes(list_ids: list[int]) -> dict[int, int]:
    """Member counts of several lists in one query."""
    if not list_ids:
        return {}
    rows = db.session.execute(
        select(list_members.c.list_id, func.count())
        .where(list_members.c.list_id.in_(list_ids))
        .group_by(list_members.c.list_id)
    )
    return {list_id: 0 for list_id in list_ids} | dict(rows.all())


# ---- segments -------------------------------------------------------------------------------


def clean_filter(raw: dict | None) -> dict:
    """A segment filter with known keys only and list values where several are allowed."""
    raw = raw or {}
    unknown = sorted(set(raw) - set(SEGMENT_KEYS) - set(FILTER_KEYS))
    if unknown:
        raise ValidationFailed(_("Filtre invalide."), {"filter": _("clés inconnues : %(k)s", k=", ".join(unknown))})
    cleaned: dict = {}
    for key in ("kind", "region", "media_type"):
        values = as_list(raw.get(key))
        if values:
            cleaned[key] = values if len(values) > 1 else values[0]
    for key, alias in (("tags", "tag"), ("beats", "beat")):
        values = [v.strip().lower() for v in as_list(raw.get(key)) + as_list(raw.get(alias)) if v.strip()]
        if values:
            cleaned[key] = values
    if cities := cities_of(raw.get("city")):
        cleaned["city"] = clean_cities(cities)
    if (raw.get("q") or "").strip():
        cleaned["q"] = raw["q"].strip()
    apply_filters(select(Contact.id), cleaned)  # unknown region codes are refused here
    return cleaned


def clean_cities(cities: list[str]) -> list[str]:
    """Cities as a filter keeps them: in the spelling most contacts have ("montpellier" is "Montpellier"
    rather than "MONTPELLIER"), as typed when nobody lives there yet (a segment finds them once added)."""
    limit = TEXT_FIELDS["city"]
    if too_long := [city for city in cities if len(city) > limit]:
        message = _("ville de %(n)s caractères au plus : %(city)s", n=limit, city=too_long[0][:40] + "…")
        raise ValidationFailed(_("Filtre invalide."), {"filter": message})
    held = dict(
        db.session.execute(
            select(Contact.city, func.count())
            .where(Contact.city.in_(labels_matching(Contact.city, cities, key=place)))
            .group_by(Contact.city)
        ).all()
    )
    usual = sorted(held, key=lambda city: (-held[city], city.isupper(), city))
    return [pick(city, usual, key=place) or city for city in cities]


def filter_choices(regions: Iterable[Region]) -> dict[str, list[tuple[str, str]]]:
    """The values offered by the audience filters, as (code, label) pairs; `regions`: those the user reads."""
    return {
        "kinds": [(k, str(v)) for k, v in KIND_LABELS.items()],
        "media_types": [(k, str(v)) for k, v in MEDIA_TYPE_LABELS.items()],
        "regions": [("national", _("National"))] + [(r.code, r.name) for r in regions],
        "beats": [(b, b) for b in known_beats()],
        "tags": [(t, t) for t in known_tags()],
    }


FORM_FILTER_KEYS = ("kind", "media_type", "region", "beats", "city")


def filter_from_form(form, prefix: str = "") -> dict:
    """The audience filter of a form (`prefix` + kind, media_type, region, beats ticked, city typed), cleaned."""
    raw = {key: [v for v in form.getlist(prefix + key) if v.strip()] for key in FORM_FILTER_KEYS}
    return clean_filter({k: v for k, v in raw.items() if v})


def describe_filter(filter_: dict | None) -> str:
    """A filter as people read it: "Quotidien régional (PQR) · Bretagne · à Rennes, Brest · thème : emploi"."""
    filter_ = filter_ or {}
    parts = []
    if kinds := as_list(filter_.get("kind")):
        parts.append(", ".join(label(KIND_LABELS, k) for k in kinds))
    if media_types := as_list(filter_.get("media_type")):
        parts.append(", ".join(label(MEDIA_TYPE_LABELS, m) for m in media_types))
    if codes := as_list(filter_.get("region")):
        names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())
        parts.append(", ".join(_("National") if c == "national" else names.get(c, c) for c in codes))
    if cities := cities_of(filter_.get("city")):
        parts.append(at_cities(cities))
    for key, one, several in (("beats", _("thème"), _("thèmes")), ("tags", _("étiquette"), _("étiquettes"))):
        values = as_list(filter_.get(key)) + as_list(filter_.get(key[:-1]))
        if values:
            parts.append(f"{one if len(values) == 1 else several} : {', '.join(values)}")
    if (filter_.get("q") or "").strip():
        parts.append(_("recherche « %(q)s »", q=filter_["q"].strip()))
    return " · ".join(parts) or _("Tous les contacts")


def at_cities(cities: list[str]) -> str:
    """ "à Montpellier, Sète"; "au Havre", "aux Sables-d'Olonne": à + le, à + les contract in French."""
    article, _space, rest = cities[0].partition(" ")
    others = ", ".join([rest, *cities[1:]])
    if article.lower() == "le" and rest:
        return _("au %(cities)s", cities=others)
    if article.lower() == "les" and rest:
        return _("aux %(cities)s", cities=others)
    return _("à %(cities)s", cities=", ".join(cities))


def segment_query(user: User | None) -> Select:
    query = select(Segment).select_from(Segment).order_by(Segment.name, Segment.id)
    return readable(query, user, Segment.region_id) if user is not None else query


def get_segment(user: User | None, segment_id: int) -> Segment:
    return get_readable(user, Segment, segment_id, _("Ce segment n'existe pas."))


def create_segment(actor: User | None, name: str, filter_: dict | None) -> Segment:
    """A saved filter; a regional coordinator's segments resolve within what it may read."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(_("Nom de segment invalide."), {"name": _("obligatoire, 200 caractères au plus")})
    cleaned = clean_filter(filter_)
    region_id = actor.region_id if actor is not None and actor.role == "regional" else None
    if actor is not None:
        require_write(actor, region_id)
    segment = Segment(name=name, filter=cleaned, region_id=region_id)
    db.session.add(segment)
    db.session.flush()
    return segment


def segment_contact_ids(segment: Segment) -> Select:
    """The ids of the contacts a segment holds now (a regional segment: national + its region)."""
    query = apply_filters(select(Contact.id), segment.filter or {})
    if segment.region_id is not None:
        query = query.where(or_(Contact.region_id.is_(None), Contact.region_id == segment.region_id))
    return query


def segment_size(segment: Segment) -> int:
    ids = segment_contact_ids(segment).subquery()
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


# ---- audiences ------------------------------------------------------------------------------


def audience_contacts(
    list_ids: Iterable[int] = (), segment_ids: Iterable[int] = (), contact_ids: Iterable[int] = ()
) -> Select:
    """A select() of the distinct ids of the contacts a mailing may go to.

    The union of the lists' members, the segments resolved now and the given contacts, minus
    every opted-out or bounced contact. Unknown list or segment ids are ignored. Use it as
    `db.session.scalars(audience_contacts(...))` or inside an INSERT ... SELECT.
    """
    parts: list[Select] = []
    list_ids, segment_ids, contact_ids = list(list_ids), list(segment_ids), list(contact_ids)
    if list_ids:
        parts.append(select(list_members.c.contact_id.label("id")).where(list_members.c.list_id.in_(list_ids)))
    for segment in db.session.scalars(select(Segment).where(Segment.id.in_(segment_ids))) if segment_ids else ():
        parts.append(segment_contact_ids(segment))
    if contact_ids:
        parts.append(select(Contact.id).where(Contact.id.in_(contact_ids)))
    if not parts:
        return select(Contact.id).where(db.false())
    chosen = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return (
        select(Contact.id)
        .where(Contact.id.in_(select(chosen.c[0])))
        .where(Contact.opted_out.is_(False), Contact.bounced.is_(False))
        .order_by(Contact.id)
    )


def audience_size(
    list_ids: Iterable[int] = (), segment_ids: Iterable[int] = (), contact_ids: Iterable[int] = ()
) -> int:
    """How many contacts audience_contacts() would reach now."""
    ids = audience_contacts(list_ids, segment_ids, contact_ids).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(ids)) or 0
