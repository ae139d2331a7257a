"""Key accounts: CRUD, validation, search, filters, sorting, paging, audit, query counts."""

import asyncio
import datetime
import uuid

from fieldcrm.lib.db import count_queries
from tests.factories import make_account, make_contact, make_holding


def _body(**overrides):
    return {
        "code": "JN0001",
        "name": "济南钢铁集团有限公司",
        "industry": "制造",
        "city": "济南",
        "latitude": 36.65,
        "longitude": 117.12,
        **overrides,
    }


async def test_rep_creates_an_account_they_own(client, org):
    r = await client.post("/api/accounts", json=_body(), headers=org.rep_a.headers)
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["ownerId"] == str(org.rep_a.id)
    assert account["orgUnitId"] == str(org.units["team_a"])
    assert account["status"] == "prospect" and account["visitRadiusM"] == 300
    got = await client.get(f"/api/accounts/{account['id']}", headers=org.rep_a.headers)
    assert got.json()["name"] == "济南钢铁集团有限公司"


async def test_a_rep_cannot_create_for_someone_else(client, org):
    r = await client.post("/api/accounts", json=_body(ownerId=str(org.rep_b.id)), headers=org.rep_a.headers)
    assert r.status_code == 403


async def test_manager_assigns_within_team_only(client, org):
    ok = await client.post("/api/accounts", json=_body(ownerId=str(org.rep_a2.id)), headers=org.manager_a.headers)
    assert ok.status_code == 201
    other = await client.post(
        "/api/accounts", json=_body(code="X2", ownerId=str(org.rep_b.id)), headers=org.manager_a.headers
    )
    assert other.status_code == 422
    assert other.json()["field"] == "ownerId"


async def test_validation_names_the_field(client, org):
    h = org.rep_a.headers
    cases = [
        (_body(latitude=91), "latitude"),
        (_body(longitude=-181), "longitude"),
        (_body(status="dormant"), "status"),
        (_body(code=""), "code"),
        (_body(code="has space"), "code"),
        (_body(visitRadiusM=0), "visitRadiusM"),
        (_body(memberLines=-1), "memberLines"),
        ({"name": "no code"}, "code"),
    ]
    for body, field in cases:
        r = await client.post("/api/accounts", json=body, headers=h)
        assert r.status_code == 400, (body, r.text)
        problem = r.json()
        assert problem["errors"][0]["field"] == field, problem
        assert problem["detail"].startswith(field) or field in problem["detail"]
    half = await client.post("/api/accounts", json=_body(longitude=None), headers=h)
    assert half.status_code == 422
    assert "latitude and longitude together" in half.json()["detail"]
    assert (await client.get("/api/accounts", headers=h)).json()["total"] == 0  # nothing half-written


