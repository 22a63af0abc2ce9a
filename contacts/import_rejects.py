"""The rows of an import to fix, kept as a CSV to download, correct in a spreadsheet and import again.

Each row is written as it was in the file, after two columns saying where it was and what to fix
("Ligne", "À corriger"); the importer ignores those two columns, so the fixed file imports as it
is (a fixed row updates the contact its first import created without the bad field). Files are
kept in the import folder's `rejected/` for a day (import_views.forget_old_imports), named
`<owner id>-<token>.csv`: only their owner, the national team and admins download them.
"""

import csv
import re
import secrets
from pathlib import Path

from flask import current_app

from accounts.models import User
from contacts.exporter import neutralise
from contacts.i18n import _
from errors import NotFound

COLUMNS = ("Ligne", "À corriger")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def folder() -> Path:
    base = current_app.config.get("CONTACTS_IMPORT_DIR") or Path(current_app.instance_path) / "imports"
    path = Path(base) / "rejected"
    path.mkdir(parents=True, exist_ok=True)
    return path


class RejectedRows:
    """Collects the rows to fix of one import, written in row order batch by batch."""

    def __init__(self, path: Path, token: str = ""):
        self.path, self.token = path, token
        self.headers: list[str] = []
        self.skip = 0  # our own two columns, when the file is a rejected-rows file fixed and sent back
        self.pending: dict[int, tuple[list[str], list[str]]] = {}
        self.count = 0

    @classmethod
    def for_user(cls, user: User) -> "RejectedRows":
        token = secrets.token_urlsafe(16)
        return cls(folder() / f"{user.id}-{token}.csv", token)

    def start(self, headers: list[str]) -> None:
        self.skip = len(COLUMNS) if tuple(headers[: len(COLUMNS)]) == COLUMNS else 0
        self.headers = headers[self.skip :]

    def add(self, row: int, cells: list[str], reason: str) -> None:
        """A row to fix; a second reason for the same row joins the first."""
        kept = self.pending.setdefault(row, (cells, []))
        kept[1].append(reason)

    def flush(self) -> None:
        if not self.pending:
            return
        new = not self.path.exists()
        with self.path.open("a", encoding="utf-8-sig" if new else "utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
            if new:
                writer.writerow([*COLUMNS, *(neutralise(h) for h in self.headers)])
            for row in sorted(self.pending):
                cells, reasons = self.pending[row]
                cells = list(cells[self.skip :]) + [""] * (len(self.headers) - len(cells[self.skip :]))
                writer.writerow([str(row), neutralise(" ; ".join(reasons)), *(neutralise(c) for c in cells)])
                self.count += 1
        self.pending = {}

    def discard(self) -> None:
        self.pending = {}
        self.path.unlink(missing_ok=True)
        self.count = 0


def find(user: User, token: str) -> Path:
    """The rows-to-fix file of that token, for its owner, the national team and admins."""
    if TOKEN.match(token or ""):
        for path in folder().glob(f"*-{token}.csv"):
            owner = path.name.split("-", 1)[0]
            if owner == str(user.id) or user.role in ("national", "admin"):
                return path
    raise NotFound(_("Fichier des lignes à corriger introuvable (il est gardé un jour)."))
