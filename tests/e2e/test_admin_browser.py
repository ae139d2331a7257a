"""HQ's and leaders' admin screens in a real browser against a real server, at a desk and on a phone.

Uses the server, browser and tab fixtures of test_pwa_browser.py. Every screen state visited is
checked by axe-core (tests/e2e/axe.py: no serious or critical violation), for layout a person would
notice (no sideways scrolling, no cut-off text or select boxes), and photographed into
artefacts/screenshots/.
"""

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e import test_pwa_browser as base
from tests.e2e.axe import audit, layout_problems, shot
from tests.factories import PASSWORD, Org, make_account
from tests.sales.helpers import product

pytestmark = pytest.mark.browser

browser = base.browser
server_factory = base.server_factory
tabs = base.tabs
WAIT = base.WAIT
DESK = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
async def people(tabs: Any) -> Any:
    """Fresh contexts with the Web Push prompt answered "Not now" whenever it shows."""

    async def open_tab(base_url: str, **options: Any) -> Any:
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


async def test_hq_administers_the_org_people_and_catalogue_at_a_desk(
    client: httpx.AsyncClient, org: Org, server_factory: Any, people: Any
) -> None:
    line = await product(client, org, price=100_000, limit_bp=500, name="互联网专线 500M")
    server = server_factory()
    hq = await people(server.base, viewport=DESK)
    await hq.sign_in(org.hq)

    # The index lists every admin screen HQ may use; each opens its screen, not the account list.
    await hq.page.goto(server.base + "/#/admin")
    await expect(hq.by("admin-index")).to_be_visible(timeout=WAIT)
    for key in ("org", "users", "catalogue", "workflow", "imports", "delegations", "projects"):
        await expect(hq.by(f"admin-link-{key}")).to_be_visible()
    await check(hq, "admin-index-1280-en")

    # Org tree: Team B moves under Wuhan; the screen says what moves with it first.
    await hq.by("admin-link-org").click()
    await expect(hq.by("org-screen")).to_be_visible(timeout=WAIT)
    await expect(hq.by("accounts-screen")).to_have_count(0)
    team_b = hq.page.locator(f'[data-testid="org-unit"][data-id="{org.units["team_b"]}"]')
    await team_b.click()
    await hq.by("org-move-to").select_option(str(org.units["wuhan"]))
    preview = hq.by("org-move-preview")
    moves = "Jinan Team B moves under 武汉 Wuhan, with everything in it (units: 1, people: 2)"
    await expect(preview).to_contain_text(moves)
    await check(hq, "org-move-1280-en")
    # Two columns at a desk: the tree on the left, the unit's actions on the right.
    tree, side = await hq.by("org-tree").bounding_box(), await hq.by("org-side").bounding_box()
    assert tree["x"] + tree["width"] <= side["x"], (tree, side)
    await hq.by("org-move-save").click()
    await expect(hq.by("org-message")).to_have_text("Jinan Team B is now under 武汉 Wuhan.", timeout=WAIT)
    async with server.api(org.hq) as api:
        unit = (await api.get(f"/api/org-units/{org.units['team_b']}")).json()
    assert unit["parentId"] == str(org.units["wuhan"])

    # Add a unit under Wuhan Team C's city, rename it, then deactivate it with its person moved first.
    await hq.page.locator(f'[data-testid="org-unit"][data-id="{org.units["wuhan"]}"]').click()
    await hq.by("org-add-name").fill("武汉 Team D")
    await hq.by("org-add-save").click()
    await expect(hq.by("org-message")).to_have_text("武汉 Team D added.", timeout=WAIT)
    await hq.by("org-rename-input").fill("Wuhan Team D")
    await hq.by("org-rename-save").click()
    await expect(hq.by("org-message")).to_have_text("Renamed to Wuhan Team D.", timeout=WAIT)
    async with server.api(org.hq) as api:
        units = (await api.get("/api/org-units", params={"limit": 100})).json()["items"]
        team_d = next(u for u in units if u["name"] == "Wuhan Team D")
        r = await api.post(
            "/api/users",
            json={
                "username": "rep_d",
                "displayName": "Rep D",
                "password": PASSWORD,
                "role": "rep",
                "orgUnitId": team_d["id"],
            },
        )
        assert r.status_code == 201, r.text
    await hq.page.reload()
    await hq.page.locator(f'[data-testid="org-unit"][data-id="{team_d["id"]}"]').click()
    await expect(hq.by("org-deactivate-people")).to_contain_text("Rep D")
    await hq.by("org-deactivate-people-to").select_option(str(org.units["team_c"]))
    await hq.by("org-deactivate").click()
    await expect(hq.by("org-message")).to_have_text("Wuhan Team D removed; 1 people moved.", timeout=WAIT)
    async with server.api(org.hq) as api:
        assert (await api.get(f"/api/org-units/{team_d['id']}")).status_code == 404
        moved = (await api.get("/api/users", params={"q": "rep_d"})).json()["items"][0]
    assert moved["orgUnitId"] == str(org.units["team_c"])

    # People: search, change a role and unit, set a password, deactivate.
    await hq.page.goto(server.base + "/#/users")
    await expect(hq.by("users-screen")).to_be_visible(timeout=WAIT)
    await hq.by("users-search").fill("rep_a2")
    await expect(hq.by("user-row")).to_have_count(1, timeout=WAIT)
    await hq.by("user-open").click()
    await hq.by("user-role").select_option("manager")
    await hq.by("user-unit").select_option(str(org.units["team_b"]))
    await hq.by("user-save").click()
    await expect(hq.by("user-row")).to_have_attribute("data-role", "manager", timeout=WAIT)
    await hq.by("user-new-password").fill("short")
    await hq.by("user-password-save").click()
    await expect(hq.by("users-message")).to_have_text("Password: at least 8 characters.")
    await hq.by("user-new-password").fill("a brand new password")
    await hq.by("user-password-save").click()
    await expect(hq.by("users-message")).to_contain_text("New password set", timeout=WAIT)
    await check(hq, "users-1280-en")
    async with httpx.AsyncClient(base_url=server.base) as anon:
        r = await anon.post("/api/auth/login", json={"username": "rep_a2", "password": "a brand new password"})
        assert r.status_code == 200, r.text
    await hq.by("user-deactivate").click()
    await expect(hq.by("user-state")).to_have_text("Deactivated", timeout=WAIT)
    async with server.api(org.hq) as api:
        user = (await api.get(f"/api/users/{org.rep_a2.id}")).json()
    assert (user["role"], user["orgUnitId"], user["isActive"]) == ("manager", str(org.units["team_b"]), False)

    # Add a person: the form says what is missing before sending.
    await hq.by("user-new").click()
    await hq.by("user-add-username").fill("rep_new")
    await hq.by("user-add-save").click()
    await expect(hq.by("users-message")).to_have_text("Name: required.")
    await hq.by("user-add-name").fill("新同事")
    await hq.by("user-add-password").fill(PASSWORD)
    await hq.by("user-add-unit").select_option(str(org.units["team_a"]))
    await hq.by("user-add-save").click()
    await expect(hq.by("users-message")).to_have_text("新同事 added.", timeout=WAIT)

    # Catalogue: list price and free-discount limit, edited in yuan and percent.
    await hq.page.goto(server.base + "/#/catalogue")
    row = hq.page.locator(f'[data-testid="product-row"][data-id="{line}"]')
    await expect(row.get_by_test_id("product-price")).to_contain_text("CN¥1,000.00", timeout=WAIT)
    await expect(row.get_by_test_id("product-limit")).to_have_text("5%")
    await row.get_by_test_id("product-open").click()
    await hq.by("product-price-input").fill("abc")
    await hq.by("product-limit-input").fill("150")
    await hq.by("product-save").click()
    await expect(hq.by("product-price-error")).to_contain_text("an amount in yuan")
    await expect(hq.by("product-limit-error")).to_contain_text("from 0 to 100")
    await check(hq, "catalogue-errors-1280-en")
    await hq.by("product-price-input").fill("1200.50")
    await hq.by("product-limit-input").fill("7.5")
    await hq.by("product-save").click()
    await expect(row).to_have_attribute("data-cents", "120050", timeout=WAIT)
    await expect(row).to_have_attribute("data-bp", "750")
    async with server.api(org.hq) as api:
        body = (await api.get(f"/api/products/{line}")).json()
    assert (body["listPriceCents"], body["maxDiscountBp"]) == (120_050, 750)


