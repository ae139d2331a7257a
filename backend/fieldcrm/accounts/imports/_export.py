"""The account export as CSV, in the same columns the import reads."""

import csv
import decimal
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fieldcrm.accounts.imports._model import EXPORT_BATCH
from fieldcrm.accounts.services import account_conditions, order_by, today, unit_path
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.lib.errors import InvalidInput
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

# ---------------------------------------------------------------- export

EXPORT_HEADER = (
    "code",
    "name",
    "industry",
    "owner",
    "org_unit",
    "address",
    "city",
    "latitude",
    "longitude",
    "visit_radius_m",
    "status",
    "parent_code",
    "member_lines",
    "notes",
    "tier",
    "revenue_12m",
)
_TEXT_COLUMNS = frozenset({"name", "industry", "address", "city", "notes"})
_EXPORT_COLUMNS = (
    AccountRow.id,
    AccountRow.code,
    AccountRow.name,
    AccountRow.industry,
    AccountRow.owner.username.as_alias("owner_username"),
    AccountRow.org_unit.name.as_alias("org_unit_name"),
    AccountRow.address,
    AccountRow.city,
    AccountRow.latitude,
    AccountRow.longitude,
    AccountRow.visit_radius_m,
    AccountRow.status,
    AccountRow.parent.code.as_alias("parent_code"),
    AccountRow.parent.deleted_at.as_alias("parent_deleted_at"),
    AccountRow.member_lines,
    AccountRow.notes,
    AccountRow.tier,
    AccountRow.revenue_12m_cents,
)


@dataclass(frozen=True)
class CsvDownload:
    """A CSV file to stream: its name, media type and byte chunks."""

    filename: str
    media_type: str
    chunks: AsyncIterator[bytes]


def _guard(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel; the quote keeps it text (the import removes it).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _yuan(cents: int) -> str:
    return str(decimal.Decimal(cents) / 100)


def _export_line(row: dict[str, Any]) -> list[str]:
    def number(value: Any) -> str:
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)

    cells = {
        "code": row["code"],
        "name": row["name"],
        "industry": row["industry"],
        "owner": row["owner_username"] or "",
        "org_unit": row["org_unit_name"] or "",
        "address": row["address"],
        "city": row["city"],
        "latitude": number(row["latitude"]),
        "longitude": number(row["longitude"]),
        "visit_radius_m": number(row["visit_radius_m"]),
        "status": row["status"],
        "parent_code": (row["parent_code"] or "") if row["parent_deleted_at"] is None else "",
        "member_lines": number(row["member_lines"]),
        "notes": row["notes"],
        "tier": row["tier"] or "",
        "revenue_12m": _yuan(row["revenue_12m_cents"] or 0),
    }
    return [_guard(cells[k]) if k in _TEXT_COLUMNS else cells[k] for k in EXPORT_HEADER]


async def export_accounts(*, actor: Actor, encoding: str = "utf-8", sort: str = "code", **filters: Any) -> CsvDownload:
    """The accounts the actor sees, filtered and sorted as in the list, as a CSV download that re-imports.

    Checks run before the first byte is sent; rows are then read in batches of 1000 while streaming.

    Args:
        actor: Who exports; the same scope as the account list.
        encoding: utf-8 (with a BOM, so Excel shows Chinese) or gbk (GB18030 bytes, which GBK readers read).
        sort: As in the account list.
        **filters: q, tier, status, owner_id, org_unit_id, city, parent_id, contracts_ending_within_days.

    Returns:
        The file name, media type and the chunks of the file.
    """
    scope.require(actor, "accounts.export")
    if encoding not in ("utf-8", "gbk"):
        msg = f"encoding must be utf-8 or gbk, not {encoding}"
        raise InvalidInput(msg, field="encoding")
    filters["org_unit_path"] = await unit_path(filters.pop("org_unit_id", None))
    conditions = account_conditions(actor, **filters)
    order_by(AccountRow.select(AccountRow.id), sort)  # a bad sort fails now, before the download starts
    codec = "utf-8" if encoding == "utf-8" else "gb18030"

    async def chunks() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADER)
        head = buffer.getvalue()
        yield (b"\xef\xbb\xbf" if codec == "utf-8" else b"") + head.encode(codec)
        offset = 0
        while True:
            query = order_by(AccountRow.select(*_EXPORT_COLUMNS).where(*conditions), sort)
            rows = await query.limit(EXPORT_BATCH).offset(offset)
            if not rows:
                return
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_export_line(r) for r in rows)
            yield buffer.getvalue().encode(codec)
            if len(rows) < EXPORT_BATCH:
                return
            offset += EXPORT_BATCH

    charset = "utf-8" if codec == "utf-8" else "gb18030"
    return CsvDownload(
        filename=f"accounts-{today():%Y%m%d}.csv", media_type=f"text/csv; charset={charset}", chunks=chunks()
    )
