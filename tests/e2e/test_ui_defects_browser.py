"""What reps, managers and HQ saw go wrong on a 360 px phone, each checked as a person sees it.

Uses the server, browser and tab fixtures of test_pwa_browser.py. Every screen state visited is
checked by axe-core (tests/e2e/axe.py: no serious or critical violation) and for layout (no sideways
scrolling, nothing cut off), and photographed into artefacts/screenshots/. The numbers in the
comments are the defects of the issue that listed them.
"""

import asyncio
import datetime
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from fieldcrm.visits.services import business_today
from tests.api.visits.helpers import JINAN, check_in, now, offset
from tests.e2e import test_pwa_browser as base
from tests.e2e.axe import audit, layout_problems, overlaps, shot
from tests.factories import PASSWORD, Org, make_account, make_contact
from tests.sales.helpers import act, product, quote

pytestmark = pytest.mark.browser

browser = base.browser
server_factory = base.server_factory
tabs = base.tabs
WAIT = base.WAIT
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 860}


async def check(tab: Any, name: str, root: str | None = None) -> None:
    """axe, layout and a screenshot of the screen as it is now."""
    await audit(tab.page, name)
    problems = await layout_problems(tab.page, root)
    await shot(tab.page, name)
    assert not problems, f"{name}: {problems}"


async def sign_in(tab: Any, person: Any) -> None:
    """Sign in from the login screen in whatever language the browser speaks."""
    await tab.page.goto(tab.base + "/")
    await tab.by("login-username").fill(person.username)
    await tab.by("login-password").fill(PASSWORD)
    await tab.by("login-submit").click()
    await expect(tab.by("accounts-screen")).to_be_visible(timeout=WAIT)


async def one_line(locator: Any) -> int:
    """How many lines the element's text takes (1 when nothing wraps)."""
    return int(
        await locator.evaluate(
            """(el) => {
                const range = document.createRange();
                range.selectNodeContents(el);
                const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                return tops.size;
            }"""
        )
    )


async def fits(locator: Any) -> bool:
    """Whether the element shows all of its text (nothing clipped or ellipsised)."""
    return bool(
        await locator.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1 && el.scrollHeight <= el.clientHeight + 1")
    )


async def _submitted_quote(client: httpx.AsyncClient, org: Org, account: uuid.UUID) -> dict[str, Any]:
    line = await product(client, org, price=100_000, limit_bp=500, name="互联网专线 500M")
    body = await quote(
        client, org.rep_a, account, [{"productId": line, "quantity": 3, "discountBp": 1200}], title="5G 专网"
    )
    assert (await act(client, org.rep_a, body["id"], "submit")).status_code == 200
    return body