async def test_a_workflow_is_drawn_as_a_diagram_and_a_bad_edit_is_shown_on_its_step(
    org: Org, server_factory: Any, people: Any
) -> None:
    server = server_factory()
    hq = await people(server.base, viewport=DESK)
    await hq.sign_in(org.hq)
    await hq.page.goto(server.base + "/#/workflow")
    await expect(hq.page.locator('[data-testid="wf-row"][data-key="quote-approval"]')).to_be_visible(timeout=WAIT)
    await check(hq, "workflow-list-1280-en")
    await hq.page.locator('[data-testid="wf-row"][data-key="quote-approval"]').get_by_test_id("wf-open").click()
    await expect(hq.by("wf-definition")).to_have_attribute("data-version", "1", timeout=WAIT)

    # Four rules; the first approves at once; the last runs the manager, then director and HQ side by side.
    rules = hq.by("wf-rule")
    await expect(rules).to_have_count(4)
    await expect(rules.nth(0).get_by_test_id("wf-auto")).to_be_visible()
    last = rules.nth(3)
    await expect(last).to_contain_text("Otherwise")
    stages = last.get_by_test_id("wf-stage")
    await expect(stages).to_have_count(2)
    await expect(stages.nth(1)).to_have_attribute("data-steps", "2")
    manager = stages.nth(0).get_by_test_id("wf-step")
    await expect(manager.get_by_test_id("wf-step-deciders")).to_have_text("the owner’s manager")
    await expect(manager.get_by_test_id("wf-step-quorum")).to_have_text("any one")
    await expect(manager.get_by_test_id("wf-step-sla")).to_have_text("8 h")
    await expect(manager.get_by_test_id("wf-step-warn")).to_have_text("2 h before")
    # Stages in sequence left to right at a desk; the parallel pair stacked within its stage.
    first_box = await manager.bounding_box()
    second = stages.nth(1).get_by_test_id("wf-step")
    a, b = await second.nth(0).bounding_box(), await second.nth(1).bounding_box()
    assert first_box["x"] + first_box["width"] < a["x"], (first_box, a)
    assert abs(a["x"] - b["x"]) < 2 and a["y"] + a["height"] <= b["y"], (a, b)
    await check(hq, "workflow-diagram-1280-en")

    # A quorum of 0: the server's message appears on the manager step, wherever it is drawn.
    body = json.loads(await hq.by("wf-json").input_value())
    body["steps"]["manager"]["quorum"] = {"n": 0}
    await hq.by("wf-json").fill(json.dumps(body, indent=2))
    await hq.by("wf-save").click()
    wrong = hq.page.locator('[data-testid="wf-step"][data-name="manager"][aria-invalid="true"]')
    await expect(wrong.first).to_be_visible(timeout=WAIT)
    await expect(wrong.first.get_by_test_id("wf-step-error")).to_contain_text("quorum.n must be 1 or more")
    await expect(hq.page.locator('[data-testid="wf-step"][data-name="director"][aria-invalid="true"]')).to_have_count(0)
    await check(hq, "workflow-error-1280-en")

    # Broken JSON is caught on the device.
    await hq.by("wf-json").fill('{"key": ')
    await hq.by("wf-save").click()
    await expect(hq.by("wf-json-error")).to_contain_text("Not valid JSON")

    # A good edit: a new version, the diagram follows, the old version stays readable.
    body["steps"]["manager"]["quorum"] = "any"
    body["steps"]["manager"]["sla_hours"] = 10
    await hq.by("wf-json").fill(json.dumps(body, indent=2))
    await hq.by("wf-save").click()
    await expect(hq.by("wf-definition")).to_have_attribute("data-version", "2", timeout=WAIT)
    await expect(hq.page.locator('[data-testid="wf-step"][data-name="manager"]').first).to_contain_text("10 h")
    await hq.by("wf-version").select_option("1")
    await expect(hq.by("wf-definition")).to_have_attribute("data-version", "1", timeout=WAIT)
    await expect(hq.page.locator('[data-testid="wf-step"][data-name="manager"]').first).to_contain_text("8 h")

    # On a phone, in Chinese: the stages stack, nothing is cut off.
    phone = await people(server.base, viewport=PHONE, locale="zh-CN")
    await phone.page.goto(server.base + "/")
    await phone.by("login-username").fill(org.hq.username)
    await phone.by("login-password").fill(PASSWORD)
    await phone.by("login-submit").click()
    await expect(phone.by("accounts-screen")).to_be_visible(timeout=WAIT)
    await phone.page.goto(server.base + "/#/workflow/quote-approval")
    await expect(phone.by("wf-rule")).to_have_count(4, timeout=WAIT)
    await expect(phone.by("wf-rule").nth(3)).to_contain_text("其他情况")
    await check(phone, "workflow-diagram-360-zh")


