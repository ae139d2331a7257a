"""The work screens in a real browser against a real server: the rep's Home and tasks, the Team, the dashboard.

A rep opens Home, adds a task and completes it with the network off, and both arrive once. A
manager reads the Team screen and sets next month's targets (a bad figure is marked on its field).
HQ reads the dashboard in English and zh-CN, as charts and as tables, and drills down one level.
Every screen state is checked by axe-core (no serious or critical violation), for layout a person
would notice, and photographed into artefacts/screenshots/ at 360 px and 1280 px.
"""

import datetime
import re
import uuid
import zoneinfo
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from fieldcrm.analytics import targets
from fieldcrm.analytics.schemas import TargetPut
from fieldcrm.tasks.schemas import TaskCreate
from fieldcrm.tasks.services import create_task
from tests.e2e import test_pwa_browser as base
from tests.e2e.axe import audit, layout_problems, shot
from tests.factories import Org, make_account

pytestmark = pytest.mark.browser

browser = base.browser
server_factory = base.server_factory
tabs = base.tabs
WAIT = base.WAIT
TZ = "Asia/Shanghai"
DESK = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 740}


def business_today() -> datetime.date:
    return datetime.datetime.now(zoneinfo.ZoneInfo(TZ)).date()


@pytest.fixture
async def people(tabs: Any) -> Any:
    """Fresh contexts in the business time zone, with the Web Push prompt answered "Not now"."""

    async def open_tab(base_url: str, **options: Any) -> Any:
        options.setdefault("timezone_id", TZ)
        tab = await tabs(base_url, **options)

        async def not_now(prompt: Any) -> None:
            await prompt.get_by_test_id("push-later").click()

        await tab.page.add_locator_handler(tab.by("push-prompt"), not_now)
        return tab

    return open_tab


async def check(tab: Any, name: str) -> None:
    """axe, layout and a screenshot of the screen as it is now."""
    await audit(tab.page, name)
    problems = await layout_problems(tab.page)
    await shot(tab.page, name)
    assert not problems, f"{name}: {problems}"


async def seed(org: Org) -> uuid.UUID:
    """An account, a task due today, one overdue and the rep's targets for this month."""
    today = business_today()
    steel = await make_account(org, code="WK0001", name="济南钢铁集团", city="济南")
    rep = await org.actor("rep_a")
    await create_task(
        actor=rep, data=TaskCreate(title="电话回访 济南钢铁", due_date=today, due_time="15:30", account_id=steel)
    )
    await create_task(
        actor=rep, data=TaskCreate(title="Send the signed contract", due_date=today - datetime.timedelta(days=2))
    )
    manager = await org.actor("manager_a")
    await targets.put_target(
        actor=manager,
        level="rep",
        subject_id=org.rep_a.id,
        month=today.strftime("%Y-%m"),
        data=TargetPut(visits_a=10, new_opportunities=4, won_revenue_cents=50_000_000, tasks_on_time=8),
    )
    return steel


