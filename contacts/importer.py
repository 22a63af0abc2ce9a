"""Contact import (CSV, .xlsx, .xls, .ods): rows checked one by one, written in batches, all in the
caller's one transaction.

A rejected row goes to the report with its number (as in a spreadsheet: the header is row 1), its
reason and the field at fault, and to the rows to fix (import_rejects) when the caller keeps them;
a row with a wrong secondary cell is imported without it and reported the same way; anything that breaks the file itself (an encoding that
changes half-way, a broken quote) raises ImportFailed and the caller rolls everything back.
"""

import csv
from collections.abc import Generator
from datetime import datetime
from typing import IO

from sqlalchemy import text

from accounts import audit
from accounts.models import Region, User
from accounts.scoping import WRITERS, require_role
from contacts import csvfiles, import_sheets
from contacts.i18n import _
from contacts.import_batches import BatchWriter
from contacts.import_rejects import RejectedRows
from contacts.import_rows import (
    ImportFailed,
    ImportOptions,
    ImportReport,
    Progress,
    RowReader,
    RowRejected,
    region_lookup,
    resolve_mapping,
)
from dbtypes import utcnow
from errors import ValidationFailed
from extensions import db

BATCH_ROWS = 1000


def run_import(
    stream: IO[bytes],
    actor: User | None,
    options: ImportOptions,
    progress: Progress | None = None,
    total_bytes: int | None = None,
    now: datetime | None = None,
    rejects: RejectedRows | None = None,
) -> ImportReport:
    """Import a CSV or workbook stream; writes nothing when options.dry_run. Flushes; the caller commits."""
    steps = import_steps(stream, actor, options, total_bytes, now, rejects=rejects)
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
    report: ImportReport | None = None,
    rejects: RejectedRows | None = None,
) -> Generator[tuple[int, int], None, ImportReport]:
    """run_import() as a generator of (rows read, bytes read) after each batch, returning the report.

    The caller may commit between two steps (a background import does, batch by batch); `report`,
    when given, is the one filled as it goes, for a caller that keeps what each commit wrote;
    `rejects`, when given, receives the rows to fix."""
    now = now or utcnow()
    if actor is not None:
        require_role(actor, *WRITERS)
    if actor is not None and actor.role == "regional" and not options.default_region:
        region = db.session.get(Region, actor.region_id)
        options.default_region = region.code if region else None
    source = open_source(stream, total_bytes)
    mapping = resolve_mapping(source, options.mapping)
    report = report or ImportReport()
    report.dry_run, report.format, report.encoding = options.dry_run, source.format, source.encoding
    report.delimiter, report.file_type, report.sheet = source.delimiter, source.file_type, source.sheet
    try:
        reader = RowReader(source.headers, mapping, options, region_lookup())
    except ValueError as error:
        raise ValidationFailed(str(error), {"region": str(error)}) from error
    if rejects is not None:
        rejects.start(source.headers)
    if db.session.get_bind().dialect.name == "postgresql":
        # The per-batch look-ups are prepared statements; a generic plan made while the table was
        # small would scan it for every batch. Custom plans, for this transaction only.
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    writer = BatchWriter(actor, options, report, now, rejects, reader.column_of)
    seen: dict[str, int] = {}
    row_number = source.first_row
    try:
        for cells in source.rows:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue
            report.rows += 1
            try:
                values, problems = reader.read(cells)
            except RowRejected as error:
                writer.reject(row_number, str(error), error.field, cells)
                continue
            first = seen.get(values["email"])
            if first is not None:
                message = _("adresse en double dans le fichier (déjà ligne %(n)s)", n=first)
                writer.reject(row_number, message, "email", cells)
                continue
            seen[values["email"]] = row_number
            writer.add(row_number, values, cells, problems)
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

    changes = {
        "created": report.created,
        "updated": report.updated,
        "skipped": report.skipped,
        "rejected": report.rejected,
        "source": options.source,
    }
    audit.record("import", "contacts", "", changes)


def open_source(stream: IO[bytes], total_bytes: int | None = None) -> csvfiles.CsvSource:
    """The file's headers and rows, whatever its format; ImportFailed when it cannot be read."""
    try:
        return import_sheets.open_table(stream, total_bytes)
    except csvfiles.UnreadableFile as error:
        message = _("Fichier illisible : ni un CSV, ni un classeur Excel (.xlsx, .xls) ou OpenDocument (.ods).")
        raise ImportFailed(message, {"file": str(error)}) from error


def check_file(stream: IO[bytes], options: ImportOptions) -> None:
    """What an import would refuse before its first row (a file it cannot read, a wrong mapping),
    said now: a queued import would only fail later, on its page."""
    resolve_mapping(open_source(stream), options.mapping)
    stream.seek(0)


def preview(stream: IO[bytes], options: ImportOptions, rows: int = 8) -> dict:
    """The file as we read it, for the mapping page: format, columns, mapping and first rows."""
    source = open_source(stream)
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
            values, problems = reader.read(cells)
        except ValueError as error:
            parsed.append({"error": str(error)})
        else:
            parsed.append({"values": values, "problems": [message for _field, message in problems]})
    return {
        "format": source.format,
        "format_label": csvfiles.FORMAT_LABELS[source.format],
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "file_type": source.file_type,
        "file_type_label": import_sheets.FILE_TYPE_LABELS[source.file_type],
        "sheet": source.sheet,
        "first_row": source.first_row,
        "headers": source.headers,
        "mapping": mapping,
        "rows": sample,
        "parsed": parsed,
    }
