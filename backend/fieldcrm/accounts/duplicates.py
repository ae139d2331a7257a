"""Duplicate accounts: finding the accounts a new one may repeat, and merging a duplicate into its survivor.

A rep creating a prospect on the phone cannot search the whole company first, so the server checks
on arrival: the same code, the same normalised name in the same city, or a pin within 50 m with a
similar name. The account is still created (the rep's offline work stays whole); the candidates go
back with it and a leader merges the two: everything of the duplicate (contacts, notes, visits, plans,
opportunities, quotes, cases, projects, member companies) moves to the survivor, audited, and the
duplicate is soft-deleted so devices drop it.

Merging writes other domains' tables directly: moving rows from one account to another is the one
operation that must touch them all in one transaction, and it changes nothing but their account.
"""

import difflib
import re
import uuid
from typing import Any

from geopy.distance import geodesic

from fieldcrm.accounts import services
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import AccountNote, Contact
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_uuid, engine, write_transaction
from fieldcrm.lib.errors import InvalidInput, NotFound
from fieldcrm.lib.structs import BaseStruct
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor

PIN_RADIUS_M = 50.0
SIMILAR_NAME = 0.6  # difflib ratio of normalised names
_DEGREES_50M = 0.0006  # a box a little larger than 50 m in latitude (and longitude, up to 60° north)
# Legal-form words that do not tell two companies apart.
_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "co.,ltd", "co.ltd", "ltd", "inc", "corp")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


class DuplicateCandidate(BaseStruct):
    """An existing account the new one may repeat, and why; outside the caller's scope only the name and owner."""

    id: uuid.UUID
    name: str
    owner_name: str
    reasons: list[str]  # same_code | same_name_city | nearby_similar_name
    in_scope: bool
    code: str = ""
    city: str = ""
    distance_m: float | None = None


class MergeRequest(BaseStruct):
    """Merge the account of the path into ``survivorId``."""

    survivor_id: uuid.UUID


class MergeResult(BaseStruct):
    """What moved to the survivor."""

    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    moved: dict[str, int]


def normalise(name: str) -> str:
    """A name for comparing: folded, without spaces, punctuation and legal-form words."""
    text = _NOISE.sub("", services.fold(name))
    for suffix in _SUFFIXES:
        text = text.replace(_NOISE.sub("", suffix), "")
    return text


