"""Contact rules: validation, region scoping, search filters, suppression, erasure, GDPR export.

Lists, segments and audiences are in contacts/audiences.py; import in contacts/importer.py.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import phonenumbers
from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, String, and_, cast, delete, exists, func, or_, select, update

from accounts import audit
from accounts.models import AuditEntry, User
from accounts.scoping import can_read, get_readable, readable, require_role, require_write
from addresses import address_problem
from campaign.services import find_region
from contacts.i18n import _
from contacts.models import (
    CIVILITIES,
    CONTACT_KINDS,
    LEGAL_BASES,
    MEDIA_SCOPES,
    MEDIA_TYPES,
    PARTNERSHIP_STATUSES,
    Contact,
    ContactBeat,
    ContactTag,
    Organisation,
    fold,
    list_members,
)
from contacts.suppression import email_hash, flag_suppressed, keep_erased, record, suppression_reason
from dbtypes import utcnow
from errors import Conflict, ValidationFailed
from extensions import db
from matching import Key, pick, place, spellings, unique

signals = Namespace()
#: Sent with `contact_id`, `email_hash` and `email` just before a contact is erased: whoever keeps a copy of
#: the address elsewhere (e.g. delivery rows) connects here and scrubs it in the same transaction.
contact_erased = signals.signal("contact-erased")

FILTER_KEYS = ("q", "kind", "region", "tag", "tags", "media_type", "beat", "beats", "city")
TEXT_FIELDS = {
    "first_name": 100,
    "last_name": 100,
    "job_title": 150,
    "city": 100,
    "outlet": 200,
    "partnership_level": 50,
    "source": 200,
    "notes": 20000,
}


# ---- addresses, phones ---------------------------------------------------------


def normalise_email(raw: str | None) -> str:
    """The address as stored (validated, lower-cased); ValidationFailed naming `email` otherwise."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationFailed(_("Adresse e-mail manquante."), {"email": _("obligatoire")})
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        message = _("Adresse e-mail invalide : %(address)s", address=raw)
        raise ValidationFailed(message, {"email": address_problem(error)}) from error


def normalise_phone(raw: str | None, default_region: str = "FR") -> str:
    """A phone number in E.164 ('+33491000000'), French numbers understood without prefix."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise ValidationFailed(_("Numéro de téléphone illisible."), {"phone": str(error)}) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(_("Numéro de téléphone invalide."), {"phone": _("numéro invalide : %(n)s", n=raw)})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ---- reading --------------------------------------------------------------------------------


def phone_as_written(e164: str | None) -> str:
    """A stored number as people write it: a French one in the national form ('06 12 34 56 78'),
    another with the international prefix dialled from France ('00 44 20 7946 0958'), never with
    a leading '+' that a spreadsheet would read as a formula."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == "FR":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return "00 " + written.removeprefix("+")


def region_id_for(code: str | None) -> int | None:
    """A region code to its id; '' or None or 'national' is national (None)."""
    if not code or code == "national":
        return None
    region = find_region(code)
    if region is None:
        raise ValidationFailed(
            _("Région inconnue : %(code)s", code=code), {"region": _("région inconnue : %(code)s", code=code)}
        )
    return region.id


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple | set) or not all(isinstance(v, str | None) for v in value):
        raise ValidationFailed(_("Filtre invalide."), {"filter": _("un texte ou une liste de textes")})
    return [v for v in value if v not in (None, "")]


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def cities_of(value: Any) -> list[str]:
    """Cities given one by one or typed together ("Rennes, Brest"), once each, case and accents aside."""
    return unique((part for text in as_list(value) for part in text.split(",")), key=place)


MAX_SEARCH_WORDS = 12  # beyond, words are dropped: SQLite refuses a statement of thousands of LIKEs


