"""CSV import (accounts, contacts, holdings, revenue) and account export, as HQ and billing systems exchange them.

Files come as Excel and billing systems write them: UTF-8 with or without a BOM, or GBK/GB18030;
English or Chinese headers; money in yuan; dates and months in the usual spellings. Each cell
is checked against the same msgspec Structs the REST API uses (one field at a time, so a row
reports every bad cell), plus the rules the services check (owner active, parent exists, no
loops, latitude with longitude, contract end after start).

A run writes nothing while any row fails, unless ``skip_invalid``; a dry run writes nothing at
all. Every write of one import happens in one transaction, in bulk (``executemany``), and an
import of accounts or revenue recomputes the tiers in that same transaction.

An empty cell leaves the stored value as it is (a new record gets the default), so a file with
only some columns, or some blanks, updates only what it gives.

The package's private modules: ``_model`` (kinds, report, errors), ``_parsing`` (encoding, records,
headers), ``_validation`` (cells against the API's Structs), ``_accounts`` and ``_records`` (planning and
bulk writes per kind), ``_apply`` (the use case) and ``_export``. Import from the package itself.
"""

from fieldcrm.accounts.imports._apply import import_csv, import_file
from fieldcrm.accounts.imports._export import EXPORT_HEADER, CsvDownload, export_accounts
from fieldcrm.accounts.imports._model import (
    EXPORT_BATCH,
    IN_CHUNK,
    Encoding,
    ImportKind,
    ImportReport,
    MalformedFile,
    RowError,
)
from fieldcrm.accounts.imports._parsing import ACCOUNT_COLUMNS

__all__ = [
    "ACCOUNT_COLUMNS",
    "EXPORT_BATCH",
    "EXPORT_HEADER",
    "IN_CHUNK",
    "CsvDownload",
    "Encoding",
    "ImportKind",
    "ImportReport",
    "MalformedFile",
    "RowError",
    "export_accounts",
    "import_csv",
    "import_file",
]