def similar(a: str, b: str) -> bool:
    """Whether two names look like the same company."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return False
    return na in nb or nb in na or difflib.SequenceMatcher(None, na, nb).ratio() >= SIMILAR_NAME


async def find(
    *,
    actor: Actor,
    code: str,
    name: str,
    city: str,
    latitude: float | None,
    longitude: float | None,
    exclude: uuid.UUID | None = None,
) -> list[DuplicateCandidate]:
    """Live accounts that the described one may repeat (inside the caller's transaction)."""
    columns = (
        AccountRow.id,
        AccountRow.code,
        AccountRow.name,
        AccountRow.city,
        AccountRow.owner,
        AccountRow.latitude,
        AccountRow.longitude,
        AccountRow.owner.display_name.as_alias("owner_name"),
    )
    live = [AccountRow.deleted_at.is_null()]
    if exclude is not None:
        live.append(AccountRow.id != exclude)
    found: dict[Any, tuple[dict[str, Any], list[str], float | None]] = {}

    def add(row: dict[str, Any], reason: str, distance: float | None = None) -> None:
        _, reasons, known = found.setdefault(row["id"], (row, [], None))
        reasons.append(reason)
        if distance is not None:
            found[row["id"]] = (row, reasons, distance)
        elif known is not None:
            found[row["id"]] = (row, reasons, known)

    if code:
        for row in await AccountRow.select(*columns).where(AccountRow.code == code, *live):
            add(row, "same_code")
    key = normalise(name)
    if city.strip() and key:
        rows = await AccountRow.select(*columns).where(AccountRow.city == city.strip(), *live)
        for row in rows:
            if normalise(row["name"]) == key:
                add(row, "same_name_city")
    if latitude is not None and longitude is not None:
        rows = await AccountRow.select(*columns).where(
            AccountRow.latitude.is_not_null(),
            AccountRow.latitude >= latitude - _DEGREES_50M,
            AccountRow.latitude <= latitude + _DEGREES_50M,
            AccountRow.longitude >= longitude - 2 * _DEGREES_50M,
            AccountRow.longitude <= longitude + 2 * _DEGREES_50M,
            *live,
        )
        for row in rows:
            distance = geodesic((latitude, longitude), (row["latitude"], row["longitude"])).meters
            if distance <= PIN_RADIUS_M and similar(name, row["name"]):
                add(row, "nearby_similar_name", round(distance, 1))
    visible: set[Any] = set()
    if found:
        limit = scope.owner_filter(actor, AccountRow.owner)
        query = AccountRow.select(AccountRow.id).where(AccountRow.id.is_in(list(found)))
        visible = {r["id"] for r in await (query.where(limit) if limit is not None else query)}
    out = []
    for row, reasons, distance in found.values():
        mine = row["id"] in visible
        out.append(
            DuplicateCandidate(
                id=row["id"],
                name=row["name"],
                owner_name=row["owner_name"] or "",
                reasons=reasons,
                in_scope=mine,
                code=row["code"] if mine else "",
                city=row["city"] if mine else "",
                distance_m=distance,
            )
        )
    return sorted(out, key=lambda c: (not c.in_scope, c.name, str(c.id)))


async def _log_scope_change(account_id: uuid.UUID, old_owner: uuid.UUID) -> None:
    """Devices re-read the account's rows at their next pull (rows of another owner moved onto it)."""
    if isinstance(engine(), FieldcrmSQLiteEngine):
        await AccountRow.raw("UPDATE change_counter SET value = value + 1 WHERE id = 1")
        await AccountRow.raw(
            "INSERT INTO scope_changes (account_id, version, old_owner) "
            "SELECT {}, value, {} FROM change_counter WHERE id = 1",
            str(account_id),
            str(old_owner),
        )
    else:
        await AccountRow.raw(
            "INSERT INTO scope_changes (account_id, version, old_owner) VALUES ({}, fieldcrm_version(), {})",
            account_id,
            old_owner,
        )


def _movable() -> list[tuple[str, Any, Any]]:
    """(name, table, its account column) of everything that moves to the survivor."""
    from fieldcrm.cases.tables import Case, Project  # noqa: PLC0415 - the domains above accounts import it
    from fieldcrm.sales.tables import Opportunity, Quote  # noqa: PLC0415
    from fieldcrm.visits.tables import LocationProposal, Visit, VisitPlan  # noqa: PLC0415

    return [
        ("contacts", Contact, Contact.account),
        ("notes", AccountNote, AccountNote.account),
        ("visits", Visit, Visit.account),
        ("plans", VisitPlan, VisitPlan.account),
        ("locationProposals", LocationProposal, LocationProposal.account),
        ("opportunities", Opportunity, Opportunity.account),
        ("quotes", Quote, Quote.account),
        ("cases", Case, Case.account),
        ("projects", Project, Project.account),
        ("members", AccountRow, AccountRow.parent),
    ]


async def merge(*, actor: Actor, account_id: uuid.UUID, data: MergeRequest) -> MergeResult:
    """Merge a duplicate into its survivor (leaders, both accounts in scope): its rows move, it is soft-deleted."""
    scope.require(actor, "accounts.merge")
    if data.survivor_id == account_id:
        msg = "an account cannot be merged into itself; choose the account that stays"
        raise InvalidInput(msg, field="survivorId")
    async with write_transaction():
        limit = scope.owner_filter(actor, AccountRow.owner)
        rows = await AccountRow.select(AccountRow.id, AccountRow.name, AccountRow.owner).where(
            AccountRow.id.is_in([account_id, data.survivor_id]),
            AccountRow.deleted_at.is_null(),
            *([] if limit is None else [limit]),
        )
        by_id = {as_uuid(r["id"]): r for r in rows}
        if account_id not in by_id:
            msg = f"account {account_id} not found"
            raise NotFound(msg)
        if data.survivor_id not in by_id:
            msg = f"account {data.survivor_id} not found"
            raise NotFound(msg, field="survivorId")
        moved: dict[str, int] = {}
        now = utcnow()
        for name, table, column in _movable():
            changed = await table.update({column: data.survivor_id}).where(column == account_id).returning(table.id)
            moved[name] = len(changed)
        await AccountRow.update(
            {AccountRow.deleted_at: now, AccountRow.updated_at: now, AccountRow.version: AccountRow.version + 1}
        ).where(AccountRow.id == account_id)
        if by_id[account_id]["owner"] != by_id[data.survivor_id]["owner"]:
            await _log_scope_change(data.survivor_id, as_uuid(by_id[account_id]["owner"]))
        await audit.record(
            actor=actor,
            entity="account",
            entity_id=data.survivor_id,
            account_id=data.survivor_id,
            action="merge",
            changes={
                "merged": [None, str(account_id)],
                "merged_name": [None, by_id[account_id]["name"]],
                "moved": [None, moved],
            },
        )
        await audit.record(
            actor=actor,
            entity="account",
            entity_id=account_id,
            account_id=account_id,
            action="delete",
            changes={"deleted_at": [None, now.isoformat()], "merged_into": [None, str(data.survivor_id)]},
        )
    return MergeResult(survivor_id=data.survivor_id, merged_id=account_id, moved=moved)
