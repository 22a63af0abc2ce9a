"""Import, batch by batch: a batch of checked rows looked up in a few queries and written with bulk
statements; the rows refused or imported without a wrong cell are reported by their field."""

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from accounts.models import User
from accounts.scoping import can_write
from contacts.i18n import _
from contacts.import_rejects import RejectedRows
from contacts.import_rows import FieldProblem, ImportOptions, ImportReport
from contacts.models import Contact, ContactBeat, ContactTag, Organisation, fold, search_text_of
from contacts.services import labels_in_use
from contacts.suppression import suppressed_among
from extensions import db

UPDATABLE = (
    "civility",
    "first_name",
    "last_name",
    "job_title",
    "city",
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

    def __init__(
        self,
        actor: User | None,
        options: ImportOptions,
        report: ImportReport,
        now: datetime,
        rejects: RejectedRows | None = None,
        column_of: dict[str, str] | None = None,
    ):
        self.actor, self.options, self.report, self.now = actor, options, report, now
        self.rejects, self.column_of = rejects, column_of or {}
        self.batch: list[tuple[int, dict]] = []
        self.cells: dict[int, tuple[list[str], list[FieldProblem]]] = {}  # the batch's rows as read
        self.organisations: dict[str, int | None] = {}  # folded name -> id
        self.vocabulary: dict[str, dict[str, str]] = {}  # "tag"/"beat" -> folded label -> label in use

    def add(self, row_number: int, values: dict, cells: list[str] | None = None, problems=()) -> None:
        self.batch.append((row_number, values))
        self.cells[row_number] = (cells or [], list(problems))

    def reject(self, row_number: int, message: str, field: str = "", cells: list[str] | None = None) -> None:
        """A row refused whole, with the field at fault."""
        if cells is None:
            cells = self.cells.get(row_number, ([], []))[0]
        column = self.column_of.get(field, "")
        self.report.reject(row_number, message, field, column)
        if self.rejects is not None:
            self.rejects.add(row_number, cells, self.in_column(column, message))

    def imported(self, row_number: int) -> None:
        """A row written (or to be, in a dry run): its wrong cells, left empty, are reported."""
        cells, problems = self.cells.get(row_number, ([], []))
        if not problems:
            return
        self.report.partial += 1
        for field, message in problems:
            column = self.column_of.get(field, "")
            text = _("%(problem)s ; contact importé sans ce champ", problem=message)
            self.report.note(row_number, text, field, column, imported=True)
            if self.rejects is not None:
                self.rejects.add(row_number, cells, self.in_column(column, text))

    @staticmethod
    def in_column(column: str, message: str) -> str:
        """A reason as the file to fix gives it: with the column, as the person's file names it."""
        return _("colonne « %(c)s » : %(m)s", c=column, m=message) if column else message

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        try:
            if batch:
                self.write(batch)
        finally:
            self.cells = {}
            if self.rejects is not None:
                self.rejects.flush()
                if self.rejects.count:
                    self.report.rejected_file = self.rejects.token

    def write(self, batch: list[tuple[int, dict]]) -> None:
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
                self.reject(row_number, _("région hors de votre périmètre"), "region")
            elif email in suppressed or (
                email in existing and self.actor is not None and not can_write(self.actor, existing[email].region_id)
            ):
                # one answer for both: an import says nothing of other regions' contacts or of erasures
                message = _("adresse non importée : elle est exclue des envois ou hors de votre périmètre")
                self.reject(row_number, message, "email")
            elif email in existing:
                if self.options.on_duplicate == "skip":
                    self.report.skipped += 1
                else:
                    updates.append((existing[email].id, values))
                    self.imported(row_number)
            else:
                creates.append(values)
                self.imported(row_number)
        self.report.created += len(creates)
        self.report.updated += len(updates)
        if self.options.dry_run:
            return
        self.resolve_organisations([v["organisation"] for v in creates] + [v["organisation"] for _, v in updates])
        self.create(creates)
        self.update(updates)

    def resolve_organisations(self, names: list[str]) -> None:
        """Organisations by their folded name (matching.fold): "Alternatives Économiques" in a file
        is the one already held as "Alternatives économiques"; new names are created once."""
        wanted: dict[str, str] = {}
        for name in names:
            key = fold(name)[:200]
            if key and key not in self.organisations:
                wanted.setdefault(key, " ".join(name.split()))
        if not wanted:
            return
        rows = db.session.execute(
            select(Organisation.id, Organisation.name_key).where(Organisation.name_key.in_(wanted))
        )
        for row in rows:
            self.organisations[row.name_key] = row.id
        missing = [(key, name) for key, name in wanted.items() if key not in self.organisations]
        if missing:
            created = db.session.execute(
                insert(Organisation).returning(Organisation.id, Organisation.name_key, sort_by_parameter_order=True),
                [
                    {
                        "name": n,
                        "name_key": k,
                        "kind": "other",
                        "region_id": None,
                        "website": "",
                        "created_at": self.now,
                    }
                    for k, n in missing
                ],
            )
            for row in created:
                self.organisations[row.name_key] = row.id

    def organisation_id(self, name: str) -> int | None:
        return self.organisations.get(fold(name)[:200]) if name else None

    def labels(self, column, values: list[str]) -> list[str]:
        """Tags or beats in the spelling already in use ("Économie" is the "economie" we hold)."""
        known = self.vocabulary.get(column.key)
        if known is None:
            known = self.vocabulary[column.key] = {fold(label): label for label in labels_in_use(column)}
        chosen = []
        for value in values:
            label = known.setdefault(fold(value), value)
            if label not in chosen:
                chosen.append(label)
        return chosen

    def create(self, creates: list[dict]) -> None:
        if not creates:
            return
        rows = []
        for v in creates:
            rows.append(
                {
                    "email": v["email"],
                    "civility": v["civility"],
                    "first_name": v["first_name"],
                    "last_name": v["last_name"],
                    "organisation_id": self.organisation_id(v["organisation"]),
                    "job_title": v["job_title"],
                    "city": v["city"],
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
        tags = [
            {"contact_id": ids[v["email"]], "tag": t} for v in creates for t in self.labels(ContactTag.tag, v["tags"])
        ]
        beats = [
            {"contact_id": ids[v["email"]], "beat": b}
            for v in creates
            for b in self.labels(ContactBeat.beat, v["beats"])
        ]
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
            for tag in self.labels(ContactTag.tag, values["tags"]):
                if tag not in contact.tags:
                    contact.tags.append(tag)
            for beat in self.labels(ContactBeat.beat, values["beats"]):
                if beat not in contact.beats:
                    contact.beats.append(beat)
        db.session.flush()
