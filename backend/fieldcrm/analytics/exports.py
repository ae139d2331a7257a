"""Report and leaderboard tables as CSV or XLSX, streamed in chunks.

CSV is UTF-8 with a byte-order mark (spreadsheet programs then read Chinese right), money in yuan
with two decimals, shares as fractions. XLSX is written with openpyxl's write-only workbook (rows go
to disk as they come, never a whole sheet in memory): numbers stay numbers, money is a number of
yuan with a ``#,##0.00`` format, shares a number with a percent format, text as it is.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from fieldcrm.analytics.schemas import ReportTable
from fieldcrm.lib.errors import InvalidInput

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 64 * 1024
_NUMBER_FORMATS = {"money": "#,##0.00", "share": "0.0%", "int": "0", "bp": "0", "seconds": "0"}


def check_format(fmt: str) -> str:
    """Csv or xlsx; anything else is a 422 naming ``format``."""
    if fmt not in FORMATS:
        msg = f"format is csv or xlsx, not {fmt}"
        raise InvalidInput(msg, field="format")
    return fmt


def filename(table: ReportTable, fmt: str) -> str:
    """An ASCII file name: the report's name and period."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", table.name)
    return f"{safe}_{table.start.isoformat()}_{table.end.isoformat()}.{fmt}"


def _yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "money" and isinstance(value, int):
        return _yuan(value)
    return value


def csv_chunks(table: ReportTable) -> Iterator[bytes]:
    """The table as CSV, a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.label for c in table.columns])
    kinds = [c.kind for c in table.columns]
    for row in table.rows:
        writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds, strict=True)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip()
    return cleaned[:31] or "report"


def xlsx_chunks(table: ReportTable) -> Iterator[bytes]:
    """The table as an XLSX workbook (written to a temporary file in write-only mode), a chunk at a time."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(table.title))
    sheet.append([c.label for c in table.columns])
    kinds = [c.kind for c in table.columns]
    for row in table.rows:
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            if kind == "money" and isinstance(value, int):
                value = value / 100  # noqa: PLW2901 - a spreadsheet shows yuan; the cents are exact to two places
            cell = WriteOnlyCell(sheet, value=value)
            if kind in _NUMBER_FORMATS and value is not None:
                cell.number_format = _NUMBER_FORMATS[kind]
            cells.append(cell)
        sheet.append(cells)
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk


def chunks(table: ReportTable, fmt: str) -> Iterator[bytes]:
    """The table in the format asked for."""
    return csv_chunks(table) if check_format(fmt) == "csv" else xlsx_chunks(table)
