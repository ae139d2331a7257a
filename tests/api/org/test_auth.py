"""Sessions: cookies, CSRF, bearer tokens, logout, deactivation, login throttling, password rehash."""

import datetime

import httpx
from argon2 import PasswordHasher

from fieldcrm.org.tables import LoginAttempt, Session, User
from tests.factories import PASSWORD

LOGIN = "/api/auth/login"


async def _login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def test_login_returns_token_and_user_and_sets_cookies(client, org):
    r = await _login(client, "rep_a")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token"] and body["csrfToken"]
    assert body["user"]["username"] == "rep_a"
    assert "passwordHash" not in body["user"] and "password" not in r.text
    cookies = {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}
    session_cookie = cookies["fieldcrm_session"].lower()
    assert "httponly" in session_cookie
    assert "samesite=lax" in session_cookie
    assert "secure" not in session_cookie  # plain http here
    assert "httponly" not in cookies["fieldcrm_csrf"].lower()  # the PWA reads it to echo it back


async def test_cookie_is_secure_over_https(app, org):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
        r = await _login(client, "rep_a")
    assert r.status_code == 200
    session_cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("fieldcrm_session="))
    assert "secure" in session_cookie.lower()


async def test_wrong_password_and_unknown_user_answer_alike(client, org):
    wrong = await _login(client, "rep_a", "not the password")
    unknown = await _login(client, "nobody_here", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong username or password"
    assert wrong.headers["content-type"].startswith("application/problem+json")


async def test_cookie_session_needs_csrf_header_on_unsafe_methods(client, org):
    from tests.factories import make_account

    account_id = await make_account(org, "rep_a")
    r = await _login(client, "rep_a")
    csrf = r.json()["csrfToken"]
    # The client keeps the cookies; a GET needs nothing more.
    assert (await client.get("/api/me")).status_code == 200
    patch = {"notes": "met the CIO"}
    refused = await client.patch(f"/api/accounts/{account_id}", json=patch)
    assert refused.status_code == 403
    assert "x-csrf-token" in refused.json()["detail"]
    assert refused.json()["code"] == "csrf"
    forged = await client.patch(f"/api/accounts/{account_id}", json=patch, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    ok = await client.patch(f"/api/accounts/{account_id}", json=patch, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    assert ok.json()["notes"] == "met the CIO"


async def test_bearer_token_needs_no_csrf(client, org):
    from tests.factories import make_account

    account_id = await make_account(org, "rep_a")
    r = await client.patch(f"/api/accounts/{account_id}", json={"notes": "x"}, headers=org.rep_a.headers)
    assert r.status_code == 200


async def test_no_credentials_is_401(client, org):
    r = await client.get("/api/accounts")
    assert r.status_code == 401
    assert r.json()["detail"].startswith("sign in first")


async def test_logout_ends_the_session_on_the_server(client, org):
    token = (await _login(client, "rep_a")).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/me", headers=headers)).status_code == 401
    assert await Session.count().where(Session.user == org.rep_a.id) == 1  # only the factory's session is left


async def test_login_rotates_the_session_cookie(client, org):
    first = (await _login(client, "rep_a")).json()["token"]
    second = (await _login(client, "rep_a")).json()["token"]  # the client sends the first cookie along
    assert first != second
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {first}"})).status_code == 401
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {second}"})).status_code == 200


async def test_deactivating_a_user_ends_all_their_sessions_at_once(client, org):
    phone = (await _login(client, "rep_a")).json()["token"]
    laptop = org.rep_a.token
    r = await client.patch(f"/api/users/{org.rep_a.id}", json={"isActive": False}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    for token in (phone, laptop):
        assert (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await _login(client, "rep_a")).status_code == 401
    # Reactivated, they can sign in again.
    await client.patch(f"/api/users/{org.rep_a.id}", json={"isActive": True}, headers=org.hq.headers)
    assert (await _login(client, "rep_a")).status_code == 200


async def test_expired_session_is_refused(client, org):
    past = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(minutes=1)
    await Session.update({Session.expires_at: past}).where(Session.user == org.rep_a.id)
    assert (await client.get("/api/me", headers=org.rep_a.headers)).status_code == 401


async def test_ten_failures_for_one_account_throttle_it_but_not_for_good(client, org):
    for _ in range(10):
        assert (await _login(client, "rep_a", "guess")).status_code == 401
    blocked = await _login(client, "rep_a")  # even the right password waits
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= 900
    assert "try again in" in blocked.json()["detail"]
    # Fifteen minutes later the account works again: it was never locked for good.
    earlier = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(minutes=16)
    await LoginAttempt.update({LoginAttempt.at: earlier}).where(LoginAttempt.username == "rep_a")
    assert (await _login(client, "rep_a")).status_code == 200


async def test_failures_for_other_accounts_from_one_address_do_not_throttle_the_next(client, org):
    # One address is often a whole office behind NAT: throttling is per (account, address), see docs/security.md
    for i in range(10):
        assert (await _login(client, f"nobody{i}", "guess")).status_code == 401
    assert (await _login(client, "rep_b")).status_code == 200


async def test_nine_failures_do_not_throttle(client, org):
    for _ in range(9):
        await _login(client, "rep_a", "guess")
    assert (await _login(client, "rep_a")).status_code == 200


async def test_password_is_rehashed_when_parameters_change(client, org):
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2).hash(PASSWORD)
    await User.update({User.password_hash: old}).where(User.id == org.rep_a.id)
    assert (await _login(client, "rep_a")).status_code == 200
    row = await User.select(User.password_hash).where(User.id == org.rep_a.id).first()
    assert row["password_hash"] != old
    assert row["password_hash"].startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in row["password_hash"]  # the parameters this deployment runs with
    assert (await _login(client, "rep_a")).status_code == 200


async def test_me_lists_permissions(client, org):
    rep = (await client.get("/api/me", headers=org.rep_a.headers)).json()
    hq = (await client.get("/api/me", headers=org.hq.headers)).json()
    assert rep["user"]["role"] == "rep"
    assert "accounts.delete" not in rep["permissions"]
    assert "accounts.import" in hq["permissions"]
