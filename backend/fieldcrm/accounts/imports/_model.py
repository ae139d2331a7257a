"""The import's vocabulary: the kinds, the report and its row errors, the malformed-file error."""

from typing import Literal, TypeVar

from fieldcrm.accounts.segmentation import SegmentationResult
from fieldcrm.lib.errors import DomainError
from fieldcrm.lib.structs import BaseStruct

ImportKind = Literal["accounts", "contacts", "holdings", "revenue"]
Encoding = Literal["auto", "utf-8", "gbk"]
T = TypeVar("T")

IN_CHUNK = 1000  # ids or codes per IN (...) list: well under both databases' parameter limits
EXPORT_BATCH = 1000


class RowError(BaseStruct):
    """A problem with one cell (or one row when column is empty); line numbers as in the file, header = 1."""

    line: int
    column: str
    message: str


class ImportReport(BaseStruct):
    """What an import did, or would do (dry run, or a run stopped by bad rows).

    ``created``/``updated``/``unchanged`` count the good rows; ``skipped`` counts rows with errors.
    """

    kind: ImportKind
    dry_run: bool
    applied: bool
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = []  # noqa: RUF012 - msgspec copies defaults
    warnings: list[str] = []  # noqa: RUF012 - msgspec copies defaults
    segmentation: SegmentationResult | None = None


class MalformedFile(DomainError):
    """The upload is not a readable CSV file (encoding, quoting, no header)."""

    status_code = 400
    title = "Malformed file"
