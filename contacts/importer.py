"""CSV import: rows checked one by one, written in batches, all in the caller's one transaction.

A rejected row goes to the report with its number (as in a spreadsheet: the header is row 1) and
its reason; the valid rows are written; anything that breaks the file itself (an encoding that
changes half-way, a broken quote) raises ImportFailed and the caller rolls everything back.
"""

import csv
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import selectinload

from accounts.audit import current_actor
from accounts.models import AuditEntry, Region, User
from accounts.scoping import WRITERS, can_write, require_role
from contacts import csvfiles
from contacts.i18n import _
from contacts.models import Contact, ContactBeat, ContactTag, Organisation, fold, search_text_of
from contacts.services import normalise_phone
from contacts.suppression import suppressed_among
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db

BATCH_ROWS = 1000
UPDATABLE = (
    "first_name",
    "last_name",
    "job_title",
    "kind",
    "region_id",
    "phone",
    "media_type",
    "media_scope",
    "outlet",
    "partnership_status",
    "partnership_level",
    "notes",
)


class ImportFailed(ValidationFailed):
    """The file cannot be imported at all; nothing was written."""


@dataclass
class ImportOptions:
    source: str = ""
    legal_basis: str = "legitimate_interest"
    on_duplicate: str = "update"  # or "skip"
    default_kind: str = "other"
    default_region: str | None = None  # a region code
    mapping: dict[str, str] | None = None  # CSV column -> field; "" ignores a column
    dry_run: bool = False


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)
    rows: int = 0
    dry_run: bool = False
    format: str = "generic"
    encoding: str = ""
    delimiter: str = ","

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": self.errors,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }


Progress = Callable[[int, int], None]  # (rows read, bytes read)


def resolve_mapping(source: csvfiles.CsvSource, explicit: dict[str, str] | None) -> dict[str, str]:
    """The detected mapping, overridden by the one chosen; refuses unknown columns or fields."""
    mapping = dict(source.mapping)
    problems = {}
    for column, name in (explicit or {}).items():
        if column not in source.headers:
            problems[column] = _("colonne absente du fichier")
        elif name and name not in csvfiles.FIELDS:
            problems[column] = _("champ inconnu : %(f)s", f=name)
        elif name:
            mapping[column] = name
        else:
            mapping.pop(column, None)
    if problems:
        raise ValidationFailed(_("Correspondance des colonnes invalide."), {"mapping": problems})
    if "email" not in mapping.values():
        raise ValidationFailed(
            _("Aucune colonne ne donne l'adresse e-mail : choisissez-la dans la correspondance."),
            {"mapping": _("une colonne doit correspondre à « Adresse e-mail »")},
        )
    return mapping


