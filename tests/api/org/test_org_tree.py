"""The org tree and people, managed by HQ."""

import json
import uuid

from fieldcrm.audit.tables import AuditEntry
from tests.factories import make_account


async def test_hq_builds_a_tree_of_any_depth(client, org):
    h = org.hq.headers
    parent = org.units["team_a"]
    ids = []
    for depth in range(4):  # team > squad > pod > ... deeper than the usual four levels
        r = await client.post(
            "/api/org-units", json={"name": f"level {depth}", "kind": "team", "parentId": str(parent)}, headers=h
        )
        assert r.status_code == 201, r.text
        parent = uuid.UUID(r.json()["id"])
        ids.append(parent)
    deepest = (await client.get(f"/api/org-units/{ids[-1]}", headers=h)).json()
    assert deepest["depth"] == 7  # team A sits at depth 3
    assert deepest["path"].startswith(f"/{org.units['hq']}/")


async def test_a_second_root_is_refused(client, org):
    r = await client.post("/api/org-units", json={"name": "Another HQ", "kind": "hq"}, headers=org.hq.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "parentId"


async def test_moving_a_team_moves_its_people_scope(client, org):
    account = await make_account(org, "rep_c")  # rep_c is in team C under Wuhan (another province)
    director = org.director.headers
    assert (await client.get(f"/api/accounts/{account}", headers=director)).status_code == 404
    r = await client.patch(
        f"/api/org-units/{org.units['team_c']}", json={"parentId": str(org.units["jinan"])}, headers=org.hq.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["path"] == f"/{org.units['hq']}/{org.units['north']}/{org.units['jinan']}/{org.units['team_c']}/"
    # The director of the province now sees team C's accounts on the very next request.
    assert (await client.get(f"/api/accounts/{account}", headers=director)).status_code == 200


async def test_a_unit_cannot_move_under_its_own_descendant(client, org):
    r = await client.patch(
        f"/api/org-units/{org.units['north']}", json={"parentId": str(org.units["team_a"])}, headers=org.hq.headers
    )
    assert r.status_code == 422
    assert "descendant" in r.json()["detail"]


async def test_a_unit_with_people_cannot_be_deleted(client, org):
    r = await client.delete(f"/api/org-units/{org.units['team_a']}", headers=org.hq.headers)
    assert r.status_code == 409
    assert "people" in r.json()["detail"]
    empty = await client.post(
        "/api/org-units",
        json={"name": "empty", "kind": "team", "parentId": str(org.units["jinan"])},
        headers=org.hq.headers,
    )
    assert (await client.delete(f"/api/org-units/{empty.json()['id']}", headers=org.hq.headers)).status_code == 204
    assert (await client.get(f"/api/org-units/{empty.json()['id']}", headers=org.hq.headers)).status_code == 404


async def test_create_user_validates_and_refuses_duplicates(client, org):
    h = org.hq.headers
    body = {
        "username": "li.na",
        "displayName": "李娜",
        "password": "long enough pw",
        "role": "rep",
        "orgUnitId": str(org.units["team_a"]),
    }
    r = await client.post("/api/users", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["orgUnitName"] == "Jinan Team A"
    again = await client.post("/api/users", json=body, headers=h)
    assert again.status_code == 409
    assert again.json()["field"] == "username"
    bad_role = await client.post("/api/users", json={**body, "username": "x1", "role": "boss"}, headers=h)
    assert bad_role.status_code == 400
    assert bad_role.json()["errors"][0]["field"] == "role"
    short = await client.post("/api/users", json={**body, "username": "x2", "password": "short"}, headers=h)
    assert short.status_code == 400
    assert "password" in short.json()["detail"]
    no_unit = await client.post(
        "/api/users", json={**body, "username": "x3", "orgUnitId": str(uuid.uuid4())}, headers=h
    )
    assert no_unit.status_code == 422
    assert no_unit.json()["field"] == "orgUnitId"
    # The new person can sign in.
    assert (
        await client.post("/api/auth/login", json={"username": "li.na", "password": "long enough pw"})
    ).status_code == 200


async def test_user_changes_are_audited_without_the_password(client, org):
    r = await client.patch(
        f"/api/users/{org.rep_a.id}",
        json={"displayName": "王芳", "password": "a new secret pw"},
        headers=org.hq.headers,
    )
    assert r.status_code == 200
    entry = await AuditEntry.select().where(AuditEntry.entity_id == org.rep_a.id, AuditEntry.action == "update").first()
    assert entry is not None
    changes = json.loads(entry["changes"]) if isinstance(entry["changes"], str) else entry["changes"]
    text = json.dumps(changes, ensure_ascii=False)
    assert "王芳" in text
    assert "a new secret pw" not in text and "$argon2" not in text


async def test_hq_cannot_deactivate_themselves(client, org):
    r = await client.patch(f"/api/users/{org.hq.id}", json={"isActive": False}, headers=org.hq.headers)
    assert r.status_code == 409


async def test_user_list_is_scoped_and_searchable(client, org):
    mine = (await client.get("/api/users", headers=org.manager_a.headers)).json()
    assert {u["username"] for u in mine["items"]} == {"manager_a", "rep_a", "rep_a2"}
    rep = (await client.get("/api/users", headers=org.rep_a.headers)).json()
    assert [u["username"] for u in rep["items"]] == ["rep_a"]
    found = (await client.get("/api/users", params={"q": "REP_A"}, headers=org.hq.headers)).json()
    assert {u["username"] for u in found["items"]} == {"rep_a", "rep_a2"}