async def test_the_reps_home_and_a_task_added_and_completed_offline_arrive_once(
    org: Org, server_factory: Any, people: Any
) -> None:
    steel = await seed(org)
    server = server_factory()
    rep = await people(server.base)
    await rep.sign_in(org.rep_a)
    await rep.synced()
    await rep.service_worker_in_control()

    # Home is the rep's first tab: targets, what is due (today's and the overdue one), today's plan.
    tabs = rep.by("tabbar").locator("a")
    await expect(tabs.first).to_have_attribute("data-testid", "tab-home")
    await tabs.first.click()
    await expect(rep.by("home")).to_be_visible(timeout=WAIT)
    await expect(rep.by("home-bars").locator("li")).to_have_count(4, timeout=WAIT)
    await expect(rep.by("home-due").get_by_test_id("task-item")).to_have_count(2)
    await expect(rep.by("task-overdue")).to_have_count(1)
    # This week's open tasks: today's, and the overdue one when two days ago is still this week (Monday first).
    open_this_week = 2 if business_today().weekday() >= 2 else 1
    await expect(rep.by("home-week")).to_contain_text(f"Tasks: {open_this_week} open")
    await expect(rep.by("home-neglected").get_by_text("济南钢铁集团")).to_be_visible()  # never visited
    await check(rep, "work-home-360-en")

    # With the network off: add a task, see it at once, complete it with an outcome.
    await rep.context.set_offline(True)
    await expect(rep.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    await rep.page.reload()
    await expect(rep.by("home")).to_be_visible(timeout=WAIT)
    await expect(rep.by("as-of")).to_be_visible()  # the targets from the copy kept on the device
    await rep.by("home-add-task").click()
    await expect(rep.by("task-form")).to_be_visible(timeout=WAIT)
    await rep.by("task-save").click()
    await expect(rep.by("task-title-error")).to_be_visible()  # a title is required
    await rep.by("task-title").fill("送样品给 济南钢铁")
    await rep.by("task-account").select_option(label="济南钢铁集团")
    await rep.by("task-kind").select_option("visit")
    await rep.by("task-priority").select_option("high")
    await check(rep, "work-task-form-360-en")
    await rep.by("task-save").click()
    await expect(rep.by("task-list")).to_be_visible(timeout=WAIT)
    item = rep.page.locator('[data-testid="task-item"]', has_text="送样品给 济南钢铁")
    await expect(item).to_have_count(1)
    await expect(item.get_by_test_id("task-pending")).to_be_visible()
    await check(rep, "work-tasks-offline-360-en")
    await item.get_by_test_id("task-complete").click()
    await item.get_by_test_id("task-outcome").fill("客户已收到样品")
    await item.get_by_test_id("task-complete-confirm").click()
    await rep.by("filter-done").click()
    done = rep.page.locator('[data-testid="task-item"][data-state="done"]', has_text="送样品给 济南钢铁")
    await expect(done).to_have_count(1, timeout=WAIT)
    await expect(rep.by("pending-count")).to_have_attribute("data-count", "2")

    # Back online: both changes go, once; the server has one task, done, with the outcome.
    await rep.context.set_offline(False)
    await rep.synced()
    async with server.api(org.rep_a) as api:
        response = await api.get("/api/tasks", params={"limit": 100})
        assert response.status_code == 200, response.text
        mine = [t for t in response.json()["items"] if t["title"] == "送样品给 济南钢铁"]
    assert len(mine) == 1, mine
    assert mine[0]["state"] == "done"
    assert mine[0]["outcome"] == "客户已收到样品"
    assert mine[0]["kind"] == "visit"
    assert mine[0]["priority"] == "high"
    await expect(done.get_by_test_id("task-pending")).to_have_count(0, timeout=WAIT)

    # Skipping needs a reason.
    await rep.by("filter-overdue").click()
    late = rep.page.locator('[data-testid="task-item"]', has_text="Send the signed contract")
    await late.get_by_test_id("task-skip").click()
    await late.get_by_test_id("task-skip-confirm").click()
    await expect(late.get_by_text("Say why before skipping.")).to_be_visible()

    # The week calendar, on a phone and at a desk.
    await rep.page.goto(server.base + "/#/calendar")
    await expect(rep.by("week-day")).to_have_count(7, timeout=WAIT)
    await expect(rep.by("cal-item").filter(has_text="电话回访 济南钢铁")).to_have_count(1, timeout=WAIT)
    await check(rep, "work-calendar-360-en")

    # The personal calendar feed: its address is shown once, and it answers with iCalendar until turned off.
    await rep.by("feed-create").click()
    url = await rep.by("feed-url").input_value(timeout=WAIT)
    assert url.endswith(".ics"), url
    async with httpx.AsyncClient(timeout=10) as anyone:
        assert (await anyone.get(url)).text.startswith("BEGIN:VCALENDAR")
        await rep.by("feed-revoke").click()
        await expect(rep.by("feed-create")).to_be_visible(timeout=WAIT)
        assert (await anyone.get(url)).status_code == 404

    # Quick add from an account's 360 picks that account.
    await rep.page.goto(server.base + f"/#/a/{steel}")
    await rep.by("acct-task-link").click()
    await expect(rep.by("task-account")).to_have_value(str(steel), timeout=WAIT)
    await rep.page.goto(server.base + "/#/calendar")
    await expect(rep.by("week-day")).to_have_count(7, timeout=WAIT)
    await rep.page.set_viewport_size(DESK)
    await check(rep, "work-calendar-1280-en")
    await rep.page.goto(server.base + "/#/home")
    await expect(rep.by("home-bars")).to_be_visible(timeout=WAIT)
    await check(rep, "work-home-1280-en")


async def test_the_managers_team_screen_and_next_months_targets(org: Org, server_factory: Any, people: Any) -> None:
    await seed(org)
    server = server_factory()
    manager = await people(server.base, viewport=DESK)
    await manager.sign_in(org.manager_a)
    await manager.synced()
    await expect(manager.by("tab-team")).to_be_visible()
    await manager.by("tab-team").click()
    await expect(manager.by("leader-row").first).to_be_visible(timeout=WAIT)
    await expect(manager.by("team-overdue-item").filter(has_text="Send the signed contract")).to_have_count(1)
    rep_row = manager.page.locator(f'[data-testid="leader-row"][data-key="{org.rep_a.id}"]')
    await rep_row.get_by_role("button").click()
    await expect(manager.by("team-rep-bars").locator("li")).to_have_count(4, timeout=WAIT)
    await check(manager, "work-team-1280-en")

    await manager.by("target-rep").select_option(str(org.rep_a.id))
    await manager.by("target-visitsA").fill("twelve")
    await manager.by("target-save").click()
    await expect(manager.by("target-visitsA-error")).to_be_visible()
    await check(manager, "work-team-targets-error-1280-en")
    await manager.by("target-visitsA").fill("12")
    await manager.by("target-wonRevenueCents").fill("600000")
    await manager.by("target-save").click()
    await expect(manager.by("target-status")).to_have_text("Targets saved.", timeout=WAIT)
    next_month = (business_today().replace(day=1) + datetime.timedelta(days=32)).strftime("%Y-%m")
    async with server.api(org.manager_a) as api:
        response = await api.get("/api/targets", params={"month": next_month, "subjectId": str(org.rep_a.id)})
        assert response.status_code == 200, response.text
        values = response.json()["items"][0]["values"]
    assert values["visitsA"] == 12
    assert values["wonRevenueCents"] == 60_000_000

    await manager.page.set_viewport_size(PHONE)
    await manager.page.reload()
    await expect(manager.by("leader-row").first).to_be_visible(timeout=WAIT)
    await check(manager, "work-team-360-en")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_hq_dashboard_charts_tables_and_drill_down(
    client: httpx.AsyncClient, org: Org, server_factory: Any, people: Any, locale: str
) -> None:
    await seed(org)
    server = server_factory()
    tag = "zh" if locale == "zh-CN" else "en"
    hq = await people(server.base, viewport=DESK, locale=locale)
    await hq.sign_in(org.hq)
    await expect(hq.by("tab-dashboard")).to_be_visible()
    await hq.by("tab-dashboard").click()
    await expect(hq.by("dashboard")).to_have_attribute("data-level", "hq", timeout=WAIT)
    await expect(hq.by("kpi-tiles")).to_be_visible(timeout=WAIT)
    for key in ("won", "visits", "opps"):
        await expect(hq.by(f"chart-{key}").locator("canvas")).to_have_count(1, timeout=WAIT)
    await expect(hq.by("dash-board").get_by_test_id("leader-row")).to_have_count(2, timeout=WAIT)  # two provinces
    await expect(hq.by("export-xlsx")).to_have_attribute("href", re.compile("format=xlsx"))
    await check(hq, f"work-dashboard-1280-{tag}")

    # Every chart has a table view with its twelve months.
    await hq.by("toggle-won").click()
    await expect(hq.by("table-won").locator("tbody tr")).to_have_count(12)
    await check(hq, f"work-dashboard-table-1280-{tag}")

    # The export link answers with a spreadsheet.
    link = await hq.by("export-csv").get_attribute("href")
    async with server.api(org.hq) as api:
        response = await api.get(link)
    assert response.status_code == 200, response.text
    assert "text/csv" in response.headers["content-type"]

    # Drill down: HQ -> a province.
    await hq.page.locator('[data-testid="dash-board"] [data-testid="leader-row"]').first.get_by_role("button").click()
    await expect(hq.by("dashboard")).to_have_attribute("data-level", "province", timeout=WAIT)
    await expect(hq.by("dash-name")).to_be_visible(timeout=WAIT)

    await hq.page.set_viewport_size(PHONE)
    await hq.page.goto(server.base + "/#/dashboard")
    await expect(hq.by("chart-won").locator("canvas")).to_have_count(1, timeout=WAIT)
    await check(hq, f"work-dashboard-360-{tag}")
    await hq.by("chart-won").scroll_into_view_if_needed()
    await check(hq, f"work-dashboard-chart-360-{tag}")
