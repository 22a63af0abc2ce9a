"""Import, row by row: the options, the report, the column mapping and a row's cells read into
contact values (or a reason to reject the row).

The address, the region and the legal basis decide who may receive what and who sees the
contact: when one of them is wrong the row is refused. Any other wrong cell (a phone number, a
civility, a media type...) is left empty and reported by its field, and the rest of the row is
imported; either way the row goes to the rows to fix (import_rejects)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from accounts.models import Region
from addresses import address_problem
from campaign.services import region_keys
from contacts import csvfiles
from contacts.i18n import _
from contacts.models import fold
from contacts.services import normalise_phone
from errors import ValidationFailed
from extensions import db


class ImportFailed(ValidationFailed):
    """The file cannot be imported at all; nothing was written."""


class RowRejected(ValueError):
    """A row that cannot be imported at all, with the field at fault."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


# A cell that was wrong and left empty: (field, message); the rest of its row is imported.
FieldProblem = tuple[str, str]


@dataclass
class ImportOptions:
    source: str = ""
    legal_basis: str = "legitimate_interest"
    on_duplicate: str = "update"  # or "skip"
    default_kind: str = "other"
    default_region: str | None = None  # a region code
    mapping: dict[str, str] | None = None  # CSV column -> field; "" ignores a column
    dry_run: bool = False


MAX_REPORTED_ERRORS = 100


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS problems
    rejected: int = 0  # every row refused
    partial: int = 0  # rows imported with a wrong cell left empty
    rows: int = 0
    dry_run: bool = False
    format: str = "generic"
    encoding: str = ""
    delimiter: str = ","
    file_type: str = "csv"
    sheet: str = ""
    rejected_file: str = ""  # the token of the rows to fix (import_rejects), when there are some

    def reject(self, row: int, message: str, field: str = "", column: str = "") -> None:
        """Count a refused row; the report lists the first ones only (a 25 MB file answered 208 MB)."""
        self.rejected += 1
        self.note(row, message, field, column, imported=False)

    def note(self, row: int, message: str, field: str, column: str, imported: bool) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            entry = {"row": row, "message": message, "field": field, "column": column, "imported": imported}
            self.errors.append(entry)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": self.errors,
            "rejected": self.rejected,
            "partial": self.partial,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "file_type": self.file_type,
            "sheet": self.sheet,
            "rejected_file": self.rejected_file,
        }


Progress = Callable[[int, int], None]  # (rows read, bytes read)


def parse_mapping(text: str | None) -> dict | None:
    """The mapping as a person gives it (JSON text, to the API or the command line), or None."""
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationFailed(
            _("La correspondance des colonnes n'est pas du JSON."), {"mapping": str(error)}
        ) from error
    if mapping is not None and not isinstance(mapping, dict):
        raise ValidationFailed(
            _("La correspondance des colonnes doit être un objet."),
            {"mapping": _("colonne du CSV -> champ du contact")},
        )
    return mapping