async def test_a_manager_decides_from_an_approvals_tab_with_the_prompt_out_of_the_way(
    client: httpx.AsyncClient, org: Org, server_factory: Any, tabs: Any
) -> None:
    account = await make_account(org, "rep_a", code="DEF001", name="济南钢铁集团", latitude=36.65, longitude=117.12)
    body = await _submitted_quote(client, org, account)
    server = server_factory()
    m = await tabs(server.base, viewport=PHONE)
    await m.context.grant_permissions(["notifications"], origin=server.base)
    await sign_in(m, org.manager_a)

    # 3: Approvals is a tab of its own for a manager; five tabs, each label on one line.
    await expect(m.by("tab-approvals")).to_be_visible()
    for key in ("accounts", "today", "review", "coverage", "approvals"):
        assert await one_line(m.by(f"tab-{key}")) == 1, key
    tab_box = await m.by("tab-approvals").bounding_box()
    assert tab_box["height"] >= 44, tab_box

    # 4: the prompt sits above the screen, in the flow; the coverage map's hexagons do not draw over it.
    prompt = m.by("push-prompt")
    await expect(prompt).to_be_visible(timeout=WAIT)
    await m.by("tab-coverage").click()
    await expect(m.page.locator(".leaflet-container")).to_be_visible(timeout=WAIT)
    await expect(m.page.locator(".leaflet-interactive").first).to_be_attached(timeout=WAIT)
    on_top = await m.by("push-later").evaluate(
        """(el) => { const r = el.getBoundingClientRect();
                     const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                     return !!hit && !!hit.closest('[data-testid="push-prompt"]'); }"""
    )
    assert on_top, "something draws over the push prompt"
    assert not await overlaps(m.page, '[data-testid="push-prompt"]', '[data-testid="coverage-map"]')
    await check(m, "coverage-map-prompt-360-en")

    await m.by("tab-approvals").click()
    item = m.page.locator(f'[data-testid="approval-item"][data-subject="{body["id"]}"]')
    await expect(item).to_be_visible(timeout=WAIT)
    assert not await overlaps(m.page, '[data-testid="push-prompt"]', '[data-testid="approval-approve"]')
    assert not await overlaps(m.page, '[data-testid="push-prompt"]', '[data-testid="approval-reject"]')
    await m.by("push-later").click()
    await expect(prompt).to_have_count(0)

    # 2: the card says which quote in its own words, money as in the facts; "Approve" on one line.
    await expect(item.get_by_test_id("approval-subject")).to_have_text(f"{body['number']} · 5G 专网")
    await expect(item).not_to_contain_text("CNY")
    await expect(item.get_by_test_id("approval-total")).to_have_text("CN¥2,640.00")
    for decision in ("approve", "reject", "return"):
        assert await one_line(item.get_by_test_id(f"approval-{decision}")) == 1, decision
    # 5: a title with a back arrow is shown whole.
    await expect(m.by("screen-title")).to_have_text("Approvals")
    assert await fits(m.by("screen-title"))
    await check(m, "approvals-360-en")

    await item.get_by_test_id("approval-subject").click()
    await expect(m.by("quote-screen")).to_be_visible(timeout=WAIT)
    await expect(m.by("nav-back")).to_be_visible()
    await expect(m.by("screen-title")).not_to_be_empty()
    assert await fits(m.by("screen-title")), await m.by("screen-title").inner_text()
    await m.page.go_back()
    await item.get_by_test_id("approval-chip").first.click()
    await item.get_by_test_id("approval-approve").click()
    await expect(item).to_have_count(0, timeout=WAIT)

    # 6: the 360 timeline names the quote once, in words, the money as CN¥, decided by the manager.
    rep = await tabs(server.base, viewport=PHONE)
    await rep.sign_in(org.rep_a)
    await rep.open_account("DEF001", account)
    row = rep.page.locator('[data-testid="timeline-item"][data-kind="quote"]')
    await expect(row).to_have_count(1, timeout=WAIT)
    await expect(row).to_contain_text(f"Quote {body['number']} · 5G 专网")
    await expect(row.get_by_test_id("timeline-detail")).to_have_text("Approved · CN¥2,640.00")
    await expect(row.get_by_test_id("timeline-actor")).to_have_text("decided by Manager A")
    timeline = rep.by("acct-timeline")
    await expect(timeline).not_to_contain_text("wf.start")
    await expect(timeline).not_to_contain_text("quote submit")
    await expect(timeline).not_to_contain_text("opportunity created")
    await row.scroll_into_view_if_needed()
    await check(rep, "account-360-timeline-360-en")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_coverage_table_and_map_filters_fit_a_phone(
    org: Org, server_factory: Any, tabs: Any, locale: str
) -> None:
    for i, owner in enumerate(("rep_a", "rep_a2", "rep_b")):
        await make_account(
            org, owner, name=f"济南第{i + 1}钢铁集团有限公司", latitude=36.65 + i / 100, longitude=117.12
        )
    server = server_factory()
    m = await tabs(server.base, viewport=PHONE, locale=locale)
    await sign_in(m, org.manager_a)
    tag = "zh" if locale == "zh-CN" else "en"
    await m.page.goto(server.base + "/#/coverage")
    await expect(m.page.locator(".leaflet-container")).to_be_visible(timeout=WAIT)

    # 11: the filters show their whole choice ("All statuses", "All teams").
    assert await layout_problems(m.page, '[data-testid="coverage-filters"]') == []
    # Map zoom buttons are full tap targets.
    for button in await m.page.locator(".leaflet-control-zoom a").all():
        box = await button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    await check(m, f"coverage-map-360-{tag}")

    # 1: the table: names readable (not a glyph per line), every column reachable, the total in words.
    await m.by("coverage-tab-table").click()
    rows = m.by("coverage-row")
    await expect(rows.first).to_be_visible(timeout=WAIT)
    name = rows.first.locator("th")
    box = await name.bounding_box()
    size = float(await name.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)"))
    assert box["width"] >= 6 * size, (box, size)
    lines = await name.evaluate(
        "(el) => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"
    )
    assert lines <= 5, lines  # at most about three lines of text (1.45 line height)
    await expect(m.by("coverage-total").locator("th")).to_have_text("合计" if tag == "zh" else "Total")
    wrap = m.by("coverage-table")
    await expect(wrap).to_have_attribute("tabindex", "0")
    overdue = m.page.locator('[data-testid="coverage-table"] thead th').nth(4)
    await wrap.focus()
    await overdue.scroll_into_view_if_needed()
    o, w = await overdue.bounding_box(), await wrap.bounding_box()
    assert o["x"] >= w["x"] - 1 and o["x"] + o["width"] <= w["x"] + w["width"] + 1, (o, w)
    await check(m, f"coverage-table-360-{tag}")


