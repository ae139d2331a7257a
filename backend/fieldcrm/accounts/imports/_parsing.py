"""Reading a file: the encoding, the CSV records, the header (English or Chinese names) and the rows."""

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

import msgspec

from fieldcrm.accounts.imports._model import ImportKind, ImportReport, MalformedFile, RowError
from fieldcrm.lib.errors import InvalidInput

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