async def test_an_import_shows_its_row_problems_then_applies_and_hq_sets_tiers(
    org: Org, server_factory: Any, people: Any
) -> None:
    await make_account(org, "rep_a", code="TIER01", name="青岛啤酒")
    server = server_factory()
    hq = await people(server.base, viewport=DESK, locale="zh-CN")
    await hq.page.goto(server.base + "/")
    await hq.by("login-username").fill(org.hq.username)
    await hq.by("login-password").fill(PASSWORD)
    await hq.by("login-submit").click()
    await expect(hq.by("accounts-screen")).to_be_visible(timeout=WAIT)
    await hq.page.goto(server.base + "/#/imports")
    await expect(hq.by("imp-screen")).to_be_visible(timeout=WAIT)
    await expect(hq.by("screen-title")).to_have_text("导入与分级")

    bad = (
        "客户编码,客户名称,行业,客户经理,城市,状态\n"
        "JN-01,济南钢铁集团,制造业,rep_a,济南,在网\n"
        "JN-02,齐鲁制药,医药,nobody_here,济南,在网\n"
    ).encode("gbk")
    await hq.by("imp-encoding").select_option("gbk")
    await hq.by("imp-file").set_input_files(files=[{"name": "客户.csv", "mimeType": "text/csv", "buffer": bad}])
    await hq.by("imp-dry-run").click()
    await expect(hq.by("imp-summary")).to_have_attribute("data-errors", re.compile(r"^[1-9]"), timeout=WAIT)
    await expect(hq.by("imp-summary")).to_have_attribute("data-applied", "false")
    error = hq.by("imp-error").first
    await expect(error).to_have_attribute("data-line", "3")
    await expect(error).to_contain_text("nobody_here")
    await expect(hq.by("imp-apply")).to_be_disabled()
    await check(hq, "imports-dry-run-1280-zh")

    good = bad.replace(b"nobody_here", b"rep_b")
    await hq.by("imp-file").set_input_files(files=[{"name": "客户.csv", "mimeType": "text/csv", "buffer": good}])
    await hq.by("imp-dry-run").click()
    await expect(hq.by("imp-summary")).to_have_attribute("data-errors", "0", timeout=WAIT)
    await expect(hq.by("imp-apply")).to_be_enabled()
    await hq.by("imp-apply").click()
    await expect(hq.by("imp-summary")).to_have_attribute("data-applied", "true", timeout=WAIT)
    async with server.api(org.hq) as api:
        found = (await api.get("/api/accounts", params={"q": "JN-0"})).json()["items"]
    assert {a["code"] for a in found} == {"JN-01", "JN-02"}

    await hq.by("seg-run").click()
    # The import segmented its accounts already: a second run changes nothing.
    seg = hq.by("seg-box")
    await expect(seg.get_by_test_id("seg-counts")).to_be_visible(timeout=WAIT)
    await expect(seg.get_by_test_id("seg-changed")).to_have_attribute("data-n", "0")

    # A tier override needs its reason, said before sending.
    await hq.by("tier-search").fill("TIER01")
    await hq.page.locator('[data-testid="tier-pick"][data-code="TIER01"]').click()
    await hq.by("tier-value").select_option("A")
    await hq.by("tier-save").click()
    await expect(hq.by("tier-reason-error")).to_have_text("原因：请说明为何调整等级。")
    await hq.by("tier-reason").fill("战略客户")
    await hq.by("tier-save").click()
    await expect(hq.by("imp-message")).to_have_text("青岛啤酒 现为 A 级。", timeout=WAIT)
    await check(hq, "imports-tier-1280-zh")


