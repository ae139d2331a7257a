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
"""

import asyncio
import csv
import datetime
import decimal
import io
import json
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from fieldcrm.accounts import geo
from fieldcrm.accounts.schemas import (
    AccountCreate,
    AccountPatch,
    ContactCreate,
    ContactPatch,
    HoldingCreate,
    HoldingPatch,
)
from fieldcrm.accounts.schemas import RevenueMonth as RevenueMonthIn
from fieldcrm.accounts.segmentation import SegmentationResult, run_segmentation
from fieldcrm.accounts.services import account_conditions, fold, order_by, today, unit_path
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.accounts.tables import Holding as HoldingRow
from fieldcrm.accounts.tables import Revenue as RevenueRow
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_date, as_uuid, executemany, is_unique_violation, read_transaction, write_transaction
from fieldcrm.lib.errors import Conflict, DomainError, InvalidInput
from fieldcrm.lib.structs import BaseStruct
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit, User

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


# ---------------------------------------------------------------- headers

ACCOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "客户编码", "集团编码", "客户编号", "集团编号", "客户代码", "集团客户编码"),
    "name": ("name", "客户名称", "集团名称", "客户名", "名称", "集团客户名称"),
    "industry": ("industry", "行业", "所属行业", "行业类型"),
    "owner": ("owner", "客户经理", "客户经理账号", "负责人", "account_manager"),
    "org_unit": ("org_unit", "归属单位", "所属单位", "归属部门", "组织", "部门", "org_unit_id"),
    "address": ("address", "地址", "客户地址", "详细地址"),
    "city": ("city", "城市", "地市", "所属城市"),
    "latitude": ("latitude", "lat", "纬度"),
    "longitude": ("longitude", "lng", "lon", "经度"),
    "visit_radius_m": ("visit_radius_m", "visit_radius", "拜访半径", "签到半径"),
    "status": ("status", "状态", "客户状态"),
    "parent_code": ("parent_code", "上级集团编码", "上级客户编码", "所属集团编码", "上级编码"),
    "member_lines": ("member_lines", "成员数", "成员数量", "成员号码数"),
    "notes": ("notes", "备注", "说明"),
}
# Written by the export, computed by the segmentation: accepted and ignored so an export re-imports.
_EXPORT_ONLY = ("tier", "revenue_12m", "价值等级", "近12月收入")
_CONTACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "account_code": ("account_code", "客户编码", "集团编码", "客户编号", "集团编号"),
    "name": ("name", "联系人", "姓名", "联系人姓名"),
    "title": ("title", "职务", "职位"),
    "phones": ("phones", "phone", "电话", "手机", "手机号", "手机号码", "联系电话", "办公电话"),
    "email": ("email", "邮箱", "电子邮箱", "e_mail"),
    "decision_role": ("decision_role", "role", "角色", "决策角色"),
    "notes": ("notes", "备注", "说明"),
}
_HOLDING_COLUMNS: dict[str, tuple[str, ...]] = {
    "account_code": ("account_code", "客户编码", "集团编码", "客户编号", "集团编号"),
    "product_code": ("product_code", "产品编码", "产品编号", "产品代码"),
    "product": ("product", "产品名称", "产品", "业务名称"),
    "quantity": ("quantity", "数量", "订购数量"),
    "monthly_fee": ("monthly_fee", "月费", "月租费", "月租"),
    "contract_start": ("contract_start", "合同开始", "合同开始日期", "开始日期", "生效日期"),
    "contract_end": ("contract_end", "合同结束", "合同结束日期", "结束日期", "到期日期", "失效日期"),
}
_REVENUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "account_code": ("account_code", "客户编码", "集团编码", "客户编号", "集团编号"),
    "month": ("month", "月份", "账期", "统计月份", "收入月份"),
    "amount": ("amount", "收入", "金额", "收入金额", "出账收入"),
}
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": ACCOUNT_COLUMNS,
    "contacts": _CONTACT_COLUMNS,
    "holdings": _HOLDING_COLUMNS,
    "revenue": _REVENUE_COLUMNS,
}
# Each inner tuple: at least one of these columns must be present.
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "accounts": (("code",),),
    "contacts": (("account_code",), ("name",)),
    "holdings": (("account_code",), ("product_code", "product")),
    "revenue": (("account_code",), ("month",), ("amount",)),
}
_UNIT_SUFFIX = re.compile(r"\((元|yuan|rmb|cny|¥|米|m|metres|meters)\)$")

_STATUS = {
    "潜在": "prospect",
    "潜在客户": "prospect",
    "意向": "prospect",
    "在网": "active",
    "正常": "active",
    "活跃": "active",
    "预警": "at_risk",
    "风险": "at_risk",
    "有风险": "at_risk",
    "流失": "lost",
    "已流失": "lost",
    "离网": "lost",
}
_ROLES = {
    "决策人": "decision_maker",
    "决策者": "decision_maker",
    "影响者": "influencer",
    "影响人": "influencer",
    "使用者": "user",
    "用户": "user",
    "把关人": "gatekeeper",
    "守门人": "gatekeeper",
}


def _norm_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip().casefold()
    text = re.sub(r"[\s\-]+", "_", text)
    return _UNIT_SUFFIX.sub("", text)


def _norm_choice(text: str, aliases: dict[str, str]) -> str:
    value = unicodedata.normalize("NFKC", text).strip()
    if value in aliases:
        return aliases[value]
    return re.sub(r"[\s\-]+", "_", value.casefold())


# ---------------------------------------------------------------- reading the file


@dataclass
class _Row:
    line: int
    cells: dict[str, str]  # field -> the cell's text (non-empty, stripped)
    errors: list[RowError] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(line=self.line, column=column, message=message))


@dataclass
class _Sheet:
    kind: ImportKind
    columns: dict[str, str]  # field -> the header as written in the file
    rows: list[_Row]
    warnings: list[str]

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            msg = "the file starts like UTF-16 text but is not; save it as CSV UTF-8"
            raise MalformedFile(msg, field="file") from exc
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                line = data[: exc.start].count(b"\n") + 1
                msg = f"the file is not UTF-8 (line {line}); if Excel saved it as plain CSV, import with encoding=gbk"
                raise MalformedFile(msg, field="encoding", extra={"line": line}) from exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        msg = f"the file is neither UTF-8 nor GBK text (line {line}); save it as CSV (UTF-8) and try again"
        raise MalformedFile(msg, field="encoding", extra={"line": line}) from exc


def _unguard(text: str) -> str:
    # The export writes '=..., '+..., '-..., '@... so spreadsheets do not run them as formulas.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            msg = (
                f"line {line}: the CSV cannot be read ({exc}); "
                "a value with a comma, quote or line break must be in double quotes"
            )
            raise MalformedFile(msg, field="file", extra={"line": line}) from exc
        if any(cell.strip() for cell in record):
            yield start, record


@dataclass
class _Header:
    positions: dict[str, list[int]]  # field -> the columns holding it (several only for phones)
    columns: dict[str, str]  # field -> the header as written
    unknown: list[str]
    warnings: list[str]


def _map_header(kind: ImportKind, header: list[str]) -> _Header:
    aliases = {_norm_header(alias): name for name, names in _COLUMNS[kind].items() for alias in names}
    ignored = {_norm_header(h) for h in _EXPORT_ONLY} if kind == "accounts" else set()
    mapped = _Header(positions={}, columns={}, unknown=[], warnings=[])
    for index, raw in enumerate(header):
        title = raw.replace("\ufeff", "").strip()
        key = _norm_header(title)
        name = aliases.get(key)
        if not key or key in ignored:
            continue
        if name is None:
            mapped.unknown.append(title)
        elif name in mapped.positions and name != "phones":
            mapped.warnings.append(f"columns {mapped.columns[name]} and {title} both mean {name}; {title} is ignored")
        else:
            mapped.positions.setdefault(name, []).append(index)
            mapped.columns.setdefault(name, title)
    return mapped


def _check_header(kind: ImportKind, line: int, mapped: _Header) -> None:
    missing = [group for group in _REQUIRED[kind] if not any(name in mapped.positions for name in group)]
    if not missing:
        return
    wanted = "; ".join(" or ".join(f"{n} ({'/'.join(_COLUMNS[kind][n][1:3]) or n})" for n in g) for g in missing)
    msg = f"the header (line {line}) lacks {wanted}"
    if mapped.unknown:
        msg += f"; these columns are not recognised: {', '.join(mapped.unknown)}"
    errors = [RowError(line=line, column=" or ".join(g), message="required column missing") for g in missing]
    report = ImportReport(kind=kind, dry_run=True, applied=False, rows=0, errors=errors, warnings=mapped.warnings)
    raise InvalidInput(msg, field="file", extra={"report": msgspec.to_builtins(report)})


def _row(line: int, record: list[str], width: int, positions: dict[str, list[int]]) -> _Row:
    row = _Row(line=line, cells={})
    if len(record) > width and any(cell.strip() for cell in record[width:]):
        row.error(
            "",
            f"the line has {len(record)} values but the header has {width}; "
            "a value containing a comma must be in double quotes",
        )
    for name, indexes in positions.items():
        values = [_unguard(record[i].strip()) for i in indexes if i < len(record) and record[i].strip()]
        if values:
            row.cells[name] = ";".join(values) if name == "phones" else values[0]
    return row


def _read(data: bytes, kind: ImportKind, encoding: str) -> _Sheet:
    if not data.strip():
        msg = "the file is empty; send a CSV file with a header line"
        raise MalformedFile(msg, field="file")
    records = _records(_decode(data, encoding))
    first = next(records, None)
    if first is None:
        msg = "the file has no header line"
        raise MalformedFile(msg, field="file")
    header_line, header = first
    mapped = _map_header(kind, header)
    _check_header(kind, header_line, mapped)
    if mapped.unknown:
        mapped.warnings.append(f"columns not imported: {', '.join(mapped.unknown)}")
    rows = [_row(line, record, len(header), mapped.positions) for line, record in records]
    return _Sheet(kind=kind, columns=mapped.columns, rows=rows, warnings=mapped.warnings)


# ---------------------------------------------------------------- cell values

_RULES = (
    (re.compile(r"^Expected `str` of length >= 1$"), "must not be empty"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), "is longer than {0} characters"),
    (re.compile(r"^Expected `str` of length >= (\d+)$"), "is shorter than {0} characters"),
    (re.compile(r"^Expected `(?:int|float)[^`]*` >= (-?[\d.]+)$"), "must be at least {0}"),
    (re.compile(r"^Expected `(?:int|float)[^`]*` <= (-?[\d.]+)$"), "must be at most {0}"),
    (re.compile(r"^Expected `int(?: \| null)?`, got `.*`$"), "must be a whole number"),
    (re.compile(r"^Expected `float(?: \| null)?`, got `.*`$"), "must be a number"),
    (re.compile(r"^Expected `array` of length <= (\d+)$"), "has more than {0} entries"),
    (re.compile(r"^Invalid RFC3339 encoded date$"), "is not a date"),
)
_PATTERN_HINTS = {
    "code": "may contain only letters, digits and _ . - /",
    "email": "is not an e-mail address",
    "phones": "is not a phone number (digits, + - ( ) and spaces)",
    "month": "is not a month (YYYY-MM)",
}
_CHOICES = {
    "status": "must be prospect, active, at_risk or lost (潜在, 在网, 预警, 流失)",
    "decision_role": "must be decision_maker, influencer, user or gatekeeper (决策人, 影响者, 使用者, 把关人)",
}


def _human(error: msgspec.ValidationError, name: str) -> str:
    text = str(error).split(" - at `", 1)[0]
    if text.startswith("Expected `str` matching regex"):
        return _PATTERN_HINTS.get(name, "has characters that are not allowed")
    if text.startswith("Invalid enum value"):
        return _CHOICES.get(name, "is not one of the allowed values")
    for pattern, message in _RULES:
        if match := pattern.match(text):
            return message.format(*match.groups())
    return text


def _shown(value: Any) -> str:
    text = ";".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


_ENCODE_NAMES: dict[type[msgspec.Struct], dict[str, str]] = {}


def _encode_name(struct: type[msgspec.Struct], name: str) -> str:
    names = _ENCODE_NAMES.get(struct)
    if names is None:
        names = _ENCODE_NAMES[struct] = {f.name: f.encode_name for f in msgspec.structs.fields(struct)}
    return names[name]


def _checked(
    row: _Row,
    sheet: _Sheet,
    struct: type[msgspec.Struct],
    values: dict[str, tuple[str, Any]],
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Each value alone against the struct's field (the REST rules); errors go on the row under the file's column.

    ``values`` maps the struct's field to (the file's field, the value); ``base`` holds valid values of the
    struct's other required fields, by their wire names.
    """
    out: dict[str, Any] = {}
    for name, (source, value) in values.items():
        try:
            converted = msgspec.convert((base or {}) | {_encode_name(struct, name): value}, struct, strict=False)
        except msgspec.ValidationError as exc:
            row.error(sheet.column(source), f"{_shown(value)}: {_human(exc, name)}")
            continue
        out[name] = getattr(converted, name)
    return out


