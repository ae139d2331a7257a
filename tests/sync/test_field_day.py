"""The field day offline (docs/sync.md): plans, visits, deals and cases in the pull, re-scoping, offline creation."""

import datetime
import uuid
from typing import Any

import httpx
import msgspec
import pytest

from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.audit.tables import AuditEntry
from fieldcrm.lib.db import FieldcrmSQLiteEngine, engine
from fieldcrm.sales.tables import Opportunity as OppRow
from fieldcrm.settings import get_settings
from fieldcrm.sync import feeds
from fieldcrm.sync import services as sync_services
from fieldcrm.visits.tables import Visit as VisitRow
from fieldcrm.visits.tables import VisitPlan as PlanRow
from tests.conftest import IS_POSTGRES
from tests.factories import Org, Person, make_account, make_contact
from tests.sales.helpers import product, quote

# The pull's clock, frozen: windows count from this business day (Asia/Shanghai).
NOW = datetime.datetime(2026, 12, 4, 4, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 12, 4)


@pytest.fixture(autouse=True)
def frozen_pull_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "now", lambda: NOW)


async def pull(client: httpx.AsyncClient, who: Person, device: uuid.UUID, cursor: str | None = None) -> dict[str, Any]:
    r = await client.post("/api/sync/pull", json={"clientId": str(device), "cursor": cursor}, headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    while body["more"]:  # a snapshot in pages: only the accounts page
        r = await client.post(
            "/api/sync/pull", json={"clientId": str(device), "cursor": body["cursor"]}, headers=who.headers
        )
        page = r.json()
        body = {**page, "plans": body["plans"], "visits": body["visits"], "opportunities": body["opportunities"]}
    return body


async def push(client: httpx.AsyncClient, who: Person, device: uuid.UUID, mutations: list[dict[str, Any]]) -> Any:
    r = await client.post("/api/sync/push", json={"clientId": str(device), "mutations": mutations}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}


async def _plan(org: Org, account: uuid.UUID, owner: str, day: datetime.date) -> str:
    plan_id = uuid.uuid4()
    await PlanRow.insert(PlanRow(id=plan_id, account=account, owner=org.people[owner].id, date=day, purpose="拜访"))
    return str(plan_id)


async def _visit(client: httpx.AsyncClient, who: Person, account: uuid.UUID, day: datetime.date) -> str:
    visit_id = uuid.uuid4()
    at = datetime.datetime.now(tz=datetime.UTC).isoformat()
    body = {"id": str(visit_id), "accountId": str(account), "deviceAt": at, "sentAt": at}
    r = await client.post("/api/checkins", json=body, headers=who.headers)
    assert r.status_code in {200, 201}, r.text
    await VisitRow.update({VisitRow.checked_in_on: day}).where(VisitRow.id == visit_id)
    return str(visit_id)


async def _opportunity(client: httpx.AsyncClient, who: Person, account: uuid.UUID, closed_days_ago: int | None) -> str:
    r = await client.post(
        "/api/opportunities", json={"accountId": str(account), "name": "专线扩容"}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    opp_id = r.json()["id"]
    if closed_days_ago is not None:
        closed = NOW - datetime.timedelta(days=closed_days_ago)
        await OppRow.update({OppRow.stage: "lost", OppRow.closed_at: closed}).where(OppRow.id == opp_id)
    return str(opp_id)


async def _case(client: httpx.AsyncClient, who: Person, account: uuid.UUID) -> str:
    body = {"accountId": str(account), "type": "complaint", "title": "账单多扣费"}
    r = await client.post("/api/cases", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_the_pull_carries_the_field_day_within_its_windows_per_role(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a", name="济南钢铁")
    plans = {d: await _plan(org, account, "rep_a", TODAY + datetime.timedelta(days=d)) for d in (-31, -30, 60, 61)}
    visits = {d: await _visit(client, org.rep_a, account, TODAY - datetime.timedelta(days=d)) for d in (90, 91)}
    opps = {d: await _opportunity(client, org.rep_a, account, d) for d in (None, 179, 181)}
    item = await product(client, org)
    draft = await quote(client, org.rep_a, account, [{"productId": item, "quantity": 2}])
    case = await _case(client, org.rep_a, account)

    for who in ("rep_a", "manager_a", "director", "hq"):
        body = await pull(client, org.people[who], uuid.uuid4())
        assert body["reset"] is True
        assert ids(body["plans"]) == {plans[-30], plans[60]}, who  # a plan 61 days ahead (or 31 back) is absent
        assert ids(body["visits"]) == {visits[90]}, who  # a visit 91 days old is absent
        assert ids(body["opportunities"]) == {opps[None], opps[179]}, who  # closed 181 days ago: absent
        [synced] = body["quotes"]
        assert synced["id"] == draft["id"] and len(synced["lines"]) == 1 and synced["approvals"] == []
        [synced_case] = body["cases"]
        assert synced_case["id"] == case and synced_case["steps"], "a case comes with its open steps"
    for who in ("rep_b", "manager_b", "rep_c"):
        body = await pull(client, org.people[who], uuid.uuid4())
        assert body["plans"] == body["visits"] == body["opportunities"] == body["quotes"] == body["cases"] == [], who


async def test_the_window_moves_on_with_the_days(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await make_account(org, "rep_a")
    old_visit = await _visit(client, org.rep_a, account, TODAY - datetime.timedelta(days=90))
    far_plan = await _plan(org, account, "rep_a", TODAY + datetime.timedelta(days=61))
    device = uuid.uuid4()
    first = await pull(client, org.rep_a, device)
    assert ids(first["visits"]) == {old_visit} and first["plans"] == []
    monkeypatch.setattr(feeds, "now", lambda: NOW + datetime.timedelta(days=1))
    later = await pull(client, org.rep_a, device, first["cursor"])
    assert later["reset"] is False
    assert later["deletes"]["visits"] == [old_visit]  # aged out of the 90 days
    assert ids(later["plans"]) == {far_plan}  # came into the 60 days ahead


async def test_a_reassignment_moves_deals_quotes_cases_and_visits_between_two_devices(
    client: httpx.AsyncClient, org: Org
) -> None:
    account = await make_account(org, "rep_a")
    opp = await _opportunity(client, org.rep_a, account, None)
    item = await product(client, org)
    draft = await quote(client, org.rep_a, account, [{"productId": item, "quantity": 1}])
    case = await _case(client, org.rep_a, account)
    visit = await _visit(client, org.rep_a, account, TODAY)
    phone_a, phone_b, phone_c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a0 = await pull(client, org.rep_a, phone_a)
    b0 = await pull(client, org.rep_b, phone_b)
    c0 = await pull(client, org.rep_c, phone_c)
    assert ids(a0["opportunities"]) == {opp} and b0["opportunities"] == []

    r = await client.patch(
        f"/api/accounts/{account}", json={"ownerId": str(org.rep_b.id)}, headers=org.director.headers
    )
    assert r.status_code == 200, r.text

    a1 = await pull(client, org.rep_a, phone_a, a0["cursor"])
    assert a1["reset"] is False
    assert str(account) in a1["deletes"]["accounts"]
    assert a1["deletes"]["opportunities"] == [opp]
    assert a1["deletes"]["quotes"] == [draft["id"]]
    assert a1["deletes"]["cases"] == [case]
    assert a1["deletes"]["visits"] == [visit]
    assert a1["opportunities"] == a1["quotes"] == a1["cases"] == []
    b1 = await pull(client, org.rep_b, phone_b, b0["cursor"])
    assert ids(b1["accounts"]) == {str(account)}
    assert ids(b1["opportunities"]) == {opp}
    assert ids(b1["quotes"]) == {draft["id"]}
    assert ids(b1["cases"]) == {case}
    assert ids(b1["visits"]) == {visit}
    assert b1["deletes"]["opportunities"] == []
    c1 = await pull(client, org.rep_c, phone_c, c0["cursor"])  # neither owner: the move is none of this device's
    assert all(ids == [] for ids in c1["deletes"].values()), c1["deletes"]


async def test_a_role_or_team_change_rescopes_the_device_at_the_next_pull(client: httpx.AsyncClient, org: Org) -> None:
    mine = await make_account(org, "rep_a")
    teammate = await make_account(org, "rep_a2")
    opp = await _opportunity(client, org.rep_a2, teammate, None)
    device = uuid.uuid4()
    first = await pull(client, org.rep_a, device)
    assert ids(first["accounts"]) == {str(mine)} and first["opportunities"] == []

    r = await client.patch(f"/api/users/{org.rep_a.id}", json={"role": "manager"}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    promoted = await pull(client, org.rep_a, device, first["cursor"])
    assert promoted["reset"] is True  # a full snapshot replaces the device's copy: the team's work arrives
    assert ids(promoted["accounts"]) == {str(mine), str(teammate)}
    assert ids(promoted["opportunities"]) == {opp}

    r = await client.patch(
        f"/api/users/{org.rep_a.id}", json={"orgUnitId": str(org.units["team_c"])}, headers=org.hq.headers
    )
    assert r.status_code == 200, r.text
    moved = await pull(client, org.rep_a, device, promoted["cursor"])
    assert moved["reset"] is True
    assert ids(moved["accounts"]) == {str(mine)}  # team A's accounts are gone from the device
    assert moved["opportunities"] == []


def _mutation(mid: int, kind: str, /, **args: Any) -> dict[str, Any]:
    return {"id": mid, "name": kind, "args": args, "capturedAt": "2026-12-04T03:00:00Z"}


async def test_everything_a_rep_creates_offline_arrives_through_push(client: httpx.AsyncClient, org: Org) -> None:
    item = await product(client, org, limit_bp=0)  # any discount needs the manager
    prospect, opp, draft, case = (str(uuid.uuid4()) for _ in range(4))
    group = await make_account(org, "rep_a", name="山东重工集团")
    member = str(uuid.uuid4())
    device = uuid.uuid4()
    line = {"productId": item, "quantity": 3, "discountBp": 1000}
    result = await push(
        client,
        org.rep_a,
        device,
        [
            _mutation(1, "account.create", id=prospect, name="泉城新材料", city="济南", status="prospect"),
            _mutation(2, "account.create", id=member, name="山东重工济南分公司", parentId=str(group), code="SDZG-JN"),
            _mutation(3, "opportunity.create", id=opp, accountId=prospect, name="专线"),
            _mutation(4, "quote.create", id=draft, accountId=prospect, lines=[line]),
            _mutation(5, "quote.submit", id=draft, baseVersion=1),
            _mutation(6, "case.create", id=case, accountId=prospect, type="service_request", title="装机"),
        ],
    )
    assert [(r["status"], r["code"]) for r in result["results"]] == [("applied", None)] * 6, result
    body = await pull(client, org.rep_a, device)
    assert {prospect, member} <= ids(body["accounts"])
    assert next(a for a in body["accounts"] if a["id"] == member)["parentId"] == str(group)
    assert next(a for a in body["accounts"] if a["id"] == prospect)["code"].startswith("P-")
    assert ids(body["opportunities"]) == {opp}
    [synced] = body["quotes"]
    assert synced["state"] == "submitted" and synced["approvals"][0]["status"] == "running"
    assert ids(body["cases"]) == {case}
    inbox = (await client.get("/api/approvals", headers=org.manager_a.headers)).json()["items"]
    assert [i["subjectId"] for i in inbox if i["subjectId"] == draft] == [draft]
    again = await push(client, org.rep_a, device, [_mutation(5, "quote.submit", id=draft)])
    assert again["results"] == [
        {"id": 5, "status": "skipped", "code": None, "message": None, "conflicts": None, "candidates": None}
    ]


async def test_a_duplicate_prospect_is_created_and_comes_back_with_its_candidates(
    client: httpx.AsyncClient, org: Org
) -> None:
    steel = await make_account(org, "rep_a", name="济南钢铁有限公司", city="济南", code="JNGT")
    pinned = await make_account(org, "rep_c", name="武汉光谷软件园", city="武汉", latitude=30.5, longitude=114.4)
    dup_name, dup_pin, dup_code = (str(uuid.uuid4()) for _ in range(3))
    near = 30.5 + 0.0003  # about 33 m north
    result = await push(
        client,
        org.rep_a,
        uuid.uuid4(),
        [
            _mutation(1, "account.create", id=dup_name, name="济南钢铁", city="济南"),
            _mutation(2, "account.create", id=dup_pin, name="光谷软件园", pinLatitude=near, pinLongitude=114.4),
            _mutation(3, "account.create", id=dup_code, name="另一个名字", code="JNGT"),
        ],
    )
    first, second, third = result["results"]
    assert first["status"] == "applied" and first["code"] == "possible_duplicate"
    assert [(c["id"], c["reasons"], c["inScope"]) for c in first["candidates"]] == [
        (str(steel), ["same_name_city"], True)
    ]
    assert second["code"] == "possible_duplicate"
    [candidate] = second["candidates"]
    assert candidate["id"] == str(pinned) and candidate["reasons"] == ["nearby_similar_name"]
    assert candidate["inScope"] is False and candidate["code"] == "" and candidate["distanceM"] < 50
    assert third["code"] == "possible_duplicate" and third["candidates"][0]["reasons"] == ["same_code"]
    assert "JNGT" in third["message"]
    # Kept: the rep's prospects exist, the clashing code is marked.
    for created in (dup_name, dup_pin, dup_code):
        assert (await client.get(f"/api/accounts/{created}", headers=org.rep_a.headers)).status_code == 200
    code = (await client.get(f"/api/accounts/{dup_code}", headers=org.rep_a.headers)).json()["code"]
    assert code.startswith("JNGT-DUP-")


async def test_a_queued_submit_of_a_quote_a_manager_returned_meanwhile_is_rejected_with_the_reason(
    client: httpx.AsyncClient, org: Org
) -> None:
    account = await make_account(org, "rep_a")
    item = await product(client, org, limit_bp=0)
    draft = await quote(client, org.rep_a, account, [{"productId": item, "quantity": 1, "discountBp": 2000}])
    device = uuid.uuid4()
    submitted = await push(client, org.rep_a, device, [_mutation(1, "quote.submit", id=draft["id"])])
    assert submitted["results"][0]["status"] == "applied"
    inbox = (await client.get("/api/approvals", headers=org.manager_a.headers)).json()["items"]
    [step] = [i for i in inbox if i["subjectId"] == draft["id"]]
    r = await client.post(
        f"/api/approvals/{step['stepId']}/decision",
        json={"decision": "return", "comment": "单价再核对"},
        headers={**org.manager_a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    # The rep, offline, had tapped Submit again on the old copy; it arrives now.
    late = await push(client, org.rep_a, device, [_mutation(2, "quote.submit", id=draft["id"], baseVersion=2)])
    [result] = late["results"]
    assert result["status"] == "rejected" and result["code"] == "conflict"
    assert "returned" in result["message"] and "单价再核对" in result["message"]
    assert (await client.get(f"/api/quotes/{draft['id']}", headers=org.rep_a.headers)).json()["state"] == "returned"
    # Reopened and edited since: a submit made on the older version is refused with the reason too.
    r = await client.post(
        f"/api/quotes/{draft['id']}/transitions", json={"action": "reopen"}, headers=org.rep_a.headers
    )
    assert r.status_code in {200, 201}, r.text
    stale = await push(client, org.rep_a, device, [_mutation(3, "quote.submit", id=draft["id"], baseVersion=2)])
    assert stale["results"][0]["status"] == "rejected"
    assert "changed on the server" in stale["results"][0]["message"]


async def test_a_leader_merges_a_duplicate_its_rows_move_and_devices_drop_it(
    client: httpx.AsyncClient, org: Org
) -> None:
    survivor = await make_account(org, "rep_a", name="济南钢铁有限公司")
    duplicate = await make_account(org, "rep_a2", name="济南钢铁")
    contact = await make_contact(org, duplicate, name="王经理")
    opp = await _opportunity(client, org.rep_a2, duplicate, None)
    item = await product(client, org)
    draft = await quote(client, org.rep_a2, duplicate, [{"productId": item, "quantity": 1}])
    case = await _case(client, org.rep_a2, duplicate)
    visit = await _visit(client, org.rep_a2, duplicate, TODAY)
    r = await client.post(f"/api/accounts/{duplicate}/notes", json={"text": "老客户"}, headers=org.rep_a2.headers)
    assert r.status_code == 201, r.text
    phone_a2 = uuid.uuid4()
    before = await pull(client, org.rep_a2, phone_a2)
    assert ids(before["accounts"]) == {str(duplicate)}

    denied = await client.post(
        f"/api/accounts/{duplicate}/merge", json={"survivorId": str(survivor)}, headers=org.rep_a.headers
    )
    assert denied.status_code == 403
    r = await client.post(
        f"/api/accounts/{duplicate}/merge", json={"survivorId": str(survivor)}, headers=org.manager_a.headers
    )
    assert r.status_code == 200, r.text
    moved = r.json()["moved"]
    assert (moved["contacts"], moved["notes"], moved["visits"]) == (1, 1, 1)
    assert (moved["opportunities"], moved["quotes"], moved["cases"]) == (1, 1, 1)

    assert (await client.get(f"/api/accounts/{duplicate}", headers=org.manager_a.headers)).status_code == 404
    contacts = (await client.get(f"/api/accounts/{survivor}/contacts", headers=org.rep_a.headers)).json()["items"]
    assert [c["id"] for c in contacts] == [str(contact)]
    opp_now = (await client.get(f"/api/opportunities/{opp}", headers=org.rep_a.headers)).json()
    assert opp_now["accountId"] == str(survivor)
    entries = await AuditEntry.select(AuditEntry.action, AuditEntry.entity_id).where(
        AuditEntry.entity_id.is_in([survivor, duplicate])
    )
    actions = {(str(e["entity_id"]), e["action"]) for e in entries}
    assert (str(survivor), "merge") in actions and (str(duplicate), "delete") in actions

    after = await pull(client, org.rep_a2, phone_a2, before["cursor"])
    assert str(duplicate) in after["deletes"]["accounts"]
    assert opp in after["deletes"]["opportunities"] and draft["id"] in after["deletes"]["quotes"]
    assert case in after["deletes"]["cases"] and visit in after["deletes"]["visits"]
    rep_a = await pull(client, org.rep_a, uuid.uuid4())
    assert opp in ids(rep_a["opportunities"]) and visit in ids(rep_a["visits"])


async def test_a_push_past_its_deadline_rolls_back_and_answers_503(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await make_account(org, "rep_a")
    short = msgspec.structs.replace(get_settings(), sync_push_deadline_s=1)
    monkeypatch.setattr(sync_services, "get_settings", lambda: short)
    device = uuid.uuid4()
    note = _mutation(1, "account.note", id=str(uuid.uuid4()), accountId=str(account), text="拜访")
    blocker: Any
    if IS_POSTGRES:
        import asyncpg

        blocker = await asyncpg.connect(get_settings().database_url)
        await blocker.execute("BEGIN")
        await blocker.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account)
    else:
        import sqlite3

        assert isinstance(engine(), FieldcrmSQLiteEngine)
        blocker = sqlite3.connect(get_settings().sqlite_path, timeout=30)
        blocker.execute("BEGIN IMMEDIATE")
    try:
        update = _mutation(2, "account.update", id=str(account), changes={"notes": "忙"})
        r = await client.post(
            "/api/sync/push", json={"clientId": str(device), "mutations": [note, update]}, headers=org.rep_a.headers
        )
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"]
    finally:
        if IS_POSTGRES:
            await blocker.execute("ROLLBACK")
            await blocker.close()
        else:
            blocker.rollback()
            blocker.close()
    monkeypatch.undo()
    again = await push(client, org.rep_a, device, [note])
    assert again["results"][0]["status"] == "applied"  # nothing had advanced: the note applies now, once
    notes = (await client.get(f"/api/accounts/{account}/notes", headers=org.rep_a.headers)).json()
    assert notes["total"] == 1
    assert await AccountRow.count().where(AccountRow.notes == "忙") == 0


async def test_pull_responses_are_compressed_when_the_client_accepts_it(client: httpx.AsyncClient, org: Org) -> None:
    for _ in range(5):
        await make_account(org, "rep_a", notes="客户情况说明 " * 50)
    body = {"clientId": str(uuid.uuid4()), "cursor": None}
    r = await client.post("/api/sync/pull", json=body, headers={**org.rep_a.headers, "Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert len(r.json()["accounts"]) == 5  # httpx decoded it
    plain = await client.post("/api/sync/pull", json=body, headers={**org.rep_a.headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


async def test_a_prospects_pin_from_the_phone_becomes_a_location_proposal(client: httpx.AsyncClient, org: Org) -> None:
    prospect, rough = str(uuid.uuid4()), str(uuid.uuid4())
    fix = {"pinLatitude": 36.6512, "pinLongitude": 117.1201}
    result = await push(
        client,
        org.rep_a,
        uuid.uuid4(),
        [
            _mutation(1, "account.create", id=prospect, name="泉城物流", **fix, pinAccuracyM=8),
            _mutation(2, "account.create", id=rough, name="历城建材", **fix, pinAccuracyM=400),
        ],
    )
    assert [r["status"] for r in result["results"]] == ["applied", "applied"]
    account = (await client.get(f"/api/accounts/{prospect}", headers=org.rep_a.headers)).json()
    assert account["latitude"] is None  # the fix is a proposal, not the location
    r = await client.get("/api/location-proposals", headers=org.manager_a.headers)
    assert r.status_code == 200, r.text
    [proposal] = r.json()["items"]  # the 400 m fix is too rough to propose anything
    assert proposal["accountId"] == prospect
    assert (proposal["latitude"], proposal["longitude"], proposal["status"]) == (36.6512, 117.1201, "pending")
    r = await client.post(
        f"/api/location-proposals/{proposal['id']}/decision",
        json={"decision": "confirm"},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 200, r.text
    assert (await client.get(f"/api/accounts/{prospect}", headers=org.rep_a.headers)).json()["latitude"] == 36.6512


async def test_an_approval_step_decided_resends_its_quote_with_the_history(client: httpx.AsyncClient, org: Org) -> None:
    account = await make_account(org, "rep_a")
    item = await product(client, org, price=100_000)
    draft = await quote(client, org.rep_a, account, [{"productId": item, "quantity": 1, "discountBp": 2500}])
    r = await client.post(
        f"/api/quotes/{draft['id']}/transitions", json={"action": "submit"}, headers=org.rep_a.headers
    )
    assert r.status_code == 200, r.text
    device = uuid.uuid4()
    first = await pull(client, org.rep_a, device)
    [synced] = first["quotes"]
    assert [s["status"] for s in synced["approvals"][0]["steps"]] == ["pending"]
    inbox = (await client.get("/api/approvals", headers=org.manager_a.headers)).json()["items"]
    [step] = [i for i in inbox if i["subjectId"] == draft["id"]]
    r = await client.post(
        f"/api/approvals/{step['stepId']}/decision",
        json={"decision": "approve", "comment": "同意"},
        headers={**org.manager_a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    # The quote itself did not change (still submitted, waiting for the director): its approval history did.
    later = await pull(client, org.rep_a, device, first["cursor"])
    [again] = later["quotes"]
    assert again["state"] == "submitted"
    steps = again["approvals"][0]["steps"]
    assert steps[0]["status"] == "approved" and steps[0]["decisions"][0]["comment"] == "同意"
    assert steps[-1]["status"] == "pending" and len(steps) == 2
