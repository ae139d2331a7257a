async def test_health_reports_database(client):
    r = await client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["database"] == "ok"
    assert body["version"]


async def test_login_then_list_accounts(client, org):
    from tests.factories import make_account

    await make_account(org, "rep_a", name="济南钢铁集团")
    await make_account(org, "rep_b", name="Qilu Pharma")
    r = await client.post("/api/auth/login", json={"username": "rep_a", "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    r = await client.get("/api/accounts", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    names = [a["name"] for a in r.json()["items"]]
    assert names == ["济南钢铁集团"]