def _number_text(text: str) -> str:
    return text.replace(",", "").replace("，", "").replace(" ", "")


def _yuan_to_cents(row: _Row, column: str, text: str) -> int | None:
    cleaned = _number_text(text).replace("¥", "").replace("￥", "").removesuffix("元")
    try:
        amount = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        row.error(column, f"{_shown(text)}: is not an amount in yuan (like 1234.50)")
        return None
    if not amount.is_finite():
        row.error(column, f"{_shown(text)}: is not an amount in yuan (like 1234.50)")
        return None
    cents = amount * 100
    if cents != cents.to_integral_value():
        row.error(column, f"{_shown(text)}: has more than two decimals (fen)")
        return None
    return int(cents)


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})(?:[-/.年]\s*(\d{1,2})月?(?:[-/.]\d{1,2}日?)?|(\d{2}))$")


def _date(row: _Row, column: str, text: str) -> str | None:
    match = _DATE.match(text) or _DATE_COMPACT.match(text)
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            pass
    row.error(column, f"{_shown(text)}: is not a date (YYYY-MM-DD or YYYY/MM/DD)")
    return None


def _month(row: _Row, column: str, text: str) -> str | None:
    match = _MONTH.match(_number_text(text))
    if match is None:
        row.error(column, f"{_shown(text)}: is not a month (YYYY-MM, YYYYMM or YYYY-MM-DD)")
        return None
    return f"{match[1]}-{int(match[2] or match[3]):02d}"


