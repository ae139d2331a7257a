"""The whole field day offline, in a real browser against a real server (360 px wide).

A rep with no network creates a prospect, an opportunity, a quote it submits, and a case; reloads
offline; comes back online: each arrives once and the manager has the quote in the inbox. Signing
out offline asks first (English and zh-CN). The rep's map draws its own base layer and today's route
with every request off the machine refused.

Uses the fixtures of test_pwa_browser.py (``fieldcrm serve`` on 127.0.0.1 with the test's
DATABASE_URL; Debian's Chromium through Playwright; skipped without Chromium or a built PWA).
Screenshots of the screens visited go to artefacts/screenshots/.
"""

import re
import uuid
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e import test_pwa_browser as base
from tests.factories import Org, make_account
from tests.sales.helpers import product

pytestmark = pytest.mark.browser

browser = base.browser
server_factory = base.server_factory
tabs = base.tabs
WAIT = base.WAIT

TZ = "Asia/Shanghai"
ZONE = zoneinfo.ZoneInfo(TZ)
SHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"
PHONE = {"latitude": 36.6600, "longitude": 117.0500, "accuracy": 20}  # Jinan, west of the customers


async def shot(tab: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await tab.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def phones(tabs: Any) -> Any:
    """Fresh 360 px contexts with the Web Push prompt answered "Not now" whenever it floats over a step."""

    async def open_phone(base_url: str, **options: Any) -> Any:
        tab = await tabs(base_url, **options)

        async def not_now(prompt: Any) -> None:
            await prompt.get_by_test_id("push-later").click()

        await tab.page.add_locator_handler(tab.by("push-prompt"), not_now)
        return tab

    return open_phone


async def offline(tab: Any) -> None:
    await tab.context.set_offline(True)
    await expect(tab.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)


TODAY_JS = """() => {
    const d = new Date();
    const two = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}"""


async def device_today(tab: Any) -> str:
    """The phone's date (as the app's todayIso sees it)."""
    return str(await tab.page.evaluate(TODAY_JS))


async def test_a_field_day_made_offline_arrives_once_and_the_manager_sees_the_quote(
    client: httpx.AsyncClient, org: Org, server_factory: Any, phones: Any
) -> None:
    steel = await make_account(
        org, code="FD0001", name="济南钢铁集团", latitude=36.6515, longitude=117.1208, city="济南"
    )
    line = await product(client, org, price=100_000, limit_bp=500, name="互联网专线 500M")
    server = server_factory()

    rep = await phones(server.base, geolocation=PHONE, permissions=["geolocation"], timezone_id=TZ)
    await rep.sign_in(org.rep_a)
    await rep.synced()
    await rep.service_worker_in_control()
    await offline(rep)

    # A prospect, with the phone's fix as a proposed pin.
    await rep.by("account-new-link").click()
    await expect(rep.by("newacct-screen")).to_be_visible(timeout=WAIT)
    await rep.by("newacct-name").fill("历城新材料有限公司")
    await rep.by("newacct-city").fill("济南")
    await expect(rep.by("newacct-fix")).to_have_attribute("data-state", "good", timeout=WAIT)
    await shot(rep, "01-prospect-new-offline")
    await rep.by("newacct-save").click()
    await expect(rep.by("prospect-state")).to_have_attribute("data-state", "waiting", timeout=WAIT)
    prospect = uuid.UUID(await rep.by("prospect-screen").get_attribute("data-id"))

    # An opportunity on the steel works: read back from the device, never asked of the server.
    await rep.page.goto(f"{server.base}/#/opportunities/new/{steel}")
    await expect(rep.by("opp-form")).to_be_visible(timeout=WAIT)
    await rep.by("opp-name").fill("专线扩容 2027")
    await rep.by("opp-amount").fill("120000")
    await rep.by("opp-save").click()
    await expect(rep.page).to_have_url(re.compile(r"#/opportunities/[0-9a-f-]{36}$"), timeout=WAIT)
    opportunity = uuid.UUID(rep.page.url.rsplit("/", 1)[1])
    await expect(rep.by("opp-title")).to_have_text("专线扩容 2027", timeout=WAIT)
    await expect(rep.by("opp-pending")).to_be_visible()

    # A quote, submitted offline: saved and queued, not lost.
    await rep.page.goto(f"{server.base}/#/quotes/new/{steel}/{opportunity}")
    await expect(rep.by("quote-form")).to_be_visible(timeout=WAIT)
    quote_id = uuid.UUID(await rep.by("quote-screen").get_attribute("data-id"))
    # An empty submit asks for a product; the message goes once there is one.
    await rep.by("quote-submit").click()
    await expect(rep.by("quote-lines-error")).to_contain_text("at least one product")
    await rep.by("quote-add-product").select_option(line)
    await expect(rep.by("quote-lines-error")).to_be_hidden()
    # A bad line is marked where it is wrong.
    await rep.by("line-quantity").fill("abc")
    await expect(rep.by("line-quantity-error")).to_be_visible()
    await rep.by("line-discount").fill("150")
    await expect(rep.by("line-discount-error")).to_be_visible()
    await rep.by("line-quantity").fill("3")
    await rep.by("line-discount").fill("12")
    await expect(rep.by("line-quantity-error")).to_be_hidden()
    await expect(rep.by("quote-total")).to_have_attribute("data-cents", "264000")
    await shot(rep, "02-quote-offline")
    await rep.by("quote-submit").click()
    await expect(rep.page).to_have_url(re.compile(rf"#/quotes/{quote_id}$"), timeout=WAIT)
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "submitted", timeout=WAIT)
    await expect(rep.by("quote-submit-pending")).to_be_visible()
    await shot(rep, "03-quote-submitted-offline")

    # A case.
    await rep.page.goto(f"{server.base}/#/cases/new/{steel}")
    await expect(rep.by("case-form")).to_be_visible(timeout=WAIT)
    await rep.by("case-title").fill("专线中断两小时")
    await rep.by("case-save").click()
    await expect(rep.page).to_have_url(re.compile(r"#/cases/[0-9a-f-]{36}$"), timeout=WAIT)
    case_id = uuid.UUID(rep.page.url.rsplit("/", 1)[1])
    await expect(rep.by("case-title")).to_have_text("专线中断两小时", timeout=WAIT)

    # Reload with no network: all of it is still here, waiting.
    await rep.page.reload()
    await expect(rep.by("case-title")).to_have_text("专线中断两小时", timeout=WAIT)
    await expect(rep.by("pending-count")).to_have_attribute("data-count", "5", timeout=WAIT)
    await rep.page.goto(f"{server.base}/#/quotes/{quote_id}")
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "submitted", timeout=WAIT)

    await rep.context.set_offline(False)
    await rep.synced()
    await expect(rep.by("rejected-link")).to_have_attribute("data-count", "0")

    async with server.api(org.rep_a) as api:
        assert (await api.get(f"/api/accounts/{prospect}")).json()["name"] == "历城新材料有限公司"
        opps = (await api.get("/api/opportunities", params={"accountId": str(steel)})).json()
        assert [o["id"] for o in opps["items"]] == [str(opportunity)]
        quotes = (await api.get("/api/quotes", params={"accountId": str(steel)})).json()
        assert [q["id"] for q in quotes["items"]] == [str(quote_id)]
        assert quotes["items"][0]["state"] == "submitted"
        cases = (await api.get("/api/cases", params={"accountId": str(steel)})).json()
        assert [c["id"] for c in cases["items"]] == [str(case_id)]

    manager = await phones(server.base)
    await manager.sign_in(org.manager_a)
    await manager.page.goto(server.base + "/#/approvals")
    item = manager.page.locator(f'[data-testid="approval-item"][data-subject="{quote_id}"]')
    await expect(item).to_be_visible(timeout=WAIT)
    await shot(manager, "04-manager-inbox")