async def test_projects_are_searched_and_a_director_delegates_while_away(
    client: httpx.AsyncClient, org: Org, server_factory: Any, people: Any
) -> None:
    for owner, name, customer, start in (
        ("rep_a", "5G 专网一期", "济南钢铁集团", "2026-01-10"),
        ("rep_a2", "物联网卡", "山东高速", "2026-02-10"),
        ("rep_b", "云专线", "齐鲁制药", "2026-03-10"),
    ):
        account = await make_account(org, owner, name=customer)
        who = org.people[owner]
        r = await client.post(
            "/api/opportunities", json={"accountId": str(account), "name": name, "stage": "won"}, headers=who.headers
        )
        assert r.status_code == 201, r.text
        r = await client.post(
            "/api/projects", json={"opportunityId": r.json()["id"], "startDate": start}, headers=who.headers
        )
        assert r.status_code == 201, r.text
    server = server_factory()

    manager = await people(server.base, viewport=PHONE)
    await manager.sign_in(org.manager_a)
    await manager.page.goto(server.base + "/#/admin")
    await expect(manager.by("admin-link-delegations")).to_be_visible(timeout=WAIT)
    await expect(manager.by("admin-link-org")).to_have_count(0)
    await manager.page.goto(server.base + "/#/org")
    await expect(manager.by("admin-forbidden")).to_be_visible(timeout=WAIT)

    await manager.page.goto(server.base + "/#/projects")
    await expect(manager.by("proj-count")).to_have_attribute("data-count", "2", timeout=WAIT)
    await manager.by("proj-owner").select_option(str(org.rep_a2.id))
    await expect(manager.by("proj-count")).to_have_attribute("data-count", "1", timeout=WAIT)
    await expect(manager.by("proj-row")).to_contain_text("物联网卡")
    await manager.by("proj-owner").select_option("")
    # Wait for the unfiltered list first: else the previous filter's count of 1 would pass the next check.
    await expect(manager.by("proj-count")).to_have_attribute("data-count", "2", timeout=WAIT)
    await manager.by("proj-customer").fill("济南钢铁")
    await expect(manager.by("proj-row")).to_have_count(1, timeout=WAIT)
    await expect(manager.by("proj-count")).to_have_attribute("data-count", "1", timeout=WAIT)
    await manager.by("proj-open").filter(has_text="5G 专网一期").click()
    step = manager.by("proj-step").first
    await expect(step).to_contain_text("Demand confirmed")
    await expect(step).to_contain_text("due")
    await check(manager, "projects-360-en")

    # Out of office: the director names a manager of their province as deputy, then ends it.
    director = await people(server.base, viewport=PHONE)
    await director.sign_in(org.director)
    await director.page.goto(server.base + "/#/delegations")
    await expect(director.by("del-empty")).to_be_visible(timeout=WAIT)
    await director.by("del-deputy").select_option(str(org.manager_a.id))
    await director.by("del-save").click()
    await expect(director.by("del-row")).to_have_count(1, timeout=WAIT)
    await expect(director.by("del-row")).to_contain_text("Manager A")
    await check(director, "delegations-360-en")
    async with server.api(org.director) as api:
        items = (await api.get("/api/delegations")).json()["items"]
    assert [uuid.UUID(d["delegateId"]) for d in items] == [org.manager_a.id]
    await director.by("del-remove").click()
    await expect(director.by("del-empty")).to_be_visible(timeout=WAIT)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
async def test_every_admin_screen_reads_on_a_phone(
    client: httpx.AsyncClient, org: Org, server_factory: Any, people: Any, locale: str
) -> None:
    await product(client, org, price=100_000, limit_bp=500, name="互联网专线 500M")
    server = server_factory()
    hq = await people(server.base, viewport=PHONE, locale=locale)
    await hq.page.goto(server.base + "/")
    await hq.by("login-username").fill(org.hq.username)
    await hq.by("login-password").fill(PASSWORD)
    await hq.by("login-submit").click()
    await expect(hq.by("accounts-screen")).to_be_visible(timeout=WAIT)
    tag = "zh" if locale == "zh-CN" else "en"
    for route, testid in (
        ("admin", "admin-index"),
        ("org", "org-screen"),
        ("users", "users-screen"),
        ("catalogue", "cat-screen"),
        ("workflow", "wf-screen"),
        ("imports", "imp-screen"),
        ("delegations", "del-screen"),
        ("projects", "proj-screen"),
    ):
        await hq.page.goto(f"{server.base}/#/{route}")
        await expect(hq.by(testid)).to_be_visible(timeout=WAIT)
        await check(hq, f"{route}-360-{tag}")