def _phones(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;/,，；、|]+", text) if p.strip()]


# ---------------------------------------------------------------- look-ups


def _chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _live_accounts_by_code(codes: Sequence[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(set(codes))):
        rows = await AccountRow.select(AccountRow.id, AccountRow.code).where(
            AccountRow.code.is_in(list(chunk)), AccountRow.deleted_at.is_null()
        )
        found.update({r["code"]: as_uuid(r["id"]) for r in rows})
    return found


async def _account_ids(sheet: _Sheet) -> dict[str, uuid.UUID]:
    """Account ids of the rows' account_code cells; rows naming no live account get an error."""
    codes = [row.cells["account_code"] for row in sheet.rows if "account_code" in row.cells]
    found = await _live_accounts_by_code(codes)
    column = sheet.column("account_code")
    for row in sheet.rows:
        code = row.cells.get("account_code")
        if code is None:
            row.error(column, "the account code is empty")
        elif code not in found:
            row.error(column, f"{_shown(code)}: no account has this code")
    return found


# ---------------------------------------------------------------- accounts

_ACCOUNT_FIELDS = (
    "name",
    "industry",
    "address",
    "city",
    "latitude",
    "longitude",
    "visit_radius_m",
    "status",
    "member_lines",
    "notes",
)
_AUDITED = (
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
    "parent",
    "member_lines",
    "notes",
    "deleted_at",
)


def _differs(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether any field of ``before`` has another value in ``after`` (both hold Python values, not text)."""
    return any(after.get(k) != v for k, v in before.items())


@dataclass
class _Plan:
    """What the good rows would write."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (before, after)
    unchanged: int = 0


async def _owners(actor: Actor | None, usernames: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(usernames))):
        columns = (User.id, User.username, User.org_unit, User.is_active)
        query = User.select(*columns).where(User.username.is_in(list(chunk)))
        if actor is not None and (limit := scope.user_filter(actor)) is not None:
            query = query.where(limit)
        found.update({r["username"]: r for r in await query})
    return found


async def _units(actor: Actor | None, values: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Org units by id text or by name (a name may match several)."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    names = sorted(set(values))
    found: dict[str, list[dict[str, Any]]] = {}
    columns = (OrgUnit.id, OrgUnit.name, OrgUnit.path)
    for chunk in _chunks(names):
        for r in await OrgUnit.select(*columns).where(OrgUnit.name.is_in(list(chunk)), OrgUnit.deleted_at.is_null()):
            found.setdefault(r["name"], []).append(r)
    for id_chunk in _chunks(ids):
        for r in await OrgUnit.select(*columns).where(OrgUnit.id.is_in(list(id_chunk)), OrgUnit.deleted_at.is_null()):
            found[str(as_uuid(r["id"]))] = [r]
    if actor is not None:
        found = {k: [u for u in v if scope.unit_in_subtree(actor, u["path"])] for k, v in found.items()}
    return found


async def _parents_of(ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    out: dict[uuid.UUID, uuid.UUID | None] = {}
    for chunk in _chunks(sorted(ids)):
        for r in await AccountRow.select(AccountRow.id, AccountRow.parent).where(AccountRow.id.is_in(list(chunk))):
            out[as_uuid(r["id"])] = as_uuid(r["parent"]) if r["parent"] else None
    return out


async def _loops(afters: dict[uuid.UUID, dict[str, Any]]) -> set[uuid.UUID]:
    """Accounts of the file whose new parent chain comes back to them."""
    parent_of: dict[uuid.UUID, uuid.UUID | None] = {i: a["parent"] for i, a in afters.items()}
    frontier = {p for p in parent_of.values() if p is not None and p not in parent_of}
    while frontier:
        loaded = await _parents_of(frontier)
        for account_id in frontier:
            parent_of[account_id] = loaded.get(account_id)
        frontier = {p for p in loaded.values() if p is not None and p not in parent_of}
    looped = set()
    for start in afters:
        seen = {start}
        current = parent_of.get(start)
        while current is not None:
            if current in seen:
                looped.add(start)
                break
            seen.add(current)
            current = parent_of.get(current)
    return looped


@dataclass
class _AccountFile:
    """An accounts file with everything its rows refer to, loaded in a few batched queries."""

    sheet: _Sheet
    rows_by_code: dict[str, _Row]  # the first line of each code
    existing: dict[str, dict[str, Any]]  # stored accounts (deleted ones too) by code
    ids: dict[str, uuid.UUID]  # every code of the file -> its stored id or a new one
    owners: dict[str, dict[str, Any]]
    units: dict[str, list[dict[str, Any]]]
    parents: dict[str, uuid.UUID]  # parent codes -> ids (live accounts, and every account of the file)


def _codes(sheet: _Sheet) -> dict[str, _Row]:
    column = sheet.column("code")
    rows_by_code: dict[str, _Row] = {}
    for row in sheet.rows:
        code = row.cells.get("code")
        if code is None:
            row.error(column, "the code is empty; every account needs its billing system code")
            continue
        if _checked(row, sheet, AccountPatch, {"code": ("code", code)}) and code in rows_by_code:
            row.error(column, f"{_shown(code)}: this code is already on line {rows_by_code[code].line}")
        rows_by_code.setdefault(code, row)
    return rows_by_code


async def _load_account_file(actor: Actor | None, sheet: _Sheet) -> _AccountFile:
    rows_by_code = _codes(sheet)
    existing: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(rows_by_code)):
        for r in await AccountRow.select().where(AccountRow.code.is_in(list(chunk))):
            existing[r["code"]] = r
    ids = {code: as_uuid(existing[code]["id"]) if code in existing else new_id() for code in rows_by_code}
    outside = [c for r in sheet.rows if (c := r.cells.get("parent_code")) is not None and c not in ids]
    return _AccountFile(
        sheet=sheet,
        rows_by_code=rows_by_code,
        existing=existing,
        ids=ids,
        owners=await _owners(actor, [r.cells["owner"] for r in sheet.rows if "owner" in r.cells]),
        units=await _units(actor, [r.cells["org_unit"] for r in sheet.rows if "org_unit" in r.cells]),
        parents={**await _live_accounts_by_code(outside), **ids},
    )


def _stored_view(before: dict[str, Any]) -> dict[str, Any]:
    view = {k: before[k] for k in _AUDITED}
    view["owner"] = as_uuid(view["owner"])
    view["org_unit"] = as_uuid(view["org_unit"])
    view["parent"] = as_uuid(view["parent"]) if view["parent"] else None
    return view


def _account_cell(name: str, text: str) -> str:
    if name in {"visit_radius_m", "member_lines"}:
        return _number_text(text)
    if name == "status":
        return _norm_choice(text, _STATUS)
    return text


def _set_owner(f: _AccountFile, row: _Row, after: dict[str, Any], is_new: bool) -> None:
    username = row.cells.get("owner")
    if username is None:
        if is_new:
            row.error(f.sheet.column("owner"), "a new account needs an owner (the account manager's username)")
        return
    owner = f.owners.get(username)
    if owner is not None and as_uuid(owner["id"]) == after["owner"]:
        return  # unchanged: as in the REST API, only a new owner must be active
    if owner is None or not owner["is_active"]:
        row.error(f.sheet.column("owner"), f"{_shown(username)}: no active user has this username")
        return
    after["owner"] = as_uuid(owner["id"])
    if is_new and "org_unit" not in row.cells:
        after["org_unit"] = as_uuid(owner["org_unit"])  # as in the REST API, a new account gets its owner's unit


def _set_unit(f: _AccountFile, row: _Row, after: dict[str, Any]) -> None:
    text = row.cells.get("org_unit")
    if text is None:
        return
    matches = f.units.get(text, [])
    if any(as_uuid(u["id"]) == after["org_unit"] for u in matches):
        return
    if len(matches) == 1:
        after["org_unit"] = as_uuid(matches[0]["id"])
    elif matches:
        row.error(f.sheet.column("org_unit"), f"{_shown(text)}: several org units have this name; give its id")
    else:
        message = f"{_shown(text)}: no org unit in your part of the tree has this name or id"
        row.error(f.sheet.column("org_unit"), message)


def _set_parent(f: _AccountFile, row: _Row, after: dict[str, Any]) -> None:
    parent_code = row.cells.get("parent_code")
    if parent_code is None:
        return
    if parent_code == after["code"]:
        row.error(f.sheet.column("parent_code"), "an account cannot be its own parent group")
    elif parent_code not in f.parents:
        row.error(f.sheet.column("parent_code"), f"{_shown(parent_code)}: no account has this code")
    else:
        after["parent"] = f.parents[parent_code]


def _account_after(f: _AccountFile, row: _Row, code: str) -> dict[str, Any]:
    """The account as the row would leave it (errors go on the row)."""
    before = f.existing.get(code)
    cells = {name: (name, _account_cell(name, row.cells[name])) for name in _ACCOUNT_FIELDS if name in row.cells}
    values = _checked(row, f.sheet, AccountPatch, cells)
    if before is None:
        defaults = msgspec.structs.asdict(AccountCreate(code=code, name="-"))
        after = {k: v for k, v in defaults.items() if k in _AUDITED}
        after |= {"owner": None, "org_unit": None, "parent": None, "deleted_at": None}
        if "name" not in row.cells:
            row.error(f.sheet.column("name"), "a new account needs a name")
    else:
        after = _stored_view(before) | {"deleted_at": None}  # an import restores a deleted account
    after.update(values)
    _set_owner(f, row, after, before is None)
    _set_unit(f, row, after)
    _set_parent(f, row, after)
    located = all(k in values for k in ("latitude", "longitude") if k in row.cells)  # else already reported
    if located and (after["latitude"] is None) != (after["longitude"] is None):
        missing = "latitude" if after["latitude"] is None else "longitude"
        row.error(f.sheet.column(missing), "give latitude and longitude together, or neither")
    after["id"] = f.ids[code]
    return after


def _fail_members_of_bad_groups(f: _AccountFile, afters: dict[uuid.UUID, tuple[_Row, dict[str, Any]]]) -> None:
    """A member whose parent group is a new account on a bad line of this file cannot be written either."""
    bad = {f.ids[c] for c, r in f.rows_by_code.items() if r.errors and c not in f.existing}
    changed = True
    while changed:
        changed = False
        for account_id, (row, after) in afters.items():
            if not row.errors and "parent_code" in row.cells and after["parent"] in bad:
                message = f"{row.cells['parent_code']}: that parent group's line has errors"
                row.error(f.sheet.column("parent_code"), message)
                bad.add(account_id)
                changed = True


async def _plan_accounts(actor: Actor | None, sheet: _Sheet) -> _Plan:
    f = await _load_account_file(actor, sheet)
    afters = {}
    for code, row in f.rows_by_code.items():
        after = _account_after(f, row, code)
        afters[after["id"]] = (row, after)
    _fail_members_of_bad_groups(f, afters)
    if any("parent_code" in r.cells for r in sheet.rows):
        for account_id in await _loops({i: a for i, (r, a) in afters.items() if not r.errors}):
            afters[account_id][0].error(sheet.column("parent_code"), "this parent would make the groups a loop")
    plan = _Plan()
    for row, after in afters.values():
        before = f.existing.get(after["code"])
        if row.errors:
            continue
        if before is None:
            plan.inserts.append(after)
            continue
        before_view = _stored_view(before) | {"id": after["id"]}
        if _differs(before_view, after):
            after["search_text"] = before["search_text"]
            plan.updates.append((before_view, after))
        else:
            plan.unchanged += 1
    return plan


_INSERT_ACCOUNT = (
    "INSERT INTO accounts (id, code, name, search_text, industry, tier, computed_tier, tier_override, "
    "tier_override_reason, revenue_12m_cents, revenue_share_rank, owner, org_unit, address, city, latitude, "
    "longitude, h3_r3, h3_r5, h3_r7, visit_radius_m, status, parent, member_lines, notes, version, created_at, "
    "updated_at, deleted_at) VALUES "
    "(?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, 0, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?, NULL)"
)
_UPDATE_ACCOUNT = (
    "UPDATE accounts SET name = ?, search_text = ?, industry = ?, owner = ?, org_unit = ?, address = ?, city = ?, "
    "latitude = ?, longitude = ?, h3_r3 = ?, h3_r5 = ?, h3_r7 = ?, "
    "visit_radius_m = ?, status = ?, parent = ?, member_lines = ?, notes = ?, "
    "version = version + 1, updated_at = ?, deleted_at = NULL WHERE id = ?"
)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


async def _contact_names(account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    names: dict[uuid.UUID, list[str]] = {}
    for chunk in _chunks(list(account_ids)):
        rows = await ContactRow.select(ContactRow.account, ContactRow.name).where(
            ContactRow.account.is_in(list(chunk)), ContactRow.deleted_at.is_null()
        )
        for r in rows:
            names.setdefault(as_uuid(r["account"]), []).append(r["name"])
    return names


async def _write_accounts(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    await executemany(
        _INSERT_ACCOUNT,
        [
            (
                a["id"],
                a["code"],
                a["name"],
                fold(f"{a['name']} {a['code']}"),
                a["industry"],
                a["owner"],
                a["org_unit"],
                a["address"],
                a["city"],
                _float(a["latitude"]),
                _float(a["longitude"]),
                *geo.cells(_float(a["latitude"]), _float(a["longitude"])).values(),
                a["visit_radius_m"],
                a["status"],
                a["member_lines"],
                a["notes"],
                now,
                now,
            )
            for a in plan.inserts
        ],
    )
    renamed = [a["id"] for b, a in plan.updates if a["name"] != b["name"]]
    contact_names = await _contact_names(renamed)
    rows = []
    for before, a in plan.updates:
        search = a["search_text"]
        if a["name"] != before["name"]:
            search = fold(" ".join([a["name"], a["code"], *contact_names.get(a["id"], [])]))
        rows.append(
            (
                a["name"],
                search,
                a["industry"],
                a["owner"],
                a["org_unit"],
                a["address"],
                a["city"],
                _float(a["latitude"]),
                _float(a["longitude"]),
                *geo.cells(_float(a["latitude"]), _float(a["longitude"])).values(),
                a["visit_radius_m"],
                a["status"],
                a["parent"],
                a["member_lines"],
                a["notes"],
                now,
                a["id"],
            )
        )
    await executemany(_UPDATE_ACCOUNT, rows)
    # New members may name new groups: set parents once every account of the file exists.
    await executemany(
        "UPDATE accounts SET parent = ? WHERE id = ?", [(a["parent"], a["id"]) for a in plan.inserts if a["parent"]]
    )
    await _record_import(
        actor,
        "account",
        created=[(a["id"], a["id"], {k: a[k] for k in _AUDITED if a[k] is not None}) for a in plan.inserts],
        changed=[(a["id"], a["id"], b, {k: a[k] for k in (*_AUDITED, "id")}) for b, a in plan.updates],
    )


async def _record_import(
    actor: Actor | None,
    entity: str,
    *,
    created: list[tuple[Any, Any, dict[str, Any]]],
    changed: list[tuple[Any, Any, dict[str, Any], dict[str, Any]]],
) -> None:
    """Audit one import: a create diff per new row and a before/after diff per updated one, in one write."""
    entries = [
        audit.entry_row(
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            action="import",
            changes=audit.diff(None, after),
        )
        for entity_id, account_id, after in created
    ]
    entries += [
        audit.entry_row(
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            account_id=account_id,
            action="import",
            changes=audit.diff(before, after),
        )
        for entity_id, account_id, before, after in changed
    ]
    await audit.record_many(entries)


# ---------------------------------------------------------------- contacts

_CONTACT_FIELDS = ("title", "phones", "email", "decision_role", "notes")
_KEYS = frozenset({"id", "account"})


def _contact_view(row: dict[str, Any]) -> dict[str, Any]:
    phones = row["phones"]
    phones = json.loads(phones or "[]") if isinstance(phones, str) else list(phones or [])
    return {
        "name": row["name"],
        "title": row["title"],
        "phones": phones,
        "email": row["email"],
        "decision_role": row["decision_role"],
        "notes": row["notes"],
    }


async def _plan_contacts(sheet: _Sheet) -> _Plan:
    accounts = await _account_ids(sheet)
    existing: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(accounts.values()))):
        rows = (
            await ContactRow.select()
            .where(ContactRow.account.is_in(list(chunk)), ContactRow.deleted_at.is_null())
            .order_by(ContactRow.created_at)
        )
        for r in rows:
            existing.setdefault((as_uuid(r["account"]), r["name"]), r)
    seen: dict[tuple[str, str], int] = {}
    plan = _Plan()
    for row in sheet.rows:
        name = row.cells.get("name")
        values = _checked(
            row,
            sheet,
            ContactPatch,
            {
                k: (
                    k,
                    _phones(row.cells[k])
                    if k == "phones"
                    else _norm_choice(row.cells[k], _ROLES)
                    if k == "decision_role"
                    else row.cells[k],
                )
                for k in ("name", *_CONTACT_FIELDS)
                if k in row.cells
            },
        )
        if name is None:
            row.error(sheet.column("name"), "the contact's name is empty")
        elif (key := (row.cells.get("account_code", ""), name)) in seen:
            row.error(sheet.column("name"), f"{_shown(name)}: this contact of {key[0]} is already on line {seen[key]}")
        else:
            seen[key] = row.line
        if row.errors or name is None:
            continue
        account_id = accounts[row.cells["account_code"]]
        before = existing.get((account_id, name))
        if before is None:
            created = ContactCreate(**values)
            plan.inserts.append(msgspec.structs.asdict(created) | {"id": new_id(), "account": account_id})
            continue
        before_view = _contact_view(before)
        after = before_view | values
        if _differs(before_view, after):
            plan.updates.append((before_view | {"id": as_uuid(before["id"]), "account": account_id}, after))
        else:
            plan.unchanged += 1
    return plan


async def _write_contacts(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    await executemany(
        "INSERT INTO contacts (id, account, name, title, phones, email, decision_role, notes, version, created_at, "
        "updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULL)",
        [
            (
                c["id"],
                c["account"],
                c["name"],
                c["title"],
                json.dumps(c["phones"]),
                c["email"],
                c["decision_role"],
                c["notes"],
                now,
                now,
            )
            for c in plan.inserts
        ],
    )
    await executemany(
        "UPDATE contacts SET title = ?, phones = ?, email = ?, decision_role = ?, notes = ?, version = version + 1, "
        "updated_at = ? WHERE id = ?",
        [
            (a["title"], json.dumps(a["phones"]), a["email"], a["decision_role"], a["notes"], now, b["id"])
            for b, a in plan.updates
        ],
    )
    # New contacts' names join their accounts' search text.
    touched = sorted({c["account"] for c in plan.inserts})
    names = await _contact_names(touched)
    accounts: dict[uuid.UUID, dict[str, Any]] = {}
    for chunk in _chunks(touched):
        query = AccountRow.select(AccountRow.id, AccountRow.name, AccountRow.code)
        for r in await query.where(AccountRow.id.is_in(list(chunk))):
            accounts[as_uuid(r["id"])] = r
    await executemany(
        "UPDATE accounts SET search_text = ? WHERE id = ?",
        [(fold(" ".join([a["name"], a["code"], *names.get(i, [])])), i) for i, a in accounts.items()],
    )
    await _record_import(
        actor,
        "contact",
        created=[
            (c["id"], c["account"], {k: v for k, v in c.items() if k not in _KEYS and v is not None})
            for c in plan.inserts
        ],
        changed=[(b["id"], b["account"], {k: v for k, v in b.items() if k not in _KEYS}, a) for b, a in plan.updates],
    )


# ---------------------------------------------------------------- holdings

_HOLDING_VIEW = ("product_code", "product", "quantity", "monthly_fee_cents", "contract_start", "contract_end")


async def _stored_holdings(
    account_ids: Sequence[uuid.UUID],
) -> tuple[dict[tuple[uuid.UUID, str], dict[str, Any]], dict[tuple[uuid.UUID, str], dict[str, Any]]]:
    """Live holdings of the accounts, by (account, product code) and by (account, product name)."""
    by_code: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    by_name: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(account_ids))):
        rows = (
            await HoldingRow.select()
            .where(HoldingRow.account.is_in(list(chunk)), HoldingRow.deleted_at.is_null())
            .order_by(HoldingRow.created_at)
        )
        for r in rows:
            account_id = as_uuid(r["account"])
            if r["product_code"]:
                by_code.setdefault((account_id, r["product_code"]), r)
            # By name, the oldest holding without a code comes first, then the oldest with one.
            current = by_name.get((account_id, r["product"]))
            if current is None or (current["product_code"] and not r["product_code"]):
                by_name[(account_id, r["product"])] = r
    return by_code, by_name


def _holding_values(row: _Row, sheet: _Sheet) -> dict[str, Any]:
    cells = row.cells
    raw: dict[str, tuple[str, Any]] = {k: (k, cells[k]) for k in ("product_code", "product") if k in cells}
    if "quantity" in cells:
        raw["quantity"] = ("quantity", _number_text(cells["quantity"]))
    if "monthly_fee" in cells:
        cents = _yuan_to_cents(row, sheet.column("monthly_fee"), cells["monthly_fee"])
        if cents is not None:
            raw["monthly_fee_cents"] = ("monthly_fee", cents)
    for name in ("contract_start", "contract_end"):
        if name in cells and (day := _date(row, sheet.column(name), cells[name])) is not None:
            raw[name] = (name, day)
    return _checked(row, sheet, HoldingPatch, raw)


def _holding_key(row: _Row, sheet: _Sheet, seen: dict[tuple[str, str], int]) -> None:
    """Report a row naming no product, or the same product of the same account as an earlier row."""
    cells = row.cells
    key_text = cells.get("product_code") or cells.get("product")
    if key_text is None:
        row.error(sheet.column("product"), "give the product code or the product name")
        return
    key = (cells.get("account_code", ""), key_text)
    if key in seen:
        column = sheet.column("product_code" if cells.get("product_code") else "product")
        row.error(column, f"{_shown(key_text)}: this product of {key[0]} is already on line {seen[key]}")
    else:
        seen[key] = row.line


async def _plan_holdings(sheet: _Sheet) -> _Plan:
    accounts = await _account_ids(sheet)
    by_code, by_name = await _stored_holdings(list(accounts.values()))
    seen: dict[tuple[str, str], int] = {}
    plan = _Plan()
    for row in sheet.rows:
        cells = row.cells
        values = _holding_values(row, sheet)
        _holding_key(row, sheet, seen)
        if row.errors:
            continue
        account_id = accounts[cells["account_code"]]
        before = by_code.get((account_id, cells["product_code"])) if cells.get("product_code") else None
        if before is None and "product" in cells:
            # No code given, or a code seen for the first time on a holding recorded without one.
            candidate = by_name.get((account_id, cells["product"]))
            if candidate is not None and (not cells.get("product_code") or not candidate["product_code"]):
                before = candidate
        before_view = {k: before[k] for k in _HOLDING_VIEW} if before else {}
        for k in ("contract_start", "contract_end"):
            if before_view.get(k) is not None:
                before_view[k] = as_date(before_view[k])
        after = before_view | values
        start, end = after.get("contract_start"), after.get("contract_end")
        if start and end and end < start:
            row.error(sheet.column("contract_end"), f"{end.isoformat()}: the contract ends before it starts ({start})")
        elif before is None and "product" not in values:
            row.error(sheet.column("product"), "a new holding needs the product name")
        elif before is None:
            created = msgspec.structs.asdict(HoldingCreate(**values))
            plan.inserts.append(created | {"id": new_id(), "account": account_id})
        elif _differs(before_view, after):
            plan.updates.append((before_view | {"id": as_uuid(before["id"]), "account": account_id}, after))
        else:
            plan.unchanged += 1
    return plan


async def _write_holdings(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    await executemany(
        "INSERT INTO holdings (id, account, product_code, product, quantity, monthly_fee_cents, contract_start, "
        "contract_end, created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [
            (
                h["id"],
                h["account"],
                h["product_code"],
                h["product"],
                h["quantity"],
                h["monthly_fee_cents"],
                h["contract_start"],
                h["contract_end"],
                now,
                now,
            )
            for h in plan.inserts
        ],
    )
    await executemany(
        "UPDATE holdings SET product_code = ?, product = ?, quantity = ?, monthly_fee_cents = ?, contract_start = ?, "
        "contract_end = ?, updated_at = ? WHERE id = ?",
        [
            (
                a["product_code"],
                a["product"],
                a["quantity"],
                a["monthly_fee_cents"],
                a["contract_start"],
                a["contract_end"],
                now,
                b["id"],
            )
            for b, a in plan.updates
        ],
    )
    await _record_import(
        actor,
        "holding",
        created=[(h["id"], h["account"], {k: h[k] for k in _HOLDING_VIEW if h[k] is not None}) for h in plan.inserts],
        changed=[(b["id"], b["account"], {k: b[k] for k in _HOLDING_VIEW}, a) for b, a in plan.updates],
    )


# ---------------------------------------------------------------- revenue


_VALID_MONTH = _ZERO = {"month": "2000-01", "amountCents": 0}  # the other field's value when one field is checked


def _revenue_cells(row: _Row, sheet: _Sheet) -> tuple[str | None, int | None]:
    """The row's month (YYYY-MM) and amount in cents, or None where the cell is bad (reported on the row)."""
    cells = row.cells
    month = _month(row, sheet.column("month"), cells["month"]) if "month" in cells else None
    cents = _yuan_to_cents(row, sheet.column("amount"), cells["amount"]) if "amount" in cells else None
    for name in ("month", "amount"):
        if name not in cells:
            row.error(sheet.column(name), f"the {name} is empty")
    # The REST rules of one month's revenue, one field at a time (the other set to a valid value).
    if month is not None and not _checked(row, sheet, RevenueMonthIn, {"month": ("month", month)}, _VALID_MONTH):
        month = None
    if cents is not None and not _checked(row, sheet, RevenueMonthIn, {"amount_cents": ("amount", cents)}, _ZERO):
        cents = None
    return month, cents


async def _stored_revenue(
    account_ids: set[uuid.UUID], first: datetime.date, last: datetime.date
) -> dict[tuple[uuid.UUID, datetime.date], int]:
    stored: dict[tuple[uuid.UUID, datetime.date], int] = {}
    for chunk in _chunks(sorted(account_ids)):
        rows = await RevenueRow.select(RevenueRow.account, RevenueRow.month, RevenueRow.amount_cents).where(
            RevenueRow.account.is_in(list(chunk)), RevenueRow.month >= first, RevenueRow.month <= last
        )
        stored.update({(as_uuid(r["account"]), as_date(r["month"])): r["amount_cents"] for r in rows})
    return stored


async def _plan_revenue(sheet: _Sheet) -> _Plan:
    accounts = await _account_ids(sheet)
    wanted: list[tuple[uuid.UUID, datetime.date, int]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        month, cents = _revenue_cells(row, sheet)
        if month is not None and "account_code" in row.cells:
            key = (row.cells["account_code"], month)
            if key in seen:
                message = f"{month}: the revenue of {key[0]} in this month is already on line {seen[key]}"
                row.error(sheet.column("month"), message)
            else:
                seen[key] = row.line
        if not row.errors and month is not None and cents is not None:
            wanted.append((accounts[row.cells["account_code"]], datetime.date.fromisoformat(month + "-01"), cents))
    stored = {}
    if wanted:
        stored = await _stored_revenue({w[0] for w in wanted}, min(w[1] for w in wanted), max(w[1] for w in wanted))
    plan = _Plan()
    for account_id, month_start, cents in wanted:
        old = stored.get((account_id, month_start))
        item = {"account": account_id, "month": month_start, "amount_cents": cents, "old": old}
        if old is None:
            plan.inserts.append(item)
        elif old != cents:
            plan.updates.append(({"amount_cents": old}, item))
        else:
            plan.unchanged += 1
    return plan


async def _write_revenue(actor: Actor | None, plan: _Plan) -> None:
    now = utcnow()
    items = plan.inserts + [a for _, a in plan.updates]
    await executemany(
        "INSERT INTO revenue (id, account, month, amount_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (account, month) DO UPDATE "
        "SET amount_cents = excluded.amount_cents, updated_at = excluded.updated_at",
        [(new_id(), r["account"], r["month"], r["amount_cents"], now, now) for r in items],
    )
    by_account: dict[uuid.UUID, dict[str, Any]] = {}
    for r in items:
        by_account.setdefault(r["account"], {})[r["month"].strftime("%Y-%m")] = [r["old"], r["amount_cents"]]
    await audit.record_many(
        [
            audit.entry_row(
                actor=actor,
                entity="revenue",
                entity_id=account_id,
                account_id=account_id,
                action="import",
                changes=changes,
            )
            for account_id, changes in by_account.items()
        ]
    )


# ---------------------------------------------------------------- the use case

_PLANNERS = {"contacts": _plan_contacts, "holdings": _plan_holdings, "revenue": _plan_revenue}
_WRITERS = {
    "accounts": _write_accounts,
    "contacts": _write_contacts,
    "holdings": _write_holdings,
    "revenue": _write_revenue,
}


async def _plan(actor: Actor | None, sheet: _Sheet) -> _Plan:
    if sheet.kind == "accounts":
        return await _plan_accounts(actor, sheet)
    return await _PLANNERS[sheet.kind](sheet)


def _report(sheet: _Sheet, plan: _Plan, *, dry_run: bool, applied: bool) -> ImportReport:
    errors = [e for row in sheet.rows for e in row.errors]
    return ImportReport(
        kind=sheet.kind,
        dry_run=dry_run,
        applied=applied,
        rows=len(sheet.rows),
        created=len(plan.inserts),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        skipped=sum(1 for row in sheet.rows if row.errors),
        errors=errors,
        warnings=sheet.warnings,
    )


async def _import(
    *, actor: Actor | None, kind: ImportKind, data: bytes, dry_run: bool, skip_invalid: bool, encoding: str
) -> ImportReport:
    if kind not in _COLUMNS:
        msg = f"kind must be one of {', '.join(_COLUMNS)}, not {kind}"
        raise InvalidInput(msg, field="kind")
    if encoding not in ("auto", "utf-8", "gbk"):
        msg = f"encoding must be auto, utf-8 or gbk, not {encoding}"
        raise InvalidInput(msg, field="encoding")
    sheet = _read(data, kind, encoding)
    if dry_run:
        async with read_transaction():
            plan = await _plan(actor, sheet)
        return _report(sheet, plan, dry_run=True, applied=False)
    async with write_transaction():
        plan = await _plan(actor, sheet)
        failed = any(row.errors for row in sheet.rows)
        if failed and not skip_invalid:
            return _report(sheet, plan, dry_run=False, applied=False)
        try:
            await _WRITERS[kind](actor, plan)
        except Exception as exc:
            if is_unique_violation(exc):  # PostgreSQL: a concurrent write took a code or month this file adds
                msg = "another change added some of these records while the file was imported; import it again"
                raise Conflict(msg, field="file") from exc
            raise
        report = _report(sheet, plan, dry_run=False, applied=True)
        if kind in ("accounts", "revenue") and (plan.inserts or plan.updates):
            report.segmentation = await run_segmentation(actor=actor)
    return report


async def import_csv(
    *,
    actor: Actor | None,
    kind: ImportKind,
    data: bytes,
    dry_run: bool = False,
    skip_invalid: bool = False,
    encoding: str = "auto",
) -> ImportReport:
    """Import a CSV file of accounts, contacts, holdings or revenue (HQ; None is the CLI/system).

    Args:
        actor: Who imports; None for the command line.
        kind: accounts, contacts, holdings or revenue.
        data: The file's bytes.
        dry_run: Check everything and write nothing.
        skip_invalid: Apply the good rows even when others fail (they are reported as skipped).
        encoding: auto (UTF-8, else GBK/GB18030), utf-8 or gbk.

    Returns:
        The report: counts, and every bad cell with its line and column.

    Raises:
        InvalidInput: When rows fail and nothing is (or, in a dry run, would be) applied; the report is in
            ``extra["report"]``.
        MalformedFile: When the file cannot be read as CSV.
    """
    if actor is not None:
        scope.require(actor, "accounts.import")
    report = await _import(
        actor=actor, kind=kind, data=data, dry_run=dry_run, skip_invalid=skip_invalid, encoding=encoding
    )
    if report.errors and not skip_invalid:
        bad = report.skipped
        done = "nothing would be imported" if dry_run else "nothing was imported"
        msg = (
            f"{bad} of {report.rows} rows have errors, so {done}; fix them (see report.errors), "
            "or import with skipInvalid=true to apply the other rows"
        )
        raise InvalidInput(msg, field="file", extra={"report": msgspec.to_builtins(report)})
    return report


async def import_file(
    *, path: str | Path, kind: ImportKind, dry_run: bool = False, skip_invalid: bool = False, encoding: str = "auto"
) -> ImportReport:
    """Import a CSV file from disk as the system (the ``fieldcrm import`` command).

    Unlike the HTTP door this returns the report when rows fail (``applied`` is False), so the
    command can print every error.

    Args:
        path: The CSV file.
        kind: accounts, contacts, holdings or revenue.
        dry_run: Check everything and write nothing.
        skip_invalid: Apply the good rows even when others fail.
        encoding: auto, utf-8 or gbk.

    Returns:
        The import report.
    """
    data = await asyncio.to_thread(Path(path).read_bytes)
    return await _import(
        actor=None, kind=kind, data=data, dry_run=dry_run, skip_invalid=skip_invalid, encoding=encoding
    )


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
