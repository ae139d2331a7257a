"""Field work in a real browser against a real server: an offline check-in and visit log, and the coverage map.

Uses the server, browser and tab fixtures of test_pwa_browser.py (``fieldcrm serve`` on 127.0.0.1
with the test's DATABASE_URL; Debian's Chromium through Playwright; skipped without Chromium or a
built PWA, a failure under FIELDCRM_TEST_STRICT=1). Playwright sets the phone's position.
"""

import datetime
import re
import struct
import uuid
import zlib
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e import test_pwa_browser as base
from tests.factories import Org, make_account, make_contact

pytestmark = pytest.mark.browser

# The same fixtures as the PWA's browser test (a module-scoped browser, servers, fresh contexts).
browser = base.browser
server_factory = base.server_factory
tabs = base.tabs
WAIT = base.WAIT


@pytest.fixture
async def phones(tabs: Any) -> Any:
    """Fresh contexts as ``tabs`` opens them, with the Web Push prompt (src/push/) answered "Not now"
    whenever it floats over what a step taps."""

    async def open_phone(base_url: str, **options: Any) -> Any:
        tab = await tabs(base_url, **options)

        async def not_now(prompt: Any) -> None:
            await prompt.get_by_test_id("push-later").click()

        await tab.page.add_locator_handler(tab.by("push-prompt"), not_now)
        return tab

    return open_phone


TZ = "Asia/Shanghai"  # the business's zone (settings.timezone): what "today" means for plans
ZONE = zoneinfo.ZoneInfo(TZ)
SCREENSHOT = Path("/tmp/fieldcrm-coverage-map.png")  # noqa: S108 - for a person to look at

# A customer on Jingshi Road, Jinan, and where the rep stands: about 55 m away, a 15 m fix.


