"""Builders for sales tests: products through the API as HQ, quotes and opportunities as a rep."""

import itertools
import uuid
from typing import Any

import httpx

from tests.factories import Org, Person

_codes = itertools.count(1)


async def product(
    client: httpx.AsyncClient, org: Org, *, price: int = 10_000, limit_bp: int = 500, **extra: Any
) -> str:
    """A product created by HQ; returns its id."""
    body = {
        "code": f"P{next(_codes):05d}",
        "name": f"专线 {next(_codes)}",
        "listPriceCents": price,
        "maxDiscountBp": limit_bp,
        "unit": "条/月",
        **extra,
    }
    r = await client.post("/api/products", json=body, headers=org.hq.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def quote(
    client: httpx.AsyncClient, who: Person, account_id: uuid.UUID, lines: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A draft quote made by ``who``."""
    r = await client.post(
        "/api/quotes", json={"accountId": str(account_id), "lines": lines, **extra}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def act(client: httpx.AsyncClient, who: Person, quote_id: str, action: str, comment: str = "") -> httpx.Response:
    """POST a transition."""
    return await client.post(
        f"/api/quotes/{quote_id}/transitions", json={"action": action, "comment": comment}, headers=who.headers
    )


async def push(
    client: httpx.AsyncClient, who: Person, client_id: uuid.UUID, mutations: list[dict[str, Any]]
) -> dict[str, Any]:
    """POST /api/sync/push and return the body."""
    body = {"clientId": str(client_id), "mutations": mutations}
    r = await client.post("/api/sync/push", json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result
