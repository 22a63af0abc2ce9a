"""Exports: CSV that spreadsheets open safely, and vCard 3.0 that contacts programs import.

Both are generators over a select(), read in chunks, so a large base streams.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from contacts.csvfiles import FORMULA_STARTS
from contacts.labels import (
    CIVILITY_LABELS,
    KIND_LABELS,
    LEGAL_BASIS_LABELS,
    MEDIA_TYPE_LABELS,
    PARTNERSHIP_LABELS,
    SCOPE_LABELS,
    label,
)
from contacts.models import Contact
from contacts.services import phone_as_written
from extensions import db

CSV_COLUMNS = (
    ("email", "E-mail"),
    ("civility", "Civilité"),
    ("first_name", "Prénom"),
    ("last_name", "Nom"),
    ("organisation", "Organisme"),
    ("job_title", "Fonction"),
    ("city", "Ville"),
    ("kind", "Type"),
    ("region", "Région"),
    ("phone", "Téléphone"),
    ("media_type", "Type de média"),
    ("media_scope", "Portée"),
    ("outlet", "Média"),
    ("beats", "Rubriques"),
    ("tags", "Étiquettes"),
    ("partnership_status", "Statut du partenariat"),
    ("partnership_level", "Niveau du partenariat"),
    ("source", "Source"),
    ("legal_basis", "Base légale"),
    ("collected_at", "Collecté le"),
    ("opted_out", "Désinscrit"),
    ("bounced", "En échec"),
)
VCARD_PREFIXES = {"madame": "Mme", "monsieur": "M."}  # N's honorific prefix, as French address books write it
CHUNK = 1000
PARIS = ZoneInfo("Europe/Paris")


def neutralise(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): prefix with '."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def contacts_in_chunks(query: Select) -> Iterator[Contact]:
    """Every contact of the query, a chunk at a time, with what the export shows loaded per chunk."""
    last_id = 0
    base = query.order_by(None).order_by(Contact.id)
    while True:
        chunk = db.session.scalars(
            base.where(Contact.id > last_id)
            .limit(CHUNK)
            .options(
                selectinload(Contact.organisation),
                selectinload(Contact.region),
                selectinload(Contact.tag_rows),
                selectinload(Contact.beat_rows),
            )
        ).all()
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1].id


def local_minute(value: datetime | None) -> str:
    """A date and time a spreadsheet reads as one: '2008-10-23 10:00', in French time."""
    return value.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") if value else ""


def csv_row(contact: Contact) -> list[str]:
    """What a person reads in a spreadsheet: labels rather than codes, the region's name, phone
    numbers as they are written, dates a spreadsheet recognises (the API keeps codes and ISO)."""
    values = {
        "organisation": contact.organisation.name if contact.organisation else "",
        "civility": label(CIVILITY_LABELS, contact.civility),
        "kind": label(KIND_LABELS, contact.kind),
        "region": contact.region.name if contact.region else "",
        "phone": phone_as_written(contact.phone),
        "media_type": label(MEDIA_TYPE_LABELS, contact.media_type),
        "media_scope": label(SCOPE_LABELS, contact.media_scope),
        "partnership_status": label(PARTNERSHIP_LABELS, contact.partnership_status),
        "legal_basis": label(LEGAL_BASIS_LABELS, contact.legal_basis),
        "beats": ", ".join(contact.beats),
        "tags": ", ".join(contact.tags),
        "collected_at": local_minute(contact.collected_at),
        "opted_out": "oui" if contact.opted_out else "non",
        "bounced": "oui" if contact.bounced else "non",
    }
    row = []
    for key, _label in CSV_COLUMNS:
        value = values[key] if key in values else getattr(contact, key)
        row.append(neutralise(str(value or "")))
    return row


def export_csv(query: Select) -> Iterator[str]:
    """French-Excel-friendly CSV: UTF-8 with a BOM, `;` separated, formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _key, label in CSV_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    for contact in contacts_in_chunks(query):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_row(contact))
        yield buffer.getvalue()


def vcard_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")  # a lone CR would end the line for some readers
    )


def fold_line(line: str) -> str:
    """RFC 6350 §3.2 / RFC 2425 folding: lines of at most 75 octets, continued with a space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line + "\r\n"
    parts, current, size, limit = [], "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


def vcard(contact: Contact) -> str:
    """One vCard 3.0 (RFC 2426), read by Thunderbird, Apple and Google contacts."""
    organisation = contact.organisation.name if contact.organisation else contact.outlet
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{vcard_escape(contact.last_name)};{vcard_escape(contact.first_name)};;{VCARD_PREFIXES.get(contact.civility or '', '')};",
        f"FN:{vcard_escape(contact.full_name or contact.email)}",
        f"EMAIL;TYPE=INTERNET,WORK:{contact.email}",
    ]
    if organisation:
        lines.append(f"ORG:{vcard_escape(organisation)}")
    if contact.job_title:
        lines.append(f"TITLE:{vcard_escape(contact.job_title)}")
    if contact.phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{contact.phone}")
    if contact.city:
        lines.append(f"ADR;TYPE=WORK:;;;{vcard_escape(contact.city)};;;")
    labels = list(contact.tags) + ([contact.region.code] if contact.region else [])
    if labels:
        lines.append("CATEGORIES:" + ",".join(vcard_escape(label) for label in labels))
    lines.append(f"UID:relais-contact-{contact.id}")
    lines.append("END:VCARD")
    return "".join(fold_line(line) for line in lines)


def export_vcard(query: Select) -> Iterator[str]:
    for contact in contacts_in_chunks(query):
        yield vcard(contact)