def _png(width: int, height: int) -> bytes:
    """A small RGB PNG (a gradient), as a phone's camera would hand over (much smaller)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes([x * 4 % 256, y * 5 % 256, 128]) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png(64, 48)

SITE = (36.6515, 117.1208)
NEAR = {"latitude": 36.6519, "longitude": 117.1212, "accuracy": 15}


async def test_an_offline_check_in_and_log_reach_the_server_once_with_its_verdict(
    org: Org, server_factory: Any, phones: Any
) -> None:
    steel = await make_account(org, code="VIS001", name="济南钢铁集团", latitude=SITE[0], longitude=SITE[1])
    zhang = await make_contact(org, steel, name="张伟", title="采购经理")
    await make_contact(org, steel, name="李娜", title="信息中心主任")
    server = server_factory()

    a = await phones(server.base, geolocation=NEAR, permissions=["geolocation"])
    await a.sign_in(org.rep_a)
    await a.synced()
    await a.service_worker_in_control()
    await a.open_account("VIS001", steel)
    await expect(a.by("acct-visits")).to_be_visible()
    await expect(a.by("acct-visit-item")).to_have_count(0)

    # Offline at the customer: a fresh fix, check in, log the visit, check out.
    await a.context.set_offline(True)
    await expect(a.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    await a.by("acct-checkin-link").click()
    await expect(a.by("checkin-screen")).to_have_attribute("data-account-id", str(steel))
    await expect(a.by("checkin-fix")).to_have_attribute("data-state", "good", timeout=WAIT)
    await expect(a.by("checkin-accuracy")).to_have_attribute("data-m", "15")
    distance = int(await a.by("checkin-distance").get_attribute("data-m") or "-1")
    assert 40 <= distance <= 70, distance
    await expect(a.by("checkin-offline")).to_be_visible()
    await expect(a.by("checkin-submit")).to_have_text("Check in")
    await a.by("checkin-submit").click()

    await expect(a.by("visit-screen")).to_be_visible(timeout=WAIT)
    visit_id = uuid.UUID(await a.by("visit-screen").get_attribute("data-id"))
    await expect(a.by("visit-verdict")).to_have_attribute("data-verdict", "pending")
    await expect(a.by("visit-pending")).to_be_visible()
    await a.by("visit-purpose").fill("续约洽谈")
    await a.by("visit-outcome").fill("客户同意年底前续约专线")
    await a.page.locator(f'[data-testid="visit-contact"][data-id="{zhang}"]').check()
    await a.by("visit-next-step").fill("发送报价")
    await a.by("visit-follow-up").fill("2026-12-15")
    await a.by("visit-save").click()
    await expect(a.by("visit-form-message")).to_be_visible()
    # A photo taken offline waits on the phone.
    await a.by("visit-photo").set_input_files(files=[{"name": "shopfront.png", "mimeType": "image/png", "buffer": PNG}])
    await expect(a.by("visit-photo-status")).to_have_attribute("data-state", "waiting", timeout=WAIT)
    await a.by("visit-checkout").click()
    await expect(a.by("visit-checkout")).to_be_hidden(timeout=WAIT)
    await expect(a.by("visit-duration")).to_have_attribute("data-s", re.compile(r"^\d+$"))
    await expect(a.by("pending-count")).to_have_attribute("data-count", "3")
    await a.page.screenshot(path="/tmp/fieldcrm-visit.png", full_page=True)  # noqa: S108 - for a person to look at
    assert await a.page.evaluate("document.documentElement.scrollWidth") <= 360

    # Reloaded with no network: the visit, its log and the waiting photo are on the phone.
    await a.page.reload()
    await expect(a.by("visit-screen")).to_have_attribute("data-id", str(visit_id), timeout=WAIT)
    await expect(a.by("visit-verdict")).to_have_attribute("data-verdict", "pending")
    await expect(a.by("visit-outcome")).to_have_value("客户同意年底前续约专线")
    await expect(a.by("visit-photo-status")).to_have_attribute("data-state", "waiting")
    await expect(a.by("pending-count")).to_have_attribute("data-count", "3")

    # The account 360 lists it at once, verdict pending.
    await a.page.goto(f"{server.base}/#/a/{steel}")
    item = a.page.locator(f'[data-testid="acct-visit-item"][data-id="{visit_id}"]')
    await expect(item).to_have_attribute("data-verdict", "pending", timeout=WAIT)
    async with server.api(org.rep_a) as api:
        assert (await api.get("/api/visits", params={"accountId": str(steel)})).json()["total"] == 0

    # Online: the queue drains, the server judges, the device shows the server's verdict.
    await a.context.set_offline(False)
    await expect(a.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    await expect(a.by("rejected-link")).to_have_attribute("data-count", "0")
    await expect(item).to_have_attribute("data-verdict", "verified", timeout=WAIT)
    await item.get_by_role("link").click()
    await expect(a.by("visit-verdict")).to_have_attribute("data-verdict", "verified", timeout=WAIT)
    await expect(a.by("visit-pending")).to_have_count(0)
    await expect(a.by("visit-photo-status")).to_have_attribute("data-state", "uploaded", timeout=WAIT)

    async with server.api(org.rep_a) as api:
        visits = (await api.get("/api/visits", params={"accountId": str(steel)})).json()
    assert visits["total"] == 1, visits
    v = visits["items"][0]
    assert v["id"] == str(visit_id)  # the id the device made
    assert v["verdict"] == "verified"
    assert v["flags"] == []
    assert v["countsForCoverage"] is True
    assert 40 <= v["distanceM"] <= 70
    assert v["accuracyM"] == 15
    assert v["purpose"] == "续约洽谈"
    assert v["outcome"] == "客户同意年底前续约专线"
    assert v["contactIds"] == [str(zhang)]
    assert v["nextStep"] == "发送报价"
    assert v["followUpDate"] == "2026-12-15"
    assert v["checkedOutAt"] is not None
    assert v["durationS"] is not None and v["durationS"] >= 0
    # Queued offline: the device's check-in time is kept, before the server received it.
    assert v["deviceAt"] <= v["receivedAt"]
    assert v["hasPhoto"] is True
    async with server.api(org.rep_a) as api:
        photo = await api.get(f"/api/visits/{visit_id}/photo")
    assert photo.status_code == 200
    assert photo.headers["content-type"].startswith("image/")
    assert len(photo.content) > 0


# Accounts across Jinan (lat, lon), like the demo's: some visited, some never.
JINAN = [
    (36.6512, 117.1201),
    (36.6583, 117.0550),
    (36.6801, 117.0302),
    (36.6655, 117.1420),
    (36.6402, 117.0903),
    (36.6720, 117.1655),
    (36.6905, 117.0801),
    (36.6234, 117.0201),
    (36.7002, 117.1102),
    (36.6111, 117.1503),
]


async def test_the_coverage_map_draws_hexagons_then_points_and_the_tables(
    org: Org, server_factory: Any, phones: Any
) -> None:
    ids = [
        await make_account(
            org,
            owner="rep_a" if i % 2 == 0 else "rep_a2",
            code=f"MAP{i:03d}",
            name=f"济南客户 {i}",
            latitude=lat,
            longitude=lon,
        )
        for i, (lat, lon) in enumerate(JINAN)
    ]
    await make_account(org, owner="rep_b", code="OTHERB", name="Team B", latitude=36.65, longitude=117.12)
    server = server_factory()
    # Three verified visits by rep_a (standing at the customer).
    now = datetime.datetime.now(datetime.UTC)
    async with server.api(org.rep_a) as api:
        for n, i in enumerate((0, 2, 4)):
            at = (now - datetime.timedelta(hours=6 - n)).isoformat()
            lat, lon = JINAN[i]
            r = await api.post(
                "/api/checkins",
                json={
                    "id": str(uuid.uuid4()),
                    "accountId": str(ids[i]),
                    "latitude": lat + 0.0002,
                    "longitude": lon,
                    "accuracyM": 10,
                    "fixAt": at,
                    "deviceAt": at,
                    "sentAt": now.isoformat(),
                },
            )
            assert r.status_code == 201, r.text
            assert r.json()["verdict"] == "verified", r.json()

    m = await phones(server.base)
    csp: list[str] = []
    m.page.on("console", lambda msg: csp.append(msg.text) if "Content Security Policy" in msg.text else None)
    await m.sign_in(org.manager_a)
    await m.synced()
    await m.by("tab-coverage").click()
    await expect(m.by("coverage-screen")).to_be_visible()
    box = m.by("coverage-map")
    await expect(box).to_have_attribute("data-mode", "hex", timeout=WAIT)
    hexes = m.page.locator('[data-testid="coverage-hex"]')
    await expect(hexes).not_to_have_count(0, timeout=WAIT)
    total = sum([int(await h.get_attribute("data-accounts") or 0) for h in await hexes.all()])
    assert total == len(JINAN)  # the manager's team; not team B's account
    # Some hexagons are covered, some not: their shares differ.
    shares = {await h.get_attribute("data-share") for h in await hexes.all()}
    assert len(shares) >= 1
    assert await m.page.evaluate("document.documentElement.scrollWidth") <= 360
    await m.page.screenshot(path=str(SCREENSHOT))

    # Only never-visited accounts: fewer in view.
    await m.by("coverage-filter-status").select_option("never")
    await expect(m.by("coverage-map-note")).to_contain_text(f"{len(JINAN) - 3} accounts", timeout=WAIT)

    # The manager's team only (the one team in scope): every account again.
    await m.by("coverage-filter-status").select_option("")
    await expect(m.by("coverage-filter-team").locator("option")).to_have_count(2, timeout=WAIT)
    await m.by("coverage-filter-team").select_option(str(org.manager_a.unit_id))
    await expect(m.by("coverage-map-note")).to_contain_text(f"{len(JINAN)} accounts", timeout=WAIT)

    # Zoomed in to street level: single accounts, coloured by status.
    for _ in range(6):
        if await box.get_attribute("data-mode") == "points":
            break
        await m.page.locator(".leaflet-control-zoom-in").click()
        await m.page.wait_for_timeout(700)  # the map refetches once the zoom settles (debounced)
    await expect(box).to_have_attribute("data-mode", "points", timeout=WAIT)
    points = m.page.locator('[data-testid="coverage-point"]')
    await expect(points).not_to_have_count(0)
    statuses = {await p.get_attribute("data-status") for p in await points.all()}
    assert statuses <= {"covered", "due_soon", "overdue", "never"}

    await m.by("coverage-tab-table").click()
    await m.by("coverage-group-by").select_option("rep")
    await expect(m.by("coverage-row")).to_have_count(2, timeout=WAIT)
    await expect(m.by("coverage-total")).to_be_visible()
    await m.by("coverage-tab-neglected").click()
    await expect(m.by("neglected-total")).to_have_attribute("data-count", str(len(JINAN) - 3), timeout=WAIT)
    await expect(m.by("neglected-item")).to_have_count(len(JINAN) - 3)
    assert not csp, csp  # Leaflet runs under the app's strict CSP


# Three customers east to west along Jinan's main roads, and where the rep starts: at the eastern one.
STOPS = {
    "DAY001": (36.6601, 117.0503),  # west, ~6 km from the start
    "DAY002": (36.6551, 117.1402),  # east, ~1.8 km
    "DAY003": (36.6515, 117.1208),  # ~55 m: the start
}
START = {"latitude": 36.6519, "longitude": 117.1212, "accuracy": 12}
FAR_AWAY = {"latitude": 36.6000, "longitude": 117.3000, "accuracy": 12}  # ~17 km from every stop


async def test_today_orders_the_plan_plans_a_visit_and_a_flagged_check_in_reaches_the_review_queue(
    org: Org, server_factory: Any, phones: Any
) -> None:
    ids = {
        code: await make_account(org, code=code, name=f"客户 {code}", latitude=lat, longitude=lon)
        for code, (lat, lon) in STOPS.items()
    }
    extra = await make_account(org, code="DAY004", name="新计划的客户", latitude=36.67, longitude=117.0)
    server = server_factory()
    today = datetime.datetime.now(ZONE).date()
    async with server.api(org.rep_a) as api:
        for code in STOPS:  # planned west to east: the long way round from the start
            r = await api.post(
                "/api/visit-plans",
                json={"accountId": str(ids[code]), "date": today.isoformat(), "purpose": f"拜访 {code}"},
            )
            assert r.status_code == 201, r.text
        yesterday = (today - datetime.timedelta(days=1)).isoformat()
        r = await api.post(
            "/api/visit-plans", json={"accountId": str(extra), "date": yesterday, "purpose": "昨天的计划"}
        )
        assert r.status_code == 201, r.text

    a = await phones(server.base, geolocation=START, permissions=["geolocation"], timezone_id=TZ)
    await a.sign_in(org.rep_a)
    await a.synced()
    await a.by("tab-today").click()
    await expect(a.by("today-screen")).to_be_visible()
    items = a.by("plan-list").get_by_test_id("plan-item")
    await expect(items).to_have_count(3, timeout=WAIT)

    async def order() -> list[str]:
        return [str(await x.get_attribute("data-account-id")) for x in await items.all()]

    assert await order() == [str(ids[c]) for c in ("DAY001", "DAY002", "DAY003")]
    await expect(a.by("missed-item")).to_have_count(1)
    await expect(a.by("missed-item")).to_have_attribute("data-account-id", str(extra))

    # Nearest first from where the rep stands, with the server's distances.
    await a.by("order-nearest").click()
    await expect(a.by("today-order")).to_have_attribute("data-order", "nearest")
    await expect(a.by("today-total")).to_have_attribute("data-source", "server", timeout=WAIT)
    await expect(items.first).to_have_attribute("data-account-id", str(ids["DAY003"]))
    assert await order() == [str(ids[c]) for c in ("DAY003", "DAY002", "DAY001")]
    first_leg = float(await items.first.get_by_test_id("plan-distance").get_attribute("data-m") or "-1")
    assert 30 < first_leg < 90, first_leg
    await expect(a.by("today-total")).to_contain_text("km")
    await a.page.screenshot(path="/tmp/fieldcrm-today.png")  # noqa: S108 - for a person to look at
    assert await a.page.evaluate("document.documentElement.scrollWidth") <= 360
    href = await items.first.get_by_test_id("plan-navigate").get_attribute("href")
    assert href and "36.651500" in href and "117.120800" in href, href

    # Plan a visit from the device's accounts.
    await a.by("plan-new-link").click()
    await a.by("plan-account-search").fill("DAY004")
    await expect(a.by("plan-account").locator("option")).to_have_count(1)
    await a.by("plan-account").select_option(str(extra))
    await a.by("plan-purpose").fill("补拜访")
    await a.by("plan-save").click()
    await expect(a.by("today-screen")).to_be_visible()
    await expect(items).to_have_count(4, timeout=WAIT)
    await expect(a.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    async with server.api(org.rep_a) as api:
        day = (await api.get("/api/visit-plans/day", params={"date": today.isoformat()})).json()
    assert sorted(p["purpose"] for p in day["items"]) == ["拜访 DAY001", "拜访 DAY002", "拜访 DAY003", "补拜访"]

    # Cancel the far western stop: two taps; it leaves the list and the server has it cancelled.
    west = a.page.locator(f'[data-testid="plan-item"][data-account-id="{ids["DAY001"]}"]')
    await west.get_by_test_id("plan-cancel").click()
    await west.get_by_test_id("plan-cancel-confirm").click()
    await expect(items).to_have_count(3, timeout=WAIT)
    await expect(a.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    async with server.api(org.rep_a) as api:
        cancelled = (await api.get("/api/visit-plans", params={"status": "cancelled"})).json()["items"]
    assert [p["accountId"] for p in cancelled] == [str(ids["DAY001"])]

    # Online, far from the customer: the check-in is kept, judged out of range and sent to review.
    await a.context.set_geolocation(FAR_AWAY)
    await (
        a.page.locator(f'[data-testid="plan-item"][data-account-id="{ids["DAY002"]}"]')
        .get_by_test_id("plan-checkin")
        .click()
    )
    await expect(a.by("checkin-fix")).to_have_attribute("data-state", "good", timeout=WAIT)
    await expect(a.by("checkin-hint")).to_contain_text("Outside the visit radius")
    await a.by("checkin-submit").click()
    await expect(a.by("visit-verdict")).to_have_attribute("data-verdict", "out_of_range", timeout=WAIT)
    await expect(a.by("visit-review-status")).to_have_attribute("data-status", "pending")
    visit_id = await a.by("visit-screen").get_attribute("data-id")
    await a.by("tab-today").click()
    done = a.page.locator(f'[data-testid="plan-item"][data-account-id="{ids["DAY002"]}"]')
    await expect(done).to_have_attribute("data-status", "done", timeout=WAIT)

    # The manager sees why, and rejects it with a ready-made comment: two taps.
    m = await phones(server.base, timezone_id=TZ)
    await m.sign_in(org.manager_a)
    await m.by("tab-review").click()
    item = m.page.locator(f'[data-testid="review-item"][data-id="{visit_id}"]')
    await expect(item).to_be_visible(timeout=WAIT)
    await expect(item.get_by_test_id("review-verdict")).to_have_text("Out of range")
    distance = await item.get_by_test_id("review-distance").inner_text()
    assert re.fullmatch(r"1[5-9](\.\d)? km", distance), distance
    await item.get_by_test_id("review-chip").filter(has_text="Not at the customer").click()
    await item.get_by_test_id("review-reject").click()
    await expect(item).to_have_count(0, timeout=WAIT)
    await expect(m.by("review-empty")).to_be_visible()
    async with server.api(org.manager_a) as api:
        visit = (await api.get(f"/api/visits/{visit_id}")).json()
    assert visit["reviewStatus"] == "rejected"
    assert visit["reviewComment"] == "Not at the customer"
    assert visit["countsForCoverage"] is False