async def test_review_says_a_rejection_needs_a_comment_and_a_flagged_check_in_is_not_verified(
    client: httpx.AsyncClient, org: Org, server_factory: Any, tabs: Any
) -> None:
    jinan = await make_account(org, "rep_a", name="济南钢铁", latitude=JINAN[0], longitude=JINAN[1], visit_radius_m=300)
    far_point = offset(JINAN, 300_000)
    far = await make_account(org, "rep_a", name="青岛港", latitude=far_point[0], longitude=far_point[1])
    t0 = now() - datetime.timedelta(hours=1)
    await check_in(client, org.rep_a, jinan, JINAN, at=t0)
    flagged = await check_in(client, org.rep_a, far, far_point, at=t0 + datetime.timedelta(minutes=10))
    assert (flagged["verdict"], flagged["reviewStatus"]) == ("verified", "pending")
    server = server_factory()

    m = await tabs(server.base, viewport=PHONE)
    await sign_in(m, org.manager_a)
    await m.by("tab-review").click()
    item = m.page.locator(f'[data-testid="review-item"][data-id="{flagged["id"]}"]')
    await expect(item).to_be_visible(timeout=WAIT)
    # 9: in range, but flagged and waiting: not "Verified".
    verdict = item.get_by_test_id("review-verdict")
    await expect(verdict).to_have_text("In range, flagged")
    await expect(item).not_to_contain_text("Verified")
    # 8: the field says a rejection needs a comment, and the screen says so before sending.
    await expect(item.get_by_test_id("review-comment")).to_have_attribute("placeholder", "Comment (needed to reject)")
    await item.get_by_test_id("review-reject").click()
    await expect(item.get_by_test_id("review-error")).to_have_text("Say why: a rejection needs a comment.")
    await expect(item.get_by_test_id("review-comment")).to_be_focused()
    await check(m, "review-reject-needs-comment-360-en")
    async with server.api(org.manager_a) as api:
        visit = (await api.get(f"/api/visits/{flagged['id']}")).json()
    assert visit["reviewStatus"] == "pending"  # nothing was sent
    await item.get_by_test_id("review-comment").fill("未到现场")
    await item.get_by_test_id("review-reject").click()
    await expect(item).to_have_count(0, timeout=WAIT)

    # The rep's own visit screen tells the same story.
    rep = await tabs(server.base, viewport=PHONE)
    await rep.sign_in(org.rep_a)
    await rep.page.goto(server.base + f"/#/visit/{flagged['id']}")
    await expect(rep.by("visit-verdict")).to_have_attribute("data-verdict", "verified", timeout=WAIT)
    # 12: a rep who opens #/review reads words, not the permission's name.
    await rep.page.goto(server.base + "/#/review")
    await expect(rep.by("review-forbidden")).to_contain_text("Managers, directors and HQ review check-ins")
    await expect(rep.page.locator("main")).not_to_contain_text("visits.review")
    await check(rep, "review-as-rep-360-en")


async def test_login_errors_sit_under_their_fields_and_the_sync_bar_waits_for_sign_in(
    org: Org, server_factory: Any, tabs: Any
) -> None:
    for i in range(30):
        await make_account(org, "rep_a", code=f"LOAD{i:03d}")
    server = server_factory()
    tab = await tabs(server.base, viewport=PHONE)
    await tab.page.goto(server.base + "/")
    await expect(tab.by("login-screen")).to_be_visible(timeout=WAIT)
    # 12: nothing to sync before signing in.
    await expect(tab.by("status-bar")).to_be_hidden()
    await tab.by("login-submit").click()
    user_error = tab.by("login-username-error")
    await expect(user_error).to_have_text("Username: required.")
    u, p = await user_error.bounding_box(), await tab.by("login-password").bounding_box()
    assert u["y"] + u["height"] <= p["y"], (u, p)  # under the username, above the password
    await expect(tab.by("login-password-error")).to_have_text("Password: required.")
    await check(tab, "login-errors-360-en")

    # 12: while the first sync brings the accounts the count says it is still loading. (The pull is
    # held back until the hint has been seen, so the check does not race the network.)
    seen = asyncio.Event()

    async def slow_pull(route: Any) -> None:
        await seen.wait()
        await route.continue_()

    await tab.page.route("**/api/sync/pull", slow_pull)
    await tab.by("login-username").fill(org.rep_a.username)
    await tab.by("login-password").fill(PASSWORD)
    await tab.by("login-submit").click()
    count = tab.by("account-count")
    await expect(count).to_have_attribute("data-loading", "true", timeout=WAIT)
    await expect(count).to_contain_text("Loading accounts")
    seen.set()
    await expect(count).to_have_attribute("data-loading", "false", timeout=WAIT)
    await expect(count).to_have_attribute("data-count", "30")
    await expect(count).to_have_text("Accounts: 30")
    await tab.page.unroute("**/api/sync/pull")

    # 12: the Sync pill sits whole inside the screen.
    await expect(tab.by("status-bar")).to_be_visible()
    pill = await tab.by("sync-now").bounding_box()
    assert pill["x"] >= 0 and pill["x"] + pill["width"] <= 360 - 2, pill
    await check(tab, "accounts-360-en")


