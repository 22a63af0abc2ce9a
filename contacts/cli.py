"""`flask contacts import FILE [--dry-run]` and `flask contacts export [--format csv|vcard]`."""

import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from contacts import exporter, importer, services
from contacts.import_rejects import RejectedRows
from contacts.import_rows import parse_mapping
from contacts.models import CONTACT_KINDS, LEGAL_BASES, MEDIA_TYPES
from errors import DomainError
from extensions import db

contacts_cli = AppGroup("contacts", help="Contacts: import and export.")


@contacts_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check and count; change nothing.")
@click.option("--source", default="", help="Where the file comes from (recorded on each contact).")
@click.option("--legal-basis", type=click.Choice(LEGAL_BASES), default="legitimate_interest")
@click.option("--on-duplicate", type=click.Choice(("update", "skip")), default="update")
@click.option("--kind", type=click.Choice(CONTACT_KINDS), default="other", help="For rows without a type.")
@click.option("--region", default=None, help="Region code for rows without a region.")
@click.option("--mapping", default=None, help='JSON: CSV column -> field, e.g. \'{"Courriel": "email"}\'.')
@click.option(
    "--rejected",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the rows to fix (refused, or imported without a wrong cell) to this CSV.",
)
def import_command(file, dry_run, source, legal_basis, on_duplicate, kind, region, mapping, rejected) -> None:
    """Import contacts from a CSV FILE or an .xlsx, .xls or .ods workbook, in one transaction."""
    try:
        mapping = parse_mapping(mapping)
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields}") from error
    options = importer.ImportOptions(
        source=source or f"import {os.path.basename(file.name)}",
        legal_basis=legal_basis,
        on_duplicate=on_duplicate,
        default_kind=kind,
        default_region=region,
        mapping=mapping,
        dry_run=dry_run,
    )
    size = os.fstat(file.fileno()).st_size if hasattr(file, "fileno") else None

    def progress(rows: int, done: int) -> None:
        if size and sys.stderr.isatty():
            click.echo(f"\r{rows} lignes lues ({100 * done // size} %)", nl=False, err=True)

    rejects = None
    if rejected and not rejected.parent.is_dir():
        raise click.BadParameter(f"le dossier {rejected.parent} n'existe pas", param_hint="--rejected")
    if rejected:
        rejected.unlink(missing_ok=True)
        rejects = RejectedRows(rejected)
    try:
        report = importer.run_import(file, None, options, progress=progress, total_bytes=size, rejects=rejects)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip()) from error
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    label = "simulation : " if dry_run else ""
    read = f"{report.encoding}, séparateur {report.delimiter!r}" if report.file_type == "csv" else report.file_type
    if report.sheet:
        read += f", feuille « {report.sheet} »"
    click.echo(
        f"{label}{report.created} créés, {report.updated} mis à jour, {report.skipped} ignorés, "
        f"{report.rejected} rejetés, {report.partial} incomplets ({report.rows} lignes, {read})"
    )
    for error in report.errors:
        click.echo(f"  ligne {error['row']} : {error['message']}")
    if rejects is not None and rejects.count:
        click.echo(f"lignes à corriger : {rejected}")


@contacts_cli.command("export")
@click.option("--format", "format_", type=click.Choice(("csv", "vcard")), default="csv")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
@click.option("--kind", type=click.Choice(CONTACT_KINDS))
@click.option("--region", help="Region code, or 'national'.")
@click.option("--tag", multiple=True)
@click.option("--beat", multiple=True, help="A beat (rubrique) the journalist covers; several: any of them.")
@click.option("--media-type", "media_type", type=click.Choice(MEDIA_TYPES), multiple=True)
@click.option("--city", multiple=True, help='A city, case and accents aside; several: any ("Rennes, Brest").')
@click.option("--q", default="", help="Search text.")
def export_command(format_, output, kind, region, tag, beat, media_type, city, q) -> None:
    """Export contacts (CSV by default, or vCard) to standard output or --output, filtered as the
    contacts page filters them."""
    filters = {
        "kind": kind,
        "region": region,
        "tag": list(tag),
        "beat": list(beat),
        "media_type": list(media_type),
        "city": list(city),
        "q": q,
    }
    try:
        query = services.contact_query(None, filters)
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields or ''}".strip()) from error
    chunks = exporter.export_vcard(query) if format_ == "vcard" else exporter.export_csv(query)
    for chunk in chunks:
        output.write(chunk)