class RowReader:
    """Turns the cells of one row into contact values, or a reason to reject it."""

    def __init__(self, headers: list[str], mapping: dict[str, str], options: ImportOptions, regions: dict):
        self.columns = [(index, mapping[h]) for index, h in enumerate(headers) if h in mapping]
        self.options, self.regions = options, regions
        self.default_region = self.region_id(options.default_region) if options.default_region else None

    def region_id(self, raw: str) -> int | None:
        key = fold(raw).strip()
        if key in ("", "national", "nationale", "france"):
            return None
        if key not in self.regions:
            raise ValueError(_("région inconnue : %(r)s", r=raw))
        return self.regions[key]

    def read(self, cells: list[str]) -> dict:
        raw: dict[str, str] = {}
        labels: dict[str, list[str]] = {"tags": [], "beats": []}
        for index, name in self.columns:
            value = cells[index].strip() if index < len(cells) else ""
            if name in labels:
                labels[name] += [v for v in csvfiles.split_labels(value) if v not in labels[name]]
            elif value and not raw.get(name):
                raw[name] = value
        email_raw = raw.get("email", "")
        if not email_raw:
            raise ValueError(_("adresse e-mail manquante"))
        email = csvfiles.fast_email(email_raw)
        if email is None:
            try:
                email = validate_email(email_raw, check_deliverability=False).normalized.lower()
            except EmailNotValidError as error:
                raise ValueError(_("adresse e-mail invalide (%(a)s) : %(e)s", a=email_raw, e=error)) from error
        first, last = raw.get("first_name", ""), raw.get("last_name", "")
        if not first and not last and raw.get("full_name"):
            first, _sep, last = raw["full_name"].rpartition(" ")
            if not first:
                first, last = last, ""
        values = {
            "email": email,
            "first_name": first[:100],
            "last_name": last[:100],
            "job_title": raw.get("job_title", "")[:150],
            "outlet": raw.get("outlet", "")[:200],
            "partnership_level": raw.get("partnership_level", "")[:50],
            "notes": raw.get("notes", ""),
            "organisation": raw.get("organisation", "")[:200],
            "tags": labels["tags"],
            "beats": labels["beats"],
            "source": raw.get("source", "")[:200] or self.options.source,
        }
        values["kind"] = self.choice(raw, "kind", csvfiles.kind_value, "type de contact inconnu") or (
            self.options.default_kind
        )
        values["media_type"] = self.choice(raw, "media_type", csvfiles.media_type_value, "type de média inconnu")
        values["media_scope"] = self.choice(raw, "media_scope", csvfiles.scope_value, "portée inconnue")
        values["partnership_status"] = self.choice(
            raw, "partnership_status", csvfiles.partnership_value, "statut de partenariat inconnu"
        )
        values["legal_basis"] = (
            self.choice(raw, "legal_basis", csvfiles.legal_basis_value, "base légale inconnue")
            or self.options.legal_basis
        )
        values["region_id"] = self.region_id(raw["region"]) if raw.get("region") else self.default_region
        phone = raw.get("phone") or raw.get("mobile")
        if phone:
            try:
                values["phone"] = normalise_phone(phone)
            except ValidationFailed as error:
                raise ValueError(_("téléphone invalide : %(p)s", p=phone)) from error
        else:
            values["phone"] = ""
        return values

    @staticmethod
    def choice(raw: dict, key: str, parse, message: str) -> str | None:
        if not raw.get(key):
            return None
        value = parse(raw[key])
        if value is None:
            raise ValueError(f"{_(message)} : {raw[key]}")
        return value


def region_lookup() -> dict[str, int]:
    """Folded codes, names and chamber names of the regions -> id."""
    lookup = {}
    for region in db.session.scalars(select(Region)):
        for key in (region.code, region.name, region.chamber):
            if key:
                lookup[fold(key).strip()] = region.id
    return lookup


