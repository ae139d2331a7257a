"""Service accounts: scoped, hashed, revocable tokens, audited under the account's name, never a person."""

import datetime

from fieldcrm.audit.tables import AuditEntry
from fieldcrm.integrations import service_accounts
from fieldcrm.integrations.tables import ServiceToken
from fieldcrm.org.security import token_digest
from tests.factories import make_account
from tests.integrations.conftest import make_service_account


async def test_the_token_is_shown_once_and_only_its_hash_is_kept(client, org):
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["billing:write"])
    stored = await ServiceToken.select().where(ServiceToken.service_account == sa["id"])
    assert len(stored) == 1
    assert stored[0]["digest"] == token_digest(sa["token"])
    assert sa["token"] not in str(stored)
    r = await client.get(f"/api/integrations/service-accounts/{sa['id']}", headers=org.hq.headers)
    assert r.status_code == 200
    assert sa["token"] not in r.text
    assert r.json()["tokens"][0]["prefix"] == sa["token"][:10]


async def test_scopes_decide_and_a_revoked_token_is_401(client, org):
    reader = await make_service_account(client, org.hq.headers, "reader", ["accounts:read"])
    writer = await make_service_account(client, org.hq.headers, "writer", ["billing:write"])
    batch = {"bills": []}
    r = await client.put("/api/integrations/billing/batches/b-1", json=batch, headers=reader["headers"])
    assert r.status_code == 403, r.text
    assert "billing:write" in r.json()["detail"]
    r = await client.put("/api/integrations/billing/batches/b-1", json=batch, headers=writer["headers"])
    assert r.status_code == 200, r.text
    r = await client.get("/api/accounts", headers=reader["headers"])
    assert r.status_code == 200, r.text
    r = await client.delete(
        f"/api/integrations/service-accounts/{writer['id']}/tokens/{writer['tokenId']}", headers=org.hq.headers
    )
    assert r.status_code == 204
    r = await client.put("/api/integrations/billing/batches/b-2", json=batch, headers=writer["headers"])
    assert r.status_code == 401, r.text


async def test_disabling_the_account_stops_every_token(client, org):
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["accounts:read"])
    r = await client.patch(
        f"/api/integrations/service-accounts/{sa['id']}", json={"disabled": True}, headers=org.hq.headers
    )
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await client.get("/api/accounts", headers=sa["headers"])).status_code == 401


async def test_a_service_account_is_not_a_person(client, org):
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["accounts:read", "accounts:write"])
    account_id = await make_account(org)
    # It cannot manage service accounts, decide approvals or sign in.
    r = await client.get("/api/integrations/service-accounts", headers=sa["headers"])
    assert r.status_code == 403
    r = await client.get("/api/approvals", headers=sa["headers"])
    assert r.status_code == 403, r.text
    r = await client.post("/api/auth/login", json={"username": "service:BOSS", "password": sa["token"]})
    assert r.status_code == 401
    # It can read and change accounts with its scopes, and the change is audited under its name.
    r = await client.patch(f"/api/accounts/{account_id}", json={"notes": "from BOSS"}, headers=sa["headers"])
    assert r.status_code == 200, r.text
    entries = await AuditEntry.select().where(AuditEntry.entity_id == account_id, AuditEntry.action == "update")
    assert [e["actor_name"] for e in entries] == ["BOSS (service account)"]
    assert entries[0]["actor"] is None


async def test_last_used_time_is_kept(client, org):
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["accounts:read"])
    when = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=datetime.UTC)
    actor = await service_accounts.authenticate(sa["token"], now=when)
    assert actor is not None and actor.service_scopes == frozenset({"accounts:read"})
    r = await client.get(f"/api/integrations/service-accounts/{sa['id']}", headers=org.hq.headers)
    assert r.json()["lastUsedAt"].startswith("2026-12-04T09:00:00")


async def test_names_are_unique(client, org):
    await make_service_account(client, org.hq.headers, "BOSS", ["accounts:read"])
    r = await client.post(
        "/api/integrations/service-accounts", json={"name": "BOSS", "scopes": []}, headers=org.hq.headers
    )
    assert r.status_code == 409 and r.json()["field"] == "name"


async def test_the_doors_for_people_are_closed_to_a_service_account(client, org):
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["accounts:read", "accounts:write"])
    device = {"clientId": "5f0c8a4e-8d55-4a43-9d6b-1f3f2a9a0c11"}
    for method, path, body in (
        ("GET", "/api/me", None),
        ("POST", "/api/auth/logout", None),
        ("POST", "/api/sync/push", {**device, "mutations": []}),
        ("POST", "/api/sync/pull", device),
        ("GET", "/api/push/subscriptions", None),
        ("GET", "/api/calendar/feed", None),
    ):
        r = await client.request(method, path, json=body, headers=sa["headers"])
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "people_only"
    assert (await client.get("/api/accounts", headers=sa["headers"])).status_code == 200  # the token still works
    assert (await client.get("/api/users", headers=sa["headers"])).status_code == 403  # no scope reads people


async def test_every_call_is_audited_under_the_service_accounts_name(client, org):
    sa = await make_service_account(client, org.hq.headers, "BOSS", ["accounts:read"])
    assert (await client.get("/api/accounts", headers=sa["headers"])).status_code == 200
    assert (await client.get("/api/bills", headers=sa["headers"])).status_code == 403
    calls = await AuditEntry.select().where(AuditEntry.action == "call").order_by(AuditEntry.at)
    assert [(c["actor_name"], c["actor"]) for c in calls] == [("BOSS (service account)", None)] * 2
    assert "GET /api/accounts" in str(calls[0]["changes"]) and "GET /api/bills" in str(calls[1]["changes"])