def resolve_mapping(source: csvfiles.CsvSource, explicit: dict[str, str] | None) -> dict[str, str]:
    """The detected mapping, overridden by the one chosen; refuses unknown columns or fields."""
    mapping = dict(source.mapping)
    problems = {}
    for column, name in (explicit or {}).items():
        if column not in source.headers:
            problems[column] = _("colonne absente du fichier")
        elif not isinstance(name, str | None) or (name and name not in csvfiles.FIELDS):
            problems[column] = _("champ inconnu : %(f)s", f=json.dumps(name, ensure_ascii=False))
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
    """Turns the cells of one row into contact values and the problems of its cells, or RowRejected."""

    def __init__(self, headers: list[str], mapping: dict[str, str], options: ImportOptions, regions: dict):
        self.columns = [(index, mapping[h]) for index, h in enumerate(headers) if h in mapping]
        self.column_of: dict[str, str] = {}
        for index, name in self.columns:
            self.column_of.setdefault(name, headers[index])
        self.options, self.regions = options, regions
        self.default_region = self.region_id(options.default_region) if options.default_region else None

    def region_id(self, raw: str) -> int | None:
        key = fold(raw).strip()
        if key in ("", "national", "nationale", "france"):
            return None
        if key not in self.regions:
            raise RowRejected(_("région inconnue : %(r)s", r=raw), "region")
        return self.regions[key]

    def cells_of(self, cells: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
        raw: dict[str, str] = {}
        labels: dict[str, list[str]] = {"tags": [], "beats": []}
        for index, name in self.columns:
            value = csvfiles.unguarded(cells[index].strip()) if index < len(cells) else ""
            if name in labels:
                labels[name] += [v for v in csvfiles.split_labels(value) if v not in labels[name]]
            elif value and not raw.get(name):
                raw[name] = value
        return raw, labels

    @staticmethod
    def email_of(raw: dict) -> str:
        email_raw = raw.get("email", "")
        if not email_raw:
            raise RowRejected(_("adresse e-mail manquante"), "email")
        email = csvfiles.fast_email(email_raw)
        if email is None:
            try:
                email = validate_email(email_raw, check_deliverability=False).normalized.lower()
            except EmailNotValidError as error:
                message = _("adresse e-mail invalide (%(a)s) : %(e)s", a=email_raw, e=address_problem(error))
                raise RowRejected(message, "email") from error
        return email

    def read(self, cells: list[str]) -> tuple[dict, list[FieldProblem]]:
        raw, labels = self.cells_of(cells)
        email = self.email_of(raw)
        problems: list[FieldProblem] = []
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
            "city": raw.get("city", "")[:100],
            "outlet": raw.get("outlet", "")[:200],
            "partnership_level": raw.get("partnership_level", "")[:50],
            "notes": raw.get("notes", ""),
            "organisation": raw.get("organisation", "")[:200],
            "tags": labels["tags"],
            "beats": labels["beats"],
            "source": raw.get("source", "")[:200] or self.options.source,
        }
        legal_basis = raw.get("legal_basis")
        values["legal_basis"] = self.options.legal_basis
        if legal_basis:
            values["legal_basis"] = csvfiles.legal_basis_value(legal_basis)
            if values["legal_basis"] is None:
                raise RowRejected(f"{_('base légale inconnue')} : {legal_basis}", "legal_basis")
        values["region_id"] = self.region_id(raw["region"]) if raw.get("region") else self.default_region
        values["civility"] = self.choice(raw, "civility", csvfiles.civility_value, "civilité inconnue", problems)
        values["kind"] = self.choice(raw, "kind", csvfiles.kind_value, "type de contact inconnu", problems) or (
            self.options.default_kind
        )
        values["media_type"] = self.choice(
            raw, "media_type", csvfiles.media_type_value, "type de média inconnu", problems
        )
        values["media_scope"] = self.choice(raw, "media_scope", csvfiles.scope_value, "portée inconnue", problems)
        values["partnership_status"] = self.choice(
            raw, "partnership_status", csvfiles.partnership_value, "statut de partenariat inconnu", problems
        )
        values["phone"] = ""
        key = "phone" if raw.get("phone") else "mobile"
        if raw.get(key):
            try:
                values["phone"] = normalise_phone(raw[key])
            except ValidationFailed:
                problems.append((key, _("téléphone invalide : %(p)s", p=raw[key])))
        return values, problems

    @staticmethod
    def choice(raw: dict, key: str, parse, message: str, problems: list[FieldProblem]) -> str | None:
        if not raw.get(key):
            return None
        value = parse(raw[key])
        if value is None:
            problems.append((key, f"{_(message)} : {raw[key]}"))
        return value


def region_lookup() -> dict[str, int]:
    """Folded codes, names and chamber names of the regions -> id."""
    lookup = {}
    for region in db.session.scalars(select(Region)):
        lookup.update(dict.fromkeys(region_keys(region), region.id))
    return lookup