def run_import(
    stream: IO[bytes],
    actor: User | None,
    options: ImportOptions,
    progress: Progress | None = None,
    total_bytes: int | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import a CSV stream; writes nothing when options.dry_run. Flushes; the caller commits."""
    steps = import_steps(stream, actor, options, total_bytes, now)
    while True:
        try:
            rows, done = next(steps)
        except StopIteration as finished:
            return finished.value
        if progress:
            progress(rows, done)


def import_steps(
    stream: IO[bytes],
    actor: User | None,
    options: ImportOptions,
    total_bytes: int | None = None,
    now: datetime | None = None,
) -> Generator[tuple[int, int], None, ImportReport]:
    """run_import() as a generator of (rows read, bytes read) after each batch, returning the report."""
    now = now or utcnow()
    if actor is not None:
        require_role(actor, *WRITERS)
    if actor is not None and actor.role == "regional" and not options.default_region:
        region = db.session.get(Region, actor.region_id)
        options.default_region = region.code if region else None
    try:
        source = csvfiles.open_csv(stream, total_bytes)
    except csvfiles.UnreadableFile as error:
        raise ImportFailed(_("Fichier illisible : ce n'est pas un CSV."), {"file": str(error)}) from error
    mapping = resolve_mapping(source, options.mapping)
    report = ImportReport(
        dry_run=options.dry_run, format=source.format, encoding=source.encoding, delimiter=source.delimiter
    )
    try:
        reader = RowReader(source.headers, mapping, options, region_lookup())
    except ValueError as error:
        raise ValidationFailed(str(error), {"region": str(error)}) from error
    if db.session.get_bind().dialect.name == "postgresql":
        # The per-batch look-ups are prepared statements; a generic plan made while the table was
        # small would scan it for every batch. Custom plans, for this transaction only.
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    writer = BatchWriter(actor, options, report, now)
    seen: dict[str, int] = {}
    row_number = 1
    try:
        for cells in source.rows:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue
            report.rows += 1
            try:
                values = reader.read(cells)
            except ValueError as error:
                report.errors.append({"row": row_number, "message": str(error)})
                continue
            first = seen.get(values["email"])
            if first is not None:
                message = _("adresse en double dans le fichier (déjà ligne %(n)s)", n=first)
                report.errors.append({"row": row_number, "message": message})
                continue
            seen[values["email"]] = row_number
            writer.add(row_number, values)
            if len(writer.batch) >= BATCH_ROWS:
                writer.flush()
                yield report.rows, source.bytes_read
        writer.flush()
    except UnicodeDecodeError as error:
        message = _(
            "Vers la ligne %(n)s, le fichier change d'encodage (%(enc)s attendu) : rien n'a été importé.",
            n=row_number,
            enc=source.encoding,
        )
        raise ImportFailed(message, {"file": str(error)}) from error
    except csv.Error as error:
        message = _("Ligne %(n)s : CSV mal formé (%(e)s) ; rien n'a été importé.", n=row_number, e=error)
        raise ImportFailed(message, {"file": str(error)}) from error
    yield report.rows, source.bytes_read
    report.errors.sort(key=lambda e: e["row"])
    if not options.dry_run and (report.created or report.updated):
        record_import(report, options)
    return report


def record_import(report: ImportReport, options: ImportOptions) -> None:
    """One audit entry for the whole import (not one per contact)."""

    user_id, actor = current_actor()
    db.session.execute(
        insert(AuditEntry).values(
            at=utcnow(),
            user_id=user_id,
            actor=actor,
            action="import",
            entity="contacts",
            entity_id="",
            changes={
                "created": report.created,
                "updated": report.updated,
                "skipped": report.skipped,
                "rejected": len(report.errors),
                "source": options.source,
            },
        )
    )


def bulk_insert(table, rows: list[dict]) -> None:
    """Insert rows in the session's transaction: COPY on PostgreSQL, executemany elsewhere."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


class BatchWriter:
    """Looks up a batch of rows in a few queries and writes them with bulk statements."""

    def __init__(self, actor: User | None, options: ImportOptions, report: ImportReport, now: datetime):
        self.actor, self.options, self.report, self.now = actor, options, report, now
        self.batch: list[tuple[int, dict]] = []
        self.organisations: dict[str, int | None] = {}

    def add(self, row_number: int, values: dict) -> None:
        self.batch.append((row_number, values))

    def reject(self, row_number: int, message: str) -> None:
        self.report.errors.append({"row": row_number, "message": message})

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        emails = [values["email"] for _, values in batch]
        suppressed = suppressed_among(emails)
        existing = {
            row.email: row
            for row in db.session.execute(
                select(Contact.id, Contact.email, Contact.region_id).where(Contact.email.in_(emails))
            )
        }
        creates, updates = [], []
        for row_number, values in batch:
            email = values["email"]
            if self.actor is not None and not can_write(self.actor, values["region_id"]):
                self.reject(row_number, _("région hors de votre périmètre"))
            elif email in suppressed:
                self.reject(row_number, _("adresse désinscrite, en échec ou effacée : elle reste exclue"))
            elif email in existing:
                found = existing[email]
                if self.actor is not None and not can_write(self.actor, found.region_id):
                    self.reject(row_number, _("adresse déjà présente dans un contact que vous ne pouvez pas modifier"))
                elif self.options.on_duplicate == "skip":
                    self.report.skipped += 1
                else:
                    updates.append((found.id, values))
            else:
                creates.append(values)
        self.report.created += len(creates)
        self.report.updated += len(updates)
        if self.options.dry_run:
            return
        self.resolve_organisations([v["organisation"] for v in creates] + [v["organisation"] for _, v in updates])
        self.create(creates)
        self.update(updates)

    def resolve_organisations(self, names: list[str]) -> None:
        wanted = {name.lower(): name for name in names if name and name.lower() not in self.organisations}
        if not wanted:
            return
        rows = db.session.execute(
            select(Organisation.id, Organisation.name).where(func.lower(Organisation.name).in_(wanted))
        )
        for row in rows:
            self.organisations[row.name.lower()] = row.id
        missing = [name for key, name in wanted.items() if key not in self.organisations]
        if missing:
            created = db.session.execute(
                insert(Organisation).returning(Organisation.id, Organisation.name, sort_by_parameter_order=True),
                [
                    {"name": n, "kind": "other", "region_id": None, "website": "", "created_at": self.now}
                    for n in missing
                ],
            )
            for row in created:
                self.organisations[row.name.lower()] = row.id

    def organisation_id(self, name: str) -> int | None:
        return self.organisations.get(name.lower()) if name else None

    def create(self, creates: list[dict]) -> None:
        if not creates:
            return
        rows = []
        for v in creates:
            rows.append(
                {
                    "email": v["email"],
                    "first_name": v["first_name"],
                    "last_name": v["last_name"],
                    "organisation_id": self.organisation_id(v["organisation"]),
                    "job_title": v["job_title"],
                    "kind": v["kind"],
                    "region_id": v["region_id"],
                    "phone": v["phone"],
                    "media_type": v["media_type"],
                    "media_scope": v["media_scope"],
                    "outlet": v["outlet"],
                    "partnership_status": v["partnership_status"],
                    "partnership_level": v["partnership_level"],
                    "source": v["source"],
                    "legal_basis": v["legal_basis"],
                    "collected_at": self.now,
                    "opted_out": False,
                    "opted_out_at": None,
                    "bounced": False,
                    "bounced_at": None,
                    "notes": v["notes"],
                    "search_text": search_text_of(
                        v["first_name"], v["last_name"], v["email"], v["organisation"], v["outlet"], v["job_title"]
                    ),
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
        bulk_insert(Contact.__table__, rows)
        ids = dict(
            db.session.execute(
                select(Contact.email, Contact.id).where(Contact.email.in_([v["email"] for v in creates]))
            ).all()
        )
        tags = [{"contact_id": ids[v["email"]], "tag": t} for v in creates for t in v["tags"]]
        beats = [{"contact_id": ids[v["email"]], "beat": b} for v in creates for b in v["beats"]]
        if tags:
            bulk_insert(ContactTag.__table__, tags)
        if beats:
            bulk_insert(ContactBeat.__table__, beats)

    def update(self, updates: list[tuple[int, dict]]) -> None:
        """Fill in what the file gives (a blank cell keeps what we had); tags and beats are added."""
        if not updates:
            return
        contacts = {
            c.id: c
            for c in db.session.scalars(
                select(Contact)
                .where(Contact.id.in_([i for i, _ in updates]))
                .options(
                    selectinload(Contact.tag_rows), selectinload(Contact.beat_rows), selectinload(Contact.organisation)
                )
            )
        }
        for contact_id, values in updates:
            contact = contacts[contact_id]
            for key in UPDATABLE:
                value = values.get(key)
                if value not in (None, "") and getattr(contact, key) != value:
                    setattr(contact, key, value)
            organisation_id = self.organisation_id(values["organisation"])
            if organisation_id and organisation_id != contact.organisation_id:
                contact.organisation = db.session.get(Organisation, organisation_id)
            for tag in values["tags"]:
                if tag not in contact.tags:
                    contact.tags.append(tag)
            for beat in values["beats"]:
                if beat not in contact.beats:
                    contact.beats.append(beat)
        db.session.flush()


def preview(stream: IO[bytes], options: ImportOptions, rows: int = 8) -> dict:
    """The file as we read it, for the mapping page: format, columns, mapping and first rows."""
    try:
        source = csvfiles.open_csv(stream)
    except csvfiles.UnreadableFile as error:
        raise ImportFailed(_("Fichier illisible : ce n'est pas un CSV."), {"file": str(error)}) from error
    mapping = dict(source.mapping)
    for column, name in (options.mapping or {}).items():
        if column in source.headers:
            if name:
                mapping[column] = name
            else:
                mapping.pop(column, None)
    sample = []
    try:
        for cells in source.rows:
            sample.append(cells)
            if len(sample) >= rows:
                break
    except (UnicodeDecodeError, csv.Error):  # a broken file still shows its first rows
        pass
    parsed = []
    reader = RowReader(source.headers, mapping, options, region_lookup()) if "email" in mapping.values() else None
    for cells in sample:
        if reader is None:
            parsed.append({"error": _("aucune colonne pour l'adresse e-mail")})
            continue
        try:
            parsed.append({"values": reader.read(cells)})
        except ValueError as error:
            parsed.append({"error": str(error)})
    return {
        "format": source.format,
        "format_label": csvfiles.FORMAT_LABELS[source.format],
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "headers": source.headers,
        "mapping": mapping,
        "rows": sample,
        "parsed": parsed,
    }