async def test_case_badges_stay_small(client: httpx.AsyncClient, org: Org, server_factory: Any, tabs: Any) -> None:
    account = await make_account(org, "rep_a", name="山东高速")
    for title in ("专线晚高峰丢包，影响收费站业务系统", "发票抬头错误"):
        r = await client.post(
            "/api/cases",
            json={"accountId": str(account), "type": "complaint", "priority": "high", "title": title},
            headers=org.rep_a.headers,
        )
        assert r.status_code == 201, r.text
    server = server_factory()
    rep = await tabs(server.base, viewport=PHONE)
    await rep.sign_in(org.rep_a)
    await rep.page.goto(server.base + "/#/cases")
    await expect(rep.by("case-item")).to_have_count(2, timeout=WAIT)
    # 10: each badge is one short line, not a tall slab.
    for badge in await rep.page.locator('[data-testid="case-badges"] .badge').all():
        box = await badge.bounding_box()
        assert box["height"] <= 32 and box["width"] <= 160, box
    await check(rep, "cases-360-en")


CASES = {
    "360-zh": (PHONE, "zh-CN", "light"),
    "360-en-dark": (PHONE, "en-US", "dark"),
    "1280-en": (DESK, "en-US", "light"),
    "1280-zh-dark": (DESK, "zh-CN", "dark"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_main_screens_read_well(
    client: httpx.AsyncClient, org: Org, server_factory: Any, tabs: Any, case: str
) -> None:
    account = await make_account(
        org, "manager_a", code="MAIN01", name="济南钢铁集团", latitude=JINAN[0], longitude=JINAN[1]
    )
    await make_contact(org, account, name="张伟", title="采购经理")
    r = await client.post(
        "/api/visit-plans",
        json={"accountId": str(account), "date": business_today().isoformat(), "purpose": "续约"},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 201, r.text
    visit = await check_in(client, org.manager_a, account, JINAN)
    other = await make_account(org, "rep_a", code="MAIN02", name="齐鲁制药")
    await _submitted_quote(client, org, other)
    server = server_factory()
    viewport, locale, scheme = CASES[case]
    # The phone in the business's zone (settings.timezone): "today" is the same day for both.
    tab = await tabs(server.base, viewport=viewport, locale=locale, color_scheme=scheme, timezone_id="Asia/Shanghai")
    await sign_in(tab, org.manager_a)
    await tab.synced()
    name = case
    if scheme == "dark":
        bg = await tab.page.evaluate("getComputedStyle(document.querySelector('.app')).backgroundColor")
        assert bg == "rgb(18, 22, 28)", bg

    await check(tab, f"main-accounts-{name}")
    await tab.page.goto(server.base + "/#/today")
    link = tab.page.locator(".plan-name").first
    await expect(link).to_be_visible(timeout=WAIT)
    # (measured in the page until it holds: the list re-renders when the server's copy of the day arrives)
    tall = "() => [...document.querySelectorAll('.plan-name')].some((el) => el.getBoundingClientRect().height >= 44)"
    await tab.page.wait_for_function(tall, timeout=WAIT)
    await check(tab, f"main-today-{name}")

    await tab.open_account("MAIN01", account)
    await check(tab, f"main-360-{name}")

    await tab.page.goto(server.base + f"/#/visit/{visit['id']}")
    box = tab.by("visit-contact").first
    await expect(box).to_be_visible(timeout=WAIT)
    size = await box.evaluate("(el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; }")
    assert min(size) >= 44, size
    await check(tab, f"main-visit-{name}")

    await tab.by("tab-approvals").click()
    await expect(tab.by("approval-item")).to_have_count(1, timeout=WAIT)
    await check(tab, f"main-approvals-{name}")
    await tab.by("tab-coverage").click()
    await expect(tab.page.locator(".leaflet-container")).to_be_visible(timeout=WAIT)
    await check(tab, f"main-coverage-{name}")

    # Text follows the reader's size: at 125 % the tab labels grow with it.
    before = float(await tab.by("tab-accounts").evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)"))
    await tab.page.evaluate("document.documentElement.style.fontSize = '125%'")
    after = float(await tab.by("tab-accounts").evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)"))
    assert after == pytest.approx(before * 1.25, rel=0.02), (before, after)