def apply_filters(query: Select, filters: dict) -> Select:
    """Narrow a select() over contacts by q, kind, region, tag(s), media_type, beat(s) and city.

    Several values of one key mean any of them; different keys must all match.
    """
    q = fold(filters.get("q") or "").strip()
    for word in dict.fromkeys(q.split()[:MAX_SEARCH_WORDS]):  # a search is a few words, not a document
        query = query.where(Contact.search_text.like(like_pattern(word), escape="\\"))
    kinds = as_list(filters.get("kind"))
    if kinds:
        query = query.where(Contact.kind.in_(kinds))
    regions = as_list(filters.get("region"))
    if regions:
        ids = [region_id_for(code) for code in regions]
        national = None in ids
        ids = [i for i in ids if i is not None]
        clauses = ([Contact.region_id.in_(ids)] if ids else []) + ([Contact.region_id.is_(None)] if national else [])
        query = query.where(or_(*clauses))
    media_types = as_list(filters.get("media_type"))
    if media_types:
        query = query.where(Contact.media_type.in_(media_types))
    tags = as_list(filters.get("tag")) + as_list(filters.get("tags"))
    if tags:
        tags = labels_matching(ContactTag.tag, tags)
        query = query.where(
            exists().where(and_(ContactTag.contact_id == Contact.id, ContactTag.tag.in_(tags))).correlate(Contact)
        )
    beats = as_list(filters.get("beat")) + as_list(filters.get("beats"))
    if beats:
        beats = labels_matching(ContactBeat.beat, beats)
        query = query.where(
            exists().where(and_(ContactBeat.contact_id == Contact.id, ContactBeat.beat.in_(beats))).correlate(Contact)
        )
    cities = cities_of(filters.get("city"))
    if cities:
        query = query.where(Contact.city.in_(labels_matching(Contact.city, cities, key=place)))
    return query


def export_query(user: User, filters: dict | None = None) -> Select:
    """The contacts a whole-file export takes away: viewers (partners) read, they do not export."""
    require_role(user, "admin", "national", "regional")
    return contact_query(user, filters)


def contact_query(user: User | None, filters: dict | None = None) -> Select:
    """The contacts this user may read, filtered, by name. `user=None` is the command line."""
    query = select(Contact).select_from(Contact)  # keeps FROM when paginate() counts
    if user is not None:
        query = readable(query, user, Contact.region_id)
    query = apply_filters(query, filters or {})
    return query.order_by(Contact.last_name, Contact.first_name, Contact.id)


def get_contact(user: User | None, contact_id: int) -> Contact:
    return get_readable(user, Contact, contact_id, _("Ce contact n'existe pas."))


def distinct_labels(column, limit: int | None = 500) -> list[str]:
    """The distinct values of an indexed column, jumping from one to the next through the index.

    A plain SELECT DISTINCT reads every row (200,000 tag rows for 100,000 contacts); this reads
    one index entry per distinct value.
    """
    labels = select(func.min(column).label("value")).cte("labels", recursive=True)
    following = select(func.min(column)).where(column > labels.c.value).scalar_subquery()
    labels = labels.union_all(select(following).where(labels.c.value.is_not(None)))
    query = select(labels.c.value).where(labels.c.value.is_not(None)).order_by(labels.c.value).limit(limit)
    return list(db.session.scalars(query))


def labels_in_use(column) -> list[str]:
    """Every distinct tag (or beat, or city) held, however many: what typed labels are matched against."""
    return distinct_labels(column, limit=None)


def labels_matching(column, wanted: list[str], key: Key = fold) -> list[str]:
    """The tags (or beats, or cities) held that are one of `wanted`, case and accents aside (matching.fold;
    for cities matching.place: hyphens aside too)."""
    return spellings(wanted, labels_in_use(column), key)


def known_tags() -> list[str]:
    """Every tag in use (a vocabulary for the filters, not a list of people)."""
    return distinct_labels(ContactTag.tag)


def known_beats() -> list[str]:
    return distinct_labels(ContactBeat.beat)


# ---- writing --------------------------------------------------------------------------------


def organisation_named(name: str | None, kind: str = "other") -> Organisation | None:
    """The organisation of that name (case and accents aside), created when new."""
    name = " ".join((name or "").split())[:200]
    if not name:
        return None
    found = db.session.scalar(select(Organisation).where(Organisation.name_key == fold(name)[:200]))
    if found is None:
        found = Organisation(name=name, kind=kind)
        db.session.add(found)
    return found


