"""Security headers on every answer, a CSP on the quote print page, strict booleans, per-user rate limits."""

import uuid

import httpx
import pytest

from fieldcrm.app import create_app
from fieldcrm.lib import security_headers
from fieldcrm.settings import load_settings
from tests.factories import Org, make_account
from tests.sales.helpers import product, quote


def _secured(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff", (r.url, dict(r.headers))
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


async def test_every_kind_of_answer_carries_the_security_headers(client: httpx.AsyncClient, org: Org) -> None:
    answers = [
        await client.get("/api/me", headers=org.rep_a.headers),  # JSON
        await client.get("/api/me"),  # 401
        await client.get("/api/no-such-door", headers=org.rep_a.headers),  # 404
        await client.post("/api/auth/login", content=b"{", headers={"content-type": "application/json"}),  # 400
        await client.get("/health"),
        await client.get("/schema/openapi.json"),
        await client.get("/"),  # the PWA's shell keeps its own, stricter policy
    ]
    for r in answers:
        _secured(r)
    assert "default-src 'none'" in answers[0].headers["content-security-policy"]
    assert "script-src 'self'" in answers[-1].headers["content-security-policy"]


async def test_the_quote_print_page_runs_no_script(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    line = await product(client, org)
    made = await quote(client, org.rep_a, account, [{"productId": line, "quantity": 2}])
    r = await client.get(f"/api/quotes/{made['id']}/print", headers=org.rep_a.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    _secured(r)
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "base-uri 'none'" in csp


@pytest.mark.parametrize("value", [0, 1, "true", "false", None])
async def test_a_boolean_takes_only_true_or_false(client: httpx.AsyncClient, org: Org, value: object) -> None:
    r = await client.patch(f"/api/users/{org.rep_b.id}", json={"isActive": value}, headers=org.hq.headers)
    assert r.status_code == 400, r.text
    assert "isActive" in r.json()["detail"]
    prefs = {"approvals": value, "slaWarnings": True, "assignments": True, "dailyDigest": False}
    r = await client.put("/api/push/preferences", json=prefs, headers=org.rep_a.headers)
    assert r.status_code == 400 and "approvals" in r.json()["detail"], r.text
    r = await client.patch(f"/api/users/{org.rep_b.id}", json={"isActive": False}, headers=org.hq.headers)
    assert r.status_code == 200 and r.json()["isActive"] is False


async def test_sync_pull_exports_and_push_subscribe_are_limited_per_user(org: Org) -> None:
    app = create_app(load_settings(rate_limit_pulls_per_minute=3, rate_limit_heavy_per_minute=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        pull = {"clientId": str(uuid.uuid4())}
        answers = [await client.post("/api/sync/pull", json=pull, headers=org.rep_a.headers) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert answers[0].headers["ratelimit-limit"] == "3" and answers[0].headers["ratelimit-remaining"] == "2"
        assert int(answers[3].headers["retry-after"]) > 0 and answers[3].headers["ratelimit-reset"]
        assert answers[3].json()["detail"].startswith("too many requests")
        # another person has their own budget
        other = {"clientId": str(uuid.uuid4())}
        assert (await client.post("/api/sync/pull", json=other, headers=org.rep_b.headers)).status_code == 200
        exports = [await client.get("/api/accounts/export", headers=org.manager_a.headers) for _ in range(3)]
        assert [r.status_code for r in exports] == [200, 200, 429]
        assert exports[0].headers["ratelimit-limit"] == "2"
        bad = {"endpoint": "https://fcm.googleapis.com/x", "keys": {"p256dh": "x", "auth": "y"}}
        subscribes = [
            await client.post("/api/push/subscriptions", json=bad, headers=org.rep_a.headers) for _ in range(3)
        ]
        assert [r.status_code for r in subscribes][-1] == 429
        # ordinary reads are not counted
        assert "ratelimit-limit" not in (await client.get("/api/me", headers=org.rep_a.headers)).headers


def test_the_pwa_files_keep_their_own_policy() -> None:
    # A policy sent with the service worker's script would bind the worker itself (no fetch at all).
    assert security_headers._csp_for("/sw.js", "text/javascript") is None
    assert security_headers._csp_for("/assets/index-abc.js", "text/javascript") is None
    assert "sandbox" in (security_headers._csp_for("/api/me", "application/json") or "")
