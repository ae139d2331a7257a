"""The use case: plan, report, and apply in one transaction (or not at all)."""

import asyncio
from pathlib import Path

import msgspec

from fieldcrm.accounts.imports._accounts import _Plan, _plan_accounts, _write_accounts
from fieldcrm.accounts.imports._model import ImportKind, ImportReport
from fieldcrm.accounts.imports._parsing import _COLUMNS, _read, _Sheet
from fieldcrm.accounts.imports._records import (
    _plan_contacts,
    _plan_holdings,
    _plan_revenue,
    _write_contacts,
    _write_holdings,
    _write_revenue,
)
from fieldcrm.accounts.segmentation import run_segmentation
from fieldcrm.lib.db import is_unique_violation, read_transaction, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

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
