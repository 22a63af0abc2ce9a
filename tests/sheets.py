"""Workbooks as people make them, for the import tests: .xlsx written by openpyxl, .ods and .xls
written by LibreOffice from a CSV, and a CSV opened in LibreOffice and saved as a workbook."""

import io
import subprocess
import tempfile
from pathlib import Path

from tests.readers import need


def xlsx(rows: list[list], title: str = "Presse") -> bytes:
    """A workbook made with openpyxl: one sheet of these rows (None for an empty cell)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Feuil2")  # an empty second sheet, as spreadsheets make
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def by_libreoffice(csv_bytes: bytes, target: str, separator: str = ";") -> bytes:
    """The CSV (UTF-8) opened by LibreOffice Calc as a person opens it, saved as `target` (ods, xls, xlsx)."""
    soffice = need("soffice")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "contacts.csv").write_bytes(csv_bytes)
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{folder}/profile",
                "--headless",
                f"--infilter=CSV:{ord(separator)},34,76,1",
                "--convert-to",
                target,
                "--outdir",
                str(folder),
                str(folder / "contacts.csv"),
            ],
            capture_output=True,
            timeout=240,
            check=False,
        )
        converted = folder / f"contacts.{target}"
        assert converted.exists(), f"LibreOffice did not convert the CSV: {done.stdout!r} {done.stderr!r}"
        return converted.read_bytes()