async def test_malformed_json_is_a_clear_400(client, org):
    r = await client.post(
        "/api/accounts", content=b"{not json", headers={**org.rep_a.headers, "content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_duplicate_code_is_409(client, org):
    assert (await client.post("/api/accounts", json=_body(), headers=org.rep_a.headers)).status_code == 201
    r = await client.post("/api/accounts", json=_body(name="another"), headers=org.rep_b.headers)
    assert r.status_code == 409
    assert "JN0001" in r.json()["detail"]


async def test_concurrent_creates_with_one_code_leave_exactly_one(client, org):
    results = await asyncio.gather(
        *(client.post("/api/accounts", json=_body(name=f"n{i}"), headers=org.hq.headers) for i in range(8))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 7


async def test_body_over_one_megabyte_is_413(client, org):
    r = await client.post("/api/accounts", json=_body(notes="x" * 1_100_000), headers=org.rep_a.headers)
    assert r.status_code == 413
    assert r.json()["title"] == "Request body too large"


async def test_page_size_over_the_cap_is_refused(client, org):
    r = await client.get("/api/accounts", params={"limit": 101}, headers=org.hq.headers)
    assert r.status_code in (400, 422)
    assert "limit" in r.json()["detail"]


async def test_patch_distinguishes_absent_from_null(client, org):
    account = await make_account(org, "rep_a", latitude=36.6, longitude=117.0, notes="keep me")
    r = await client.patch(
        f"/api/accounts/{account}", json={"latitude": None, "longitude": None}, headers=org.manager_a.headers
    )  # a leader: check-ins are verified against the pin, so reps do not move it
    assert r.status_code == 200
    assert r.json()["latitude"] is None
    assert r.json()["notes"] == "keep me"
    assert r.json()["version"] == 2


async def test_rep_cannot_reassign_but_manager_can_and_scope_follows(client, org):
    account = await make_account(org, "rep_a")
    refused = await client.patch(
        f"/api/accounts/{account}", json={"ownerId": str(org.rep_a2.id)}, headers=org.rep_a.headers
    )
    assert refused.status_code == 403
    moved = await client.patch(
        f"/api/accounts/{account}", json={"ownerId": str(org.rep_a2.id)}, headers=org.manager_a.headers
    )
    assert moved.status_code == 200
    assert (await client.get(f"/api/accounts/{account}", headers=org.rep_a.headers)).status_code == 404
    assert (await client.get(f"/api/accounts/{account}", headers=org.rep_a2.headers)).status_code == 200


async def test_group_hierarchy_refuses_loops(client, org):
    group = await make_account(org, "rep_a", name="山东高速集团")
    member = await make_account(org, "rep_a", name="山东高速物流", parent_id=group)
    loop = await client.patch(f"/api/accounts/{group}", json={"parentId": str(member)}, headers=org.rep_a.headers)
    assert loop.status_code == 422
    assert "loop" in loop.json()["detail"]
    blocked = await client.delete(f"/api/accounts/{group}", headers=org.manager_a.headers)
    assert blocked.status_code == 409
    assert "member" in blocked.json()["detail"]


async def test_delete_is_soft_and_frees_nothing(client, org):
    account = await make_account(org, "rep_a", code="DEL1")
    assert (await client.delete(f"/api/accounts/{account}", headers=org.manager_a.headers)).status_code == 204
    assert (await client.get(f"/api/accounts/{account}", headers=org.manager_a.headers)).status_code == 404
    again = await client.post("/api/accounts", json=_body(code="DEL1"), headers=org.rep_a.headers)
    assert again.status_code == 409
    assert "deleted" not in again.json()["detail"]  # a rep learns only that the code is taken
    hq = await client.post("/api/accounts", json=_body(code="DEL1", ownerId=str(org.rep_a.id)), headers=org.hq.headers)
    assert hq.status_code == 409
    assert "deleted" in hq.json()["detail"]


async def test_search_matches_name_code_and_contacts_in_any_case_and_script(client, org):
    steel = await make_account(org, "rep_a", name="济南钢铁集团", code="JNG-001")
    await make_contact(org, steel, name="Zhang Wei")
    pharma = await make_account(org, "rep_a", name="Qilu Pharmaceutical", code="QL-002")
    await make_account(org, "rep_a", name="青岛啤酒", code="QD-003")
    h = org.rep_a.headers

    async def search(q):
        r = await client.get("/api/accounts", params={"q": q}, headers=h)
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()["items"]}

    assert await search("钢铁") == {str(steel)}
    assert await search("qilu pharma") == {str(pharma)}
    assert await search("QILU") == {str(pharma)}
    assert await search("ＱＩＬＵ") == {str(pharma)}  # full-width input from a Chinese IME
    assert await search("jng-001") == {str(steel)}
    assert await search("zhang") == {str(steel)}
    assert await search("100%_") == set()  # wildcards are literal


async def test_search_follows_contact_changes(client, org):
    account = await make_account(org, "rep_a", name="某公司")
    contact = await make_contact(org, account, name="欧阳娜娜")
    h = org.rep_a.headers
    assert (await client.get("/api/accounts", params={"q": "欧阳"}, headers=h)).json()["total"] == 1
    await client.patch(f"/api/accounts/{account}/contacts/{contact}", json={"name": "李雷"}, headers=h)
    assert (await client.get("/api/accounts", params={"q": "欧阳"}, headers=h)).json()["total"] == 0
    assert (await client.get("/api/accounts", params={"q": "李雷"}, headers=h)).json()["total"] == 1


async def test_filters_and_sorting(client, org):
    a = await make_account(org, "rep_a", name="Alpha", city="济南", status="active")
    b = await make_account(org, "rep_a2", name="Bravo", city="青岛", status="at_risk")
    c = await make_account(org, "rep_b", name="Charlie", city="济南", status="active")
    d = await make_account(org, "rep_c", name="Delta", city="武汉", status="lost")
    soon = datetime.date.today() + datetime.timedelta(days=20)
    await make_holding(org, b, contract_end=soon)
    await make_holding(org, d, contract_end=soon + datetime.timedelta(days=200))
    h = org.hq.headers

    async def ids(**params):
        r = await client.get("/api/accounts", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert await ids(city="济南") == [str(a), str(c)]
    assert await ids(status="at_risk") == [str(b)]
    assert await ids(ownerId=str(org.rep_b.id)) == [str(c)]
    assert await ids(orgUnitId=str(org.units["jinan"])) == [str(a), str(b), str(c)]
    assert await ids(orgUnitId=str(org.units["team_a"])) == [str(a), str(b)]
    assert await ids(contractsEndingWithinDays=30) == [str(b)]
    assert await ids(sort="-name") == [str(d), str(c), str(b), str(a)]
    bad = await client.get("/api/accounts", params={"sort": "password"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["field"] == "sort"
    unknown = await client.get("/api/accounts", params={"tier": "Z"}, headers=h)
    assert unknown.status_code == 400


async def test_paging_walks_every_row_once(client, org):
    created = {str(await make_account(org, "rep_a", name=f"客户{i:02d}")) for i in range(7)}
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/accounts", params=params, headers=org.rep_a.headers)).json()
        assert page["total"] == 7
        seen += [a["id"] for a in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == created


async def test_list_and_detail_issue_a_bounded_number_of_queries(client, org):
    for i in range(30):
        await make_account(org, "rep_a", name=f"客户{i:02d}")
    with count_queries() as statements:
        r = await client.get("/api/accounts", params={"limit": 20}, headers=org.manager_a.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == 20
    assert len(statements) <= 3, statements  # session, page, count: never one per row


async def test_audit_trail_records_before_and_after(client, org):
    account = await make_account(org, "rep_a", name="旧名称")
    await client.patch(f"/api/accounts/{account}", json={"name": "新名称", "notes": "n"}, headers=org.rep_a.headers)
    contact = await make_contact(org, account, name="王强")
    await client.delete(f"/api/accounts/{account}/contacts/{contact}", headers=org.rep_a.headers)
    rep = await client.get(f"/api/accounts/{account}/audit", headers=org.rep_a.headers)
    assert rep.status_code == 403
    r = await client.get(f"/api/accounts/{account}/audit", headers=org.manager_a.headers)
    assert r.status_code == 200
    entries = r.json()["items"]
    assert [(e["entity"], e["action"]) for e in entries] == [
        ("contact", "delete"),
        ("contact", "create"),
        ("account", "update"),
        ("account", "create"),
    ]
    update = entries[2]
    assert update["changes"]["name"] == ["旧名称", "新名称"]
    assert update["actorName"] == "Rep A"
    assert "version" not in update["changes"]


async def test_unknown_ids_are_404(client, org):
    r = await client.get(f"/api/accounts/{uuid.uuid4()}", headers=org.hq.headers)
    assert r.status_code == 404
    assert r.json()["title"] == "Not found"


async def test_bad_query_and_path_values_get_clear_problems(client, org):
    h = org.hq.headers
    r = await client.get("/api/accounts", params={"limit": "lots"}, headers=h)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "limit"
    r = await client.get("/api/accounts", params={"ownerId": "not-a-uuid"}, headers=h)
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "ownerId"
    r = await client.get("/api/accounts", params={"cursor": "abc"}, headers=h)
    assert r.status_code == 422
    assert r.json()["field"] == "cursor"
    r = await client.get("/api/accounts/not-a-uuid", headers=h)
    assert r.status_code == 404
    r = await client.put("/api/accounts", json={}, headers=h)
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
