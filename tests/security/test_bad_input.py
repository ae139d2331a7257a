"""Input no server should choke on answers a 4xx problem with a message, never a 500."""

import uuid

import httpx
import pytest

from fieldcrm.lib.pagination import MAX_OFFSET
from tests.factories import Org, make_account

PROBLEM = "application/problem+json"


def _is_problem(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    assert r.json()["detail"], r.text


async def _list_paths(client: httpx.AsyncClient, org: Org) -> list[str]:
    """Every GET operation that pages with ``offset``, path parameters filled with a real account (or a new id)."""
    account = await make_account(org, "rep_a")
    schema = (await client.get("/schema/openapi.json")).json()
    paths = []
    for template, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or not any(p["name"] == "offset" for p in get.get("parameters", [])):
            continue
        path = template
        for p in get.get("parameters", []):
            if p["in"] == "path":
                value = account if p["name"] == "account_id" else uuid.uuid4()
                path = path.replace("{" + p["name"] + "}", str(value))
        paths.append(path)
    assert len(paths) >= 14, paths
    return paths


@pytest.mark.parametrize("offset", [2**63, 2**64 + 1, MAX_OFFSET + 1, -1])
async def test_an_offset_past_any_database_is_refused_on_every_list(
    client: httpx.AsyncClient, org: Org, offset: int
) -> None:
    for path in await _list_paths(client, org):
        for params in ({"offset": str(offset)}, {"cursor": str(offset)}):
            _is_problem(await client.get(path, params=params, headers=org.hq.headers))


async def test_the_largest_offset_still_answers_an_empty_page(client: httpx.AsyncClient, org: Org) -> None:
    r = await client.get("/api/accounts", params={"offset": MAX_OFFSET}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [] and r.json()["nextCursor"] is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/accounts", b"[" * 100_000),
        ("/api/accounts", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("/api/sync/push", b"[" * 100_000),
        ("/api/auth/login", b"[" * 100_000),
    ],
    ids=["array", "object", "sync", "login"],
)
async def test_deeply_nested_json_is_refused(client: httpx.AsyncClient, org: Org, path: str, body: bytes) -> None:
    headers = {**org.rep_a.headers, "content-type": "application/json"}
    _is_problem(await client.post(path, content=body, headers=headers))


async def test_deep_nesting_inside_a_sync_mutation_is_refused(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    deep = "[" * 5_000 + '"x"' + "]" * 5_000
    body = (
        f'{{"clientId": "{uuid.uuid4()}", "mutations": [{{"id": 1, "name": "account.update", '
        f'"args": {{"id": "{account}", "notes": {deep}}}, "capturedAt": "2026-12-04T08:00:00Z"}}]}}'
    )
    headers = {**org.rep_a.headers, "content-type": "application/json"}
    r = await client.post("/api/sync/push", content=body.encode(), headers=headers)
    if r.status_code == 200:  # the batch is taken and this mutation is rejected with its reason
        result = r.json()["results"][0]
        assert result["status"] == "rejected" and result["message"], result
    else:
        _is_problem(r)


@pytest.mark.parametrize("body", [b'{"username": "\xff\xfe", "password": "x"}', b"\xc3\x28", b'{"a": "\xed\xa0\x80"}'])
async def test_a_body_that_is_not_utf8_is_refused(client: httpx.AsyncClient, org: Org, body: bytes) -> None:
    for path in ("/api/auth/login", "/api/accounts", "/api/sync/push"):
        r = await client.post(path, content=body, headers={**org.rep_a.headers, "content-type": "application/json"})
        _is_problem(r)


def _types(schema: dict) -> set[str]:
    """The JSON types a parameter's schema admits (``type`` may be a name or a list; ``oneOf`` adds more)."""
    kind = schema.get("type")
    found = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= _types(option)
    return found


async def test_every_integer_query_parameter_past_its_column_is_refused(client: httpx.AsyncClient, org: Org) -> None:
    """Each GET's integer query parameters at 2**40 (past PostgreSQL's int4) answer 4xx, never a 500."""
    account = await make_account(org, "rep_a")
    schema = (await client.get("/schema/openapi.json")).json()
    tried = 0
    for template, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        path = template
        for p in get.get("parameters", []):
            if p["in"] == "path":
                value = (
                    account if p["name"] == "account_id" else "review_comment" if p["name"] == "key" else uuid.uuid4()
                )
                path = path.replace("{" + p["name"] + "}", str(value))
        for p in get.get("parameters", []):
            kinds = _types(p.get("schema", {}))
            if p["in"] != "query" or "integer" not in kinds:
                continue
            r = await client.get(path, params={p["name"]: str(2**40)}, headers=org.hq.headers)
            assert r.status_code < 500, (path, p["name"], r.status_code, r.text[:300])
            tried += 1
    assert tried >= 20, tried
