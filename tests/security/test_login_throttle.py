"""Login throttling: checked and recorded atomically, per (account, address), with growing waits, and never a
lock-out that one address (an office behind NAT) or anybody else can impose on an account's owner."""

import asyncio
import datetime

import httpx
import pytest

from fieldcrm.lib.errors import NotAuthenticated, TooManyRequests
from fieldcrm.org import services
from fieldcrm.org.tables import LoginAttempt
from fieldcrm.settings import get_settings
from tests.factories import PASSWORD, Org

LOGIN = "/api/auth/login"
NOW = datetime.datetime(2026, 12, 4, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    """The throttle's clock stands still: waits are what the rules say, however slow the machine is."""
    monkeypatch.setattr(services, "utcnow", lambda: NOW)
    return NOW


async def _login(username: str, password: str, ip: str) -> str:
    """The outcome of one login: ok, wrong or throttled (with the wait)."""
    try:
        await services.login(username=username, password=password, ip=ip, user_agent="tests", old_token=None)
    except NotAuthenticated:
        return "wrong"
    except TooManyRequests as exc:
        return f"wait {exc.retry_after}"
    return "ok"


async def _failures(username: str, ip: str, count: int, at: datetime.datetime | None = None) -> None:
    at = at or NOW
    for _ in range(count):
        await LoginAttempt.insert(LoginAttempt(username=username, ip=ip, at=at))


async def test_forty_concurrent_wrong_passwords_are_throttled_after_the_limit(
    client: httpx.AsyncClient, org: Org
) -> None:
    limit = get_settings().login_max_failures
    answers = await asyncio.gather(
        *(client.post(LOGIN, json={"username": "rep_a", "password": f"guess {i}"}) for i in range(40))
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [401] * limit + [429] * (40 - limit), codes
    assert all(int(r.headers["retry-after"]) > 0 for r in answers if r.status_code == 429)
    assert await LoginAttempt.count().where(LoginAttempt.username == "rep_a") == limit


async def test_an_address_full_of_failures_locks_nobody_else_out(org: Org) -> None:
    office = "203.0.113.7"  # one NAT address for the whole office
    for i in range(30):
        await _login("rep_a", f"guess {i}", office)
    for name in ("rep_a2", "rep_b", "manager_a"):
        assert await _login(name, PASSWORD, office) == "ok", name
    # the attacked account itself still signs in from any other address at once
    assert await _login("rep_a", PASSWORD, "198.51.100.20") == "ok"


async def test_waits_grow_with_the_failures_and_end(org: Org) -> None:
    ip = "198.51.100.30"
    free = get_settings().login_max_failures
    await _failures("rep_a", ip, free)
    first = await _login("rep_a", PASSWORD, ip)
    await _failures("rep_a", ip, 4)
    later = await _login("rep_a", PASSWORD, ip)
    await _failures("rep_a", ip, 40)
    capped = await _login("rep_a", PASSWORD, ip)
    assert first == "wait 1", first
    assert later == "wait 16", later  # 14 failures: 2 ** 4 seconds
    assert capped == f"wait {get_settings().login_window_s}", capped
    # the waits end: once the failures are older than their wait, the right password gets in
    earlier = NOW - datetime.timedelta(seconds=get_settings().login_window_s + 1)
    await LoginAttempt.update({LoginAttempt.at: earlier}).where(LoginAttempt.username == "rep_a")
    assert await _login("rep_a", PASSWORD, ip) == "ok"


@pytest.mark.parametrize("known", [True, False], ids=["known address", "new address"])
async def test_a_distributed_attack_slows_new_addresses_but_not_known_ones(org: Org, known: bool) -> None:
    many = get_settings().login_account_max_failures
    for i in range(many):
        await _failures("rep_a", f"192.0.2.{i % 250}-{i}", 1)
    ip = "10.0.0.1" if known else "198.51.100.40"  # the factories signed rep_a in from 10.0.0.1
    outcome = await _login("rep_a", PASSWORD, ip)
    assert outcome == ("ok" if known else "wait 1"), outcome
