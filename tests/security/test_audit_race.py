"""The audit trail names only what a request changed, even while another transaction writes the same row.

On PostgreSQL a plain read of the "before" row sees the last committed version while another writer's
UPDATE is still open; the request then waits at its own UPDATE and its diff would list the other writer's
change under this user's name. Every audited update reads its row under the row lock instead.
"""

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from fieldcrm.audit.tables import AuditEntry
from tests.factories import Org, make_account, make_contact, make_holding

Setup = Callable[[httpx.AsyncClient, Org], Awaitable[tuple[str, uuid.UUID]]]


async def _account(client: httpx.AsyncClient, org: Org) -> tuple[str, uuid.UUID]:
    account = await make_account(org, "rep_a")
    return f"/api/accounts/{account}", account


async def _contact(client: httpx.AsyncClient, org: Org) -> tuple[str, uuid.UUID]:
    account = await make_account(org, "rep_a")
    contact = await make_contact(org, account)
    return f"/api/accounts/{account}/contacts/{contact}", contact


async def _holding(client: httpx.AsyncClient, org: Org) -> tuple[str, uuid.UUID]:
    account = await make_account(org, "rep_a")
    holding = await make_holding(org, account)
    return f"/api/accounts/{account}/holdings/{holding}", holding


async def _opportunity(client: httpx.AsyncClient, org: Org) -> tuple[str, uuid.UUID]:
    account = await make_account(org, "rep_a")
    r = await client.post(
        "/api/opportunities", json={"accountId": str(account), "name": "扩容专线"}, headers=org.rep_a.headers
    )
    assert r.status_code == 201, r.text
    return f"/api/opportunities/{r.json()['id']}", uuid.UUID(r.json()["id"])


async def _user(client: httpx.AsyncClient, org: Org) -> tuple[str, uuid.UUID]:
    return f"/api/users/{org.rep_b.id}", org.rep_b.id


@dataclass(frozen=True)
class Case:
    entity: str
    setup: Setup
    table: str
    column: str  # the other writer's column and value
    value: str
    body: dict[str, Any]  # this request's change
    who: str = "rep_a"


CASES = [
    Case("account", _account, "accounts", "address", "'济南市历下区 other writer'", {"notes": "mine"}),
    Case("contact", _contact, "contacts", "title", "'other writer'", {"notes": "mine"}),
    Case("holding", _holding, "holdings", "product", "'other writer'", {"quantity": 7}),
    Case("opportunity", _opportunity, "opportunities", "competitor", "'other writer'", {"nextStep": "mine"}),
    Case("user", _user, "users", "phone", "'13800000000'", {"displayName": "Mine"}, who="hq"),
]


@pytest.mark.postgres_only
@pytest.mark.parametrize("case", CASES, ids=[c.entity for c in CASES])
async def test_an_update_waiting_for_another_writer_audits_only_its_own_change(
    client: httpx.AsyncClient, org: Org, case: Case
) -> None:
    url, row_id = await case.setup(client, org)
    other = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        tx = other.transaction()
        await tx.start()
        await other.execute(f"UPDATE {case.table} SET {case.column} = {case.value} WHERE id = $1", row_id)  # noqa: S608
        patch = asyncio.create_task(client.patch(url, json=case.body, headers=org.people[case.who].headers))
        # wait until the request queues behind the other writer's row lock
        while not patch.done():
            waiting = await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting:
                break
            await asyncio.sleep(0.01)
        await tx.commit()
        r = await patch
    finally:
        await other.close()
    assert r.status_code == 200, r.text
    entries = await AuditEntry.select(AuditEntry.changes).where(
        AuditEntry.entity == case.entity, AuditEntry.entity_id == row_id, AuditEntry.action == "update"
    )
    assert len(entries) == 1, entries
    changes = entries[0]["changes"]
    changes = changes if isinstance(changes, dict) else json.loads(changes)
    assert case.column not in changes, f"the other writer's {case.column} is attributed to {case.who}: {changes}"
    assert changes, "this request's own change is missing from the trail"