async def test_signing_out_offline_asks_first_and_never_drops_the_queue(
    org: Org, server_factory: Any, phones: Any
) -> None:
    steel = await make_account(org, code="FD0002", name="济南钢铁集团")
    server = server_factory()
    rep = await phones(server.base)
    await rep.sign_in(org.rep_a)
    await rep.synced()
    await offline(rep)
    await rep.open_account("FD0002", steel)
    await rep.by("note-input").fill("离线记录：下周再访")
    await rep.by("note-save").click()
    await expect(rep.by("pending-count")).to_have_attribute("data-count", "1", timeout=WAIT)

    await rep.page.goto(server.base + "/#/settings")
    await rep.by("signout").click()
    warning = rep.by("signout-warning")
    await expect(warning).to_be_visible()
    await expect(rep.by("signout-pending")).to_have_attribute("data-count", "1")
    await expect(rep.by("signout-pending")).to_contain_text("1 changes")
    await expect(rep.by("signout-offline")).to_contain_text("signing back in needs one")
    await expect(rep.by("signout-sync")).to_be_hidden()  # nothing to sync with
    await shot(rep, "05-signout-offline")
    await rep.by("signout-wait").click()
    await expect(warning).to_be_hidden()
    await expect(rep.by("signed-in-as")).to_be_visible()
    await expect(rep.by("pending-count")).to_have_attribute("data-count", "1")

    # Back online: "sync now" sends the change, then signing out goes ahead with nothing lost.
    await rep.context.set_offline(False)
    await expect(rep.by("net-status")).to_have_attribute("data-state", "online", timeout=WAIT)
    await rep.by("signout").click()
    # Either the change already went (the app syncs when the network returns) and sign-out goes ahead,
    # or it asks again, now offering to sync first.
    await expect(rep.by("signout-sync").or_(rep.by("login-screen"))).to_be_visible(timeout=WAIT)
    if await rep.by("signout-sync").is_visible():
        await rep.by("signout-sync").click()
    await expect(rep.by("login-screen")).to_be_visible(timeout=WAIT)
    async with server.api(org.rep_a) as api:
        timeline = (await api.get(f"/api/accounts/{steel}/overview")).json()
    assert "离线记录：下周再访" in str(timeline)