def choice(data: dict, key: str, allowed: tuple, errors: dict) -> Any:
    value = data.get(key)
    if value in ("", None):
        return None
    if value not in allowed:
        errors[key] = _("valeur inconnue : %(v)s (%(a)s)", v=value, a=", ".join(allowed))
    return value


def clean_labels(values: Any, column=None) -> list[str]:
    """Tags or beats as stored: lower-cased, once each, in the spelling already in use for `column`
    ("Économie" joins the contacts tagged "economie")."""
    labels = unique(value.strip().lower()[:60] for value in as_list(values))
    if column is not None and labels:
        known = labels_in_use(column)
        labels = unique(pick(label, known) or label for label in labels)
    return labels


def save_contact(actor: User | None, contact: Contact | None, data: dict, now: datetime | None = None) -> Contact:
    """Create (contact=None) or change a contact from plain data; flushes, never commits.

    `region` is a code (None or '' for national); a regional coordinator's new contact defaults to
    its region. A duplicate address is a Conflict; a suppressed address stays suppressed.
    """
    now = now or utcnow()
    new = contact is None
    if not new and actor is not None:
        require_write(actor, contact.region_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if new or "email" in data:
        try:
            values["email"] = normalise_email(data.get("email"))
        except ValidationFailed as error:
            errors.update(error.fields)
    if "region" in data or new:
        code = data.get("region")
        if new and not code and actor is not None and actor.role == "regional":
            values["region_id"] = actor.region_id
        else:
            try:
                values["region_id"] = region_id_for(code)
            except ValidationFailed as error:
                errors.update(error.fields)
    if "phone" in data:
        try:
            values["phone"] = normalise_phone(data.get("phone"))
        except ValidationFailed as error:
            errors.update(error.fields)
    for key, allowed in (
        ("civility", CIVILITIES),
        ("kind", CONTACT_KINDS),
        ("media_type", MEDIA_TYPES),
        ("media_scope", MEDIA_SCOPES),
        ("partnership_status", PARTNERSHIP_STATUSES),
        ("legal_basis", LEGAL_BASES),
    ):
        if key in data:
            values[key] = choice(data, key, allowed, errors)
    for key, limit in TEXT_FIELDS.items():
        if key in data:
            text = (data.get(key) or "").strip()
            if len(text) > limit:
                errors[key] = _("%(n)s caractères au plus", n=limit)
            values[key] = text
    if values.get("kind", "x") is None:
        values["kind"] = "other"
    if values.get("legal_basis", "x") is None:
        errors["legal_basis"] = _("obligatoire")
    if data.get("opted_out") is False and contact is not None and contact.opted_out:
        errors["opted_out"] = _("une désinscription ne s'annule pas ici : seule la personne peut se réinscrire")
    if data.get("bounced") is False and contact is not None and contact.bounced:
        errors["bounced"] = _("une adresse en échec reste supprimée ; créez une nouvelle adresse")
    if errors:
        raise ValidationFailed(_("Contact invalide : vérifiez les champs signalés."), errors)
    if actor is not None and "region_id" in values:
        require_write(actor, values["region_id"])
    email = values.get("email")
    if email and (new or email != contact.email):
        clash = db.session.execute(select(Contact.id, Contact.region_id).where(Contact.email == email)).first()
        if clash is not None and actor is not None and not can_read(actor, clash.region_id):
            # says nothing of another region's contacts
            raise Conflict(_("Cette adresse ne peut pas être ajoutée."), {"email": _("non disponible")})
        if clash is not None:
            raise Conflict(_("Un contact a déjà l'adresse %(email)s.", email=email), {"email": _("déjà utilisée")})
    contact = contact or Contact(collected_at=now)
    if new:
        db.session.add(contact)
    for key, value in values.items():
        setattr(contact, key, value)
    if "organisation" in data:
        contact.organisation = organisation_named(data.get("organisation"), contact.kind or "other")
    if "tags" in data:
        contact.tags = clean_labels(data["tags"], ContactTag.tag)
    if "beats" in data:
        contact.beats = clean_labels(data["beats"], ContactBeat.beat)
    if data.get("opted_out") and not contact.opted_out:
        contact.opted_out, contact.opted_out_at = True, now
    if data.get("bounced") and not contact.bounced:
        contact.bounced, contact.bounced_at = True, now
    if email:
        reason = suppression_reason(email)
        if reason:
            flag_suppressed(contact, reason, now)
    db.session.flush()
    if contact.opted_out or contact.bounced:
        reason = "bounced" if contact.bounced and not contact.opted_out else "unsubscribed"
        record(contact.email, reason, now)
        db.session.flush()
    return contact


def delete_contact(actor: User | None, contact: Contact) -> None:
    """Remove a contact (a mistake, a duplicate). Erasure on request is erase_contact()."""
    if actor is not None:
        require_write(actor, contact.region_id)
    for table in (list_members, ContactTag.__table__, ContactBeat.__table__):  # SQLite enforces no FK cascade
        db.session.execute(delete(table).where(table.c.contact_id == contact.id))
    db.session.expire(contact, ["tag_rows", "beat_rows"])
    db.session.delete(contact)
    db.session.flush()


def erase_contact(actor: User | None, contact: Contact, now: datetime | None = None) -> str:
    """Erase everything held on a person; only the hash of the address stays, as 'erased'.

    The audit trail of the contact keeps that a change happened, not what it was. Returns the hash.
    """
    if actor is not None:
        require_write(actor, contact.region_id)
    now = now or utcnow()
    digest, contact_id, email = email_hash(contact.email), contact.id, contact.email
    contact_erased.send(contact_id=contact_id, email_hash=digest, email=email)
    record(email, "erased", now, replace=True)
    db.session.expunge(contact)
    for statement in (
        delete(list_members).where(list_members.c.contact_id == contact_id),
        delete(ContactTag).where(ContactTag.contact_id == contact_id),
        delete(ContactBeat).where(ContactBeat.contact_id == contact_id),
        delete(Contact).where(Contact.id == contact_id),  # Core: no audit snapshot of the person
        update(AuditEntry).where(audit_of(contact_id, email)).values(changes={"erased": True}),
    ):
        db.session.execute(statement)

    audit.record("erase", "contacts", str(contact_id), {"erased": True}, at=now)
    db.session.flush()
    return digest


def replay_erasures(hashes: Iterable[str], now: datetime | None = None) -> int:
    """After a restore of an older backup: erase again whoever was erased since, and keep their
    addresses suppressed. Returns how many contacts were erased again."""
    hashes = set(hashes)
    if not hashes:
        return 0
    now = now or utcnow()
    for digest in hashes:
        keep_erased(digest, now)
    again = [i for i, address in db.session.execute(select(Contact.id, Contact.email)) if email_hash(address) in hashes]
    for contact_id in again:
        erase_contact(None, db.session.get(Contact, contact_id), now)
    db.session.flush()
    return len(again)


def audit_of(contact_id: int, email: str):
    """The audit entries about one contact.

    The audit log writes creations before the row has its identity (entity_id ""), so those are
    found by the address they recorded.
    """
    recorded = like_pattern(f'"{email}"')
    return and_(
        AuditEntry.entity == "contacts",
        or_(
            AuditEntry.entity_id == str(contact_id),
            and_(AuditEntry.entity_id == "", cast(AuditEntry.changes, String).like(recorded, escape="\\")),
        ),
    )


def contact_out(contact: Contact) -> dict:
    """The contract's JSON shape of a contact."""
    return {
        "id": contact.id,
        "email": contact.email,
        "civility": contact.civility,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "organisation": contact.organisation.name if contact.organisation else None,
        "job_title": contact.job_title,
        "city": contact.city,
        "salutation": contact.salutation,
        "kind": contact.kind,
        "region": contact.region.code if contact.region else None,
        "phone": contact.phone,
        "tags": list(contact.tags),
        "media_type": contact.media_type,
        "media_scope": contact.media_scope,
        "outlet": contact.outlet,
        "beats": list(contact.beats),
        "partnership_status": contact.partnership_status,
        "partnership_level": contact.partnership_level,
        "legal_basis": contact.legal_basis,
        "source": contact.source,
        "collected_at": contact.collected_at,
        "opted_out": contact.opted_out,
        "opted_out_at": contact.opted_out_at,
        "bounced": contact.bounced,
        "bounced_at": contact.bounced_at,
        "notes": contact.notes,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }
