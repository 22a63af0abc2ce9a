"""Workbooks as people make them, for the import tests: .xlsx written by openpyxl (those LibreOffice
writes from a CSV: tests.readers.by_libreoffice)."""

import io


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