async def test_signing_out_offline_asks_first_in_chinese(org: Org, server_factory: Any, phones: Any) -> None:
    await make_account(org, code="FD0003")
    server = server_factory()
    rep = await phones(server.base, locale="zh-CN")
    await rep.sign_in(org.rep_a)
    await rep.synced()
    await offline(rep)
    await rep.page.goto(server.base + "/#/settings")
    await rep.by("signout").click()
    await expect(rep.by("signout-offline")).to_contain_text("退出后重新登录需要联网")
    await expect(rep.by("signout-pending")).to_have_count(0)
    await expect(rep.by("signout-confirm")).to_have_text("仍然退出")
    await shot(rep, "06-signout-offline-zh")
    await rep.by("signout-wait").click()
    await expect(rep.by("signed-in-as")).to_be_visible()
    # The chosen "sign out anyway" goes ahead (nothing was waiting); the login screen says it needs a network.
    await rep.by("signout").click()
    await rep.by("signout-confirm").click()
    await expect(rep.by("login-screen")).to_be_visible(timeout=WAIT)


async def test_the_reps_map_draws_its_base_layer_and_todays_route_with_the_network_off(
    org: Org, server_factory: Any, phones: Any
) -> None:
    stops = [
        await make_account(org, code="MAP001", name="济南钢铁集团", latitude=36.6515, longitude=117.1208),
        await make_account(org, code="MAP002", name="山东高速信息", latitude=36.6680, longitude=117.0300),
        await make_account(org, code="MAP003", name="浪潮软件园", latitude=36.6420, longitude=117.0900),
    ]
    await make_account(org, code="MAP004", name="没有定位的客户")
    server = server_factory()
    # Every request off this machine is refused (and noted): the map must need none.
    outside: list[str] = []
    rep = await phones(server.base, geolocation=PHONE, permissions=["geolocation"], timezone_id=TZ)

    async def guard(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in {"127.0.0.1", "localhost"}:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await rep.context.route("**/*", guard)
    await rep.sign_in(org.rep_a)
    today = await device_today(rep)
    async with server.api(org.rep_a) as api:
        for i, account in enumerate(stops):
            r = await api.post(
                "/api/visit-plans", json={"accountId": str(account), "date": today, "purpose": f"第{i + 1}站"}
            )
            assert r.status_code == 201, r.text
    await rep.page.goto(server.base + "/#/today")
    await expect(rep.by("plan-item")).to_have_count(3, timeout=WAIT)
    await rep.synced()
    await rep.service_worker_in_control()

    await offline(rep)
    await rep.page.reload()
    await rep.by("today-map-link").click()
    box = rep.by("rep-map")
    await expect(box).to_have_attribute("data-basemap", "ready", timeout=WAIT)
    assert int(await box.get_attribute("data-provinces") or 0) >= 30
    assert int(await box.get_attribute("data-cities") or 0) >= 300
    await expect(rep.by("map-route-summary")).to_have_attribute("data-count", "3")
    await expect(rep.by("map-stop")).to_have_count(3)
    await expect(rep.by("map-route")).to_have_count(1)
    await expect(rep.by("map-account")).to_have_count(3)
    await expect(rep.by("map-unplaced")).to_contain_text("1 of your accounts")
    # Distances from my position, nearest first; tapping one offers the account, a plan, the way there.
    await expect(rep.by("map-centre-text")).to_contain_text("your position", timeout=WAIT)
    first = rep.by("map-list-item").first
    await expect(first).to_have_attribute("data-id", str(stops[1]))
    await shot(rep, "07-rep-map-offline")
    await rep.page.locator(f'[data-testid="map-account"][data-id="{stops[0]}"]').click()
    await expect(rep.by("map-selected-name")).to_have_text("济南钢铁集团")
    await expect(rep.by("map-plan")).to_have_attribute("href", f"#/plan/{stops[0]}")
    await expect(rep.by("map-open")).to_have_attribute("href", f"#/a/{stops[0]}")
    await rep.by("map-selected").scroll_into_view_if_needed()
    await shot(rep, "08-rep-map-selected")
    # The cities show with their names once zoomed in.
    await expect(rep.page.locator(".basemap-city span", has_text="济南")).to_be_visible()
    # Zoomed out: the provinces and their names, still from the app's own file.
    await box.scroll_into_view_if_needed()
    zoom = int(await box.get_attribute("data-zoom") or 0)
    while zoom > 6:
        await rep.page.locator(".leaflet-control-zoom-out").click()
        zoom -= 1
        await expect(box).to_have_attribute("data-zoom", str(zoom), timeout=WAIT)
    await shot(rep, "09-rep-map-provinces")
    await expect(rep.page.locator(".basemap-province span", has_text="Shandong")).to_be_visible(timeout=WAIT)
    assert outside == [], f"requests left the machine: {outside}"
