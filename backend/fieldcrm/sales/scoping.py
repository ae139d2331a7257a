"""Data scope of sales records: they belong to an account, and the account's owner decides who sees them."""

import uuid
from typing import Any

from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.lib.errors import NotFound
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import OrgUnit


def through_account(actor: Actor, account_column: Any) -> list[Any]:
    """WHERE conditions for rows with an ``account`` foreign key: a live account in the actor's scope."""
    conditions: list[Any] = [account_column.deleted_at.is_null()]
    if (limit := scope.owner_filter(actor, account_column.owner)) is not None:
        conditions.append(limit)
    return conditions


def owned_under(account_column: Any, *, owner_id: uuid.UUID | None, unit_path: str | None) -> list[Any]:
    """Filters by the account's owner (a rep) or by the owner's org unit subtree (a team, a region)."""
    conditions: list[Any] = []
    if owner_id is not None:
        conditions.append(account_column.owner == owner_id)
    if unit_path is not None:
        units = OrgUnit.select(OrgUnit.id).where(OrgUnit.path.like(unit_path + "%"))
        conditions.append(account_column.owner.org_unit.is_in(units))
    return conditions


async def account_in_scope(actor: Actor, account_id: uuid.UUID) -> dict[str, Any]:
    """The account's id, name, owner and tier if the actor sees it; 404 otherwise."""
    query = AccountRow.select(AccountRow.id, AccountRow.name, AccountRow.owner, AccountRow.tier).where(
        AccountRow.id == account_id, AccountRow.deleted_at.is_null()
    )
    if (limit := scope.owner_filter(actor, AccountRow.owner)) is not None:
        query = query.where(limit)
    row = await query.first()
    if row is None:
        msg = f"account {account_id} not found"
        raise NotFound(msg)
    return row
