"""Opening a file of contacts, whatever people have: CSV, or a workbook (.xlsx, .xls, .ods).

Every format gives the same source (csvfiles.CsvSource: headers, rows of text cells, a mapping),
so each row of any file goes through the same checks (import_rows.RowReader). Workbooks are
read with python-calamine (the Rust `calamine` reader: .xlsx, .xls and .ods with one API,
including what LibreOffice writes); the format is told by the file's first bytes, not its name.
"""

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO

import python_calamine

from contacts import csvfiles
from contacts.i18n import _

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003)
MAX_UNPACKED = 512 * 1024 * 1024  # a workbook's XML, unzipped: beyond, a zip bomb more than a contact list
HEADER_SEARCH_ROWS = 20  # a title or a blank line or two above the header is common in workbooks
FILE_TYPE_LABELS = {"csv": "CSV", "xlsx": "Excel (.xlsx)", "xls": "Excel 97-2003 (.xls)", "ods": "OpenDocument (.ods)"}


class SheetSource(csvfiles.CsvSource):
    """A workbook's sheet as a CsvSource; progress is told in rows, turned into the file's bytes."""

    def __init__(self, **kw):
        self.total_rows = kw.pop("total_rows")
        self.rows_read = 0
        super().__init__(**kw)

    @property
    def bytes_read(self) -> int:
        total = self.total_bytes or 0
        return total * self.rows_read // self.total_rows if self.total_rows else total


def open_table(stream: IO[bytes], total_bytes: int | None = None) -> csvfiles.CsvSource:
    """A CSV (read as a stream) or a workbook's first sheet with contacts; UnreadableFile otherwise."""
    head = stream.read(8)
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC):
        return open_workbook(head + stream.read(), total_bytes)
    return csvfiles.open_csv(io.BufferedReader(csvfiles.CountingReader(head, stream)), total_bytes)


def workbook_type(data: bytes) -> str:
    """xlsx, xls or ods from the file's content; UnreadableFile for another archive (.docx, .zip...)."""
    if data.startswith(OLE_MAGIC):
        return "xls"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if sum(entry.file_size for entry in archive.infolist()) > MAX_UNPACKED:
                raise csvfiles.UnreadableFile(_("classeur trop volumineux une fois décompressé"))
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
                return "ods"
    except zipfile.BadZipFile as error:
        raise csvfiles.UnreadableFile(_("archive ZIP abîmée : %(e)s", e=error)) from error
    raise csvfiles.UnreadableFile(_("archive qui n'est pas un classeur (.xlsx, .ods)"))


def open_workbook(data: bytes, total_bytes: int | None) -> csvfiles.CsvSource:
    file_type = workbook_type(data)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = first_sheet_with_rows(workbook)
    except python_calamine.PasswordError as error:
        raise csvfiles.UnreadableFile(_("classeur protégé par un mot de passe")) from error
    except python_calamine.CalamineError as error:
        raise csvfiles.UnreadableFile(_("classeur illisible : %(e)s", e=error)) from error
    if sheet is None:
        raise csvfiles.UnreadableFile(_("classeur sans aucune ligne"))
    rows = sheet.iter_rows()
    first_row = sheet.start[0] + 1 if sheet.start else 1
    looked: list[list[str]] = []
    header_at = None
    for cells in rows:
        looked.append([cell_text(value) for value in cells])
        if header_at is None and "email" in csvfiles.detect_mapping(looked[-1]).values():
            header_at = len(looked) - 1
            break
        if len(looked) >= HEADER_SEARCH_ROWS:
            break
    if header_at is None:  # no address column recognised: the first line with text, mapped by hand
        header_at = next((i for i, row in enumerate(looked) if any(cell.strip() for cell in row)), 0)
    headers = [h.strip().lstrip("\ufeff") for h in looked[header_at]]
    source = SheetSource(
        encoding="",
        delimiter="",
        headers=headers,
        rows=iter(()),
        counter=csvfiles.CountingReader(b"", io.BytesIO()),
        total_bytes=total_bytes or len(data),
        total_rows=max(1, sheet.height - header_at - 1),
    )
    source.rows = sheet_rows(source, looked[header_at + 1 :], rows)
    source.file_type, source.sheet, source.first_row = file_type, sheet.name, first_row + header_at
    source.mapping = csvfiles.detect_mapping(headers)
    source.format = csvfiles.detect_format(headers)
    return source


def first_sheet_with_rows(workbook):
    """The first visible worksheet holding something (a workbook often keeps empty Feuil2, Feuil3)."""
    for meta in workbook.sheets_metadata:
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            continue
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        sheet = workbook.get_sheet_by_name(meta.name)
        if sheet.height and any(str(v).strip() for row in sheet.iter_rows() for v in row):
            return sheet
    return None


def sheet_rows(source: SheetSource, buffered: list[list[str]], rest) -> Iterator[list[str]]:
    for cells in buffered:
        source.rows_read += 1
        yield cells
    for cells in rest:
        source.rows_read += 1
        yield [cell_text(value) for value in cells]


def cell_text(value) -> str:
    """A cell as the text people typed: 612345678.0 -> '612345678' (a phone typed as a number),
    a date as 19/06/2008, a boolean as oui/non; without NUL characters (Excel's _x0000_)."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != time() else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, timedelta | time):
        return str(value)
    return "" if value is None else str(value).replace("\x00", "")  # as csvfiles.without_nul
