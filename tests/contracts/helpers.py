"""Builders for contract tests."""

import uuid
from typing import Any

import httpx

from fieldcrm.sales.tables import Quote as QuoteRow
from tests.factories import Org, Person
from tests.sales.helpers import act, product, quote

__all__ = ["accepted_quote", "contract_of", "product", "sign"]


async def accepted_quote(
    client: httpx.AsyncClient, org: Org, who: Person, account_id: uuid.UUID, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """A quote the customer accepted (the approval path is the sales tests' business: it is skipped here)."""
    body = await quote(client, who, account_id, lines)
    await QuoteRow.update({QuoteRow.state: "sent"}).where(QuoteRow.id == uuid.UUID(body["id"]))
    r = await act(client, who, body["id"], "accept")
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def contract_of(client: httpx.AsyncClient, who: Person, account_id: uuid.UUID) -> dict[str, Any]:
    """The account's only contract, read in full."""
    r = await client.get("/api/contracts", params={"accountId": str(account_id)}, headers=who.headers)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    r = await client.get(f"/api/contracts/{item['id']}", headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def sign(client: httpx.AsyncClient, who: Person, contract_id: str, **dates: str) -> httpx.Response:
    """Give the draft its dates, then sign it."""
    patch = {"startOn": dates.get("start", "2027-01-01"), "endOn": dates.get("end", "2027-12-31")}
    r = await client.patch(f"/api/contracts/{contract_id}", json=patch, headers=who.headers)
    assert r.status_code == 200, r.text
    return await client.post(
        f"/api/contracts/{contract_id}/transitions",
        json={"action": "sign", "signedOn": "2026-12-20", "signatories": ["王总", "李经理"]},
        headers=who.headers,
    )
