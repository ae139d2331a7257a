"""New passwords follow NIST SP 800-63B: long enough, not a common one, not a run of one character, not the
username; no composition rules, so a long passphrase (or the demo's password) is fine."""

import httpx
import pytest

from tests.factories import Org

WEAK = ["12345678", "password", "Password", " " * 12, "aaaaaaaaaaaa", "abcdefgh", "87654321", "iloveyou", "1qaz2wsx"]


def _user(org: Org, username: str, password: str) -> dict[str, str]:
    return {
        "username": username,
        "displayName": "李娜",
        "password": password,
        "role": "rep",
        "orgUnitId": str(org.units["team_a"]),
    }


@pytest.mark.parametrize("password", WEAK, ids=repr)
async def test_a_weak_password_is_refused_with_the_reason(client: httpx.AsyncClient, org: Org, password: str) -> None:
    r = await client.post("/api/users", json=_user(org, "li.na", password), headers=org.hq.headers)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "password" and r.json()["detail"]
    r = await client.patch(f"/api/users/{org.rep_b.id}", json={"password": password}, headers=org.hq.headers)
    assert r.status_code == 422 and r.json()["field"] == "password", r.text


async def test_the_username_is_not_a_password(client: httpx.AsyncClient, org: Org) -> None:
    for password in ("wang.fang.2026", "WANG.FANG.2026"):
        r = await client.post("/api/users", json=_user(org, "wang.fang.2026", password), headers=org.hq.headers)
        assert r.status_code == 422 and r.json()["field"] == "password", r.text
    r = await client.patch(f"/api/users/{org.rep_b.id}", json={"password": "rep_b rep_b rep_b"}, headers=org.hq.headers)
    assert r.status_code == 422 and r.json()["field"] == "password", r.text


async def test_a_short_password_is_refused(client: httpx.AsyncClient, org: Org) -> None:
    r = await client.post("/api/users", json=_user(org, "li.na", "abc1234"), headers=org.hq.headers)
    assert r.status_code in (400, 422) and "password" in r.text


@pytest.mark.parametrize("password", ["fieldcrm-demo", "correct horse battery", "我的密码是长城2026", "Tr0ub4dor&3x"])
async def test_a_good_password_is_taken(client: httpx.AsyncClient, org: Org, password: str) -> None:
    r = await client.post("/api/users", json=_user(org, "li.na", password), headers=org.hq.headers)
    assert r.status_code == 201, r.text
    r = await client.post("/api/auth/login", json={"username": "li.na", "password": password})
    assert r.status_code == 200, r.text
