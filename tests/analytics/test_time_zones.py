"""Tasks done on time in a business zone with a clock change inside the period (Europe/Berlin, 25 Oct 2026)."""

import httpx
import msgspec
import pytest

from fieldcrm.analytics import facts, periods
from fieldcrm.settings import get_settings
from tests.analytics import fixture
from tests.factories import Org


async def test_on_time_follows_each_days_own_midnight(
    client: httpx.AsyncClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    berlin = msgspec.structs.replace(get_settings(), timezone="Europe/Berlin")
    monkeypatch.setattr(facts, "get_settings", lambda: berlin)
    monkeypatch.setattr(periods, "get_settings", lambda: berlin)
    w = fixture.World(org)
    # 24 Oct is summer time (UTC+2), 25 Oct winter time (UTC+1): 23:30 local is 21:30 and 22:30 UTC
    await fixture.task(w, "rep_a", due="2026-10-24", state="done", completed="2026-10-24T21:30:00+00:00")
    await fixture.task(w, "rep_a", due="2026-10-25", state="done", completed="2026-10-25T22:30:00+00:00")
    await fixture.task(w, "rep_a", due="2026-10-25", state="done", completed="2026-10-25T23:30:00+00:00")  # 00:30
    await fixture.task(w, "rep_a", due="2026-10-23", state="done", completed="2026-10-23T22:30:00+00:00")  # 00:30
    r = await client.get("/api/kpis", params={"period": "week", "at": "2026-10-21"}, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    values = r.json()["current"]["values"]
    assert r.json()["current"]["period"]["label"] == "2026-W43"  # Monday 19 to Sunday 25 October
    assert (values["tasksDue"], values["tasksOnTime"]) == (4, 2)
