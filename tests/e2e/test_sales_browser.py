"""Selling in a real browser against a real server: a quote built on the phone goes to the manager's inbox.

Uses the server, browser and tab fixtures of test_pwa_browser.py (``fieldcrm serve`` on 127.0.0.1
with the test's DATABASE_URL; Debian's Chromium through Playwright; skipped without Chromium or a
built PWA, a failure under FIELDCRM_TEST_STRICT=1).
"""

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e import test_pwa_browser as base
from tests.factories import Org, make_account
from tests.sales.helpers import act, product, quote

pytestmark = pytest.mark.browser

browser = base.browser
server_factory = base.server_factory
tabs = base.tabs
WAIT = base.WAIT


@pytest.fixture
async def phones(tabs: Any) -> Any:
    """Fresh contexts, with the Web Push prompt answered "Not now" whenever it floats over a step."""

    async def open_phone(base_url: str, **options: Any) -> Any:
        tab = await tabs(base_url, **options)

        async def not_now(prompt: Any) -> None:
            await prompt.get_by_test_id("push-later").click()

        await tab.page.add_locator_handler(tab.by("push-prompt"), not_now)
        return tab

    return open_phone


async def test_a_rep_submits_a_discounted_quote_the_manager_approves_it_from_the_inbox(
    client: httpx.AsyncClient, org: Org, server_factory: Any, phones: Any
) -> None:
    account = await make_account(org, "rep_a", code="SAL001", name="济南钢铁集团")
    # ¥1,000.00 a month, 5 % free: 12 % needs the manager (the quote-approval definition)
    line = await product(client, org, price=100_000, limit_bp=500, name="互联网专线 500M")
    server = server_factory()

    rep = await phones(server.base)
    await rep.sign_in(org.rep_a)
    await rep.synced()
    # From the account 360: a new quote for this customer.
    await rep.open_account("SAL001", account)
    await rep.by("acct-new-quote").click()
    await expect(rep.by("quote-screen")).to_be_visible(timeout=WAIT)
    quote_id = uuid.UUID(await rep.by("quote-screen").get_attribute("data-id"))
    await expect(rep.by("quote-account")).to_have_value(str(account))

    await rep.by("quote-add-product").select_option(line)
    await expect(rep.by("quote-line")).to_have_count(1)
    await rep.by("line-quantity").fill("3")
    await rep.by("line-discount").fill("12")
    # The device's preview, in integer cents: 3 × 1000.00 − 12 % = 2640.00
    await expect(rep.by("quote-total")).to_have_attribute("data-cents", "264000")
    await expect(rep.by("quote-list-total")).to_have_attribute("data-cents", "300000")
    await expect(rep.by("quote-discount")).to_have_attribute("data-bp", "1200")
    await expect(rep.by("line-beyond")).to_be_visible()
    await expect(rep.by("quote-needs-approval")).to_be_visible()

    await rep.by("quote-submit").click()
    await expect(rep.page).to_have_url(re.compile(rf"#/quotes/{quote_id}$"), timeout=WAIT)
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "submitted", timeout=WAIT)
    # The server's figures, as it computed them, and the waiting step in the history.
    await expect(rep.by("quote-server-total")).to_have_attribute("data-cents", "264000")
    await expect(rep.by("quote-number")).to_have_text(re.compile(r"^Q-\d{4}-\d{5}$"))
    await expect(rep.by("history-step")).to_have_attribute("data-status", "pending", timeout=WAIT)
    print_href = await rep.by("quote-print").get_attribute("href")
    assert print_href == f"/api/quotes/{quote_id}/print?lang=en"

    # The manager's phone: the inbox has it, with the discount and the total; approve in two taps.
    manager = await phones(server.base)
    await manager.sign_in(org.manager_a)
    await manager.page.goto(server.base + "/#/sales")
    await manager.by("hub-approvals").click()
    item = manager.page.locator(f'[data-testid="approval-item"][data-subject="{quote_id}"]')
    await expect(item).to_be_visible(timeout=WAIT)
    await expect(item.get_by_test_id("approval-discount")).to_have_text("12%")
    await expect(item.get_by_test_id("approval-total")).to_contain_text("2,640.00")
    await expect(item.get_by_test_id("approval-due")).not_to_have_text("—")
    await item.get_by_test_id("approval-chip").first.click()
    await expect(item.get_by_test_id("approval-comment")).to_have_value("Agreed")
    await item.get_by_test_id("approval-approve").click()
    await expect(item).to_have_count(0, timeout=WAIT)
    await expect(manager.by("approval-refused-item")).to_have_count(0)

    async with server.api(org.rep_a) as api:
        body = (await api.get(f"/api/quotes/{quote_id}")).json()
    assert body["state"] == "approved", body

    # The rep sees it approved, with the manager's decision and comment in the history.
    await rep.page.reload()
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "approved", timeout=WAIT)
    decision = rep.by("history-decision")
    await expect(decision).to_have_attribute("data-decision", "approve", timeout=WAIT)
    await expect(decision).to_contain_text("Agreed")
    # The round says when it ended (the decision), not when it was submitted.
    await expect(rep.by("history-when").first).to_contain_text("ended")
    await expect(rep.by("quote-send")).to_be_visible()

    # The account 360's timeline names the quote's kind in words.
    await rep.open_account("SAL001", account)
    item = rep.page.locator('[data-testid="timeline-item"][data-kind="quote"]')
    await expect(item.first).to_contain_text(re.compile(r"^Quote Q-\d{4}-\d{5}"), timeout=WAIT)


async def test_decisions_made_offline_are_sent_later_and_a_stale_one_shows_why(
    client: httpx.AsyncClient, org: Org, server_factory: Any, phones: Any
) -> None:
    account = await make_account(org, "rep_a", code="SAL002")
    line = await product(client, org, price=50_000, limit_bp=0)
    ids = []
    for _ in range(2):
        q = await quote(client, org.rep_a, account, [{"productId": line, "quantity": 1, "discountBp": 1000}])
        assert (await act(client, org.rep_a, q["id"], "submit")).status_code == 200
        ids.append(q["id"])
    keep, changed = ids
    server = server_factory()

    manager = await phones(server.base)
    await manager.sign_in(org.manager_a)
    await manager.service_worker_in_control()
    await manager.page.goto(server.base + "/#/approvals")
    await expect(manager.by("approval-item")).to_have_count(2, timeout=WAIT)
    await expect(manager.by("approval-version").first).to_have_text(re.compile(r"^v\d+$"))

    # On the train: both decided with no network; they wait, each with the version decided on.
    await manager.context.set_offline(True)
    await expect(manager.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    for quote_id in (keep, changed):
        item = manager.page.locator(f'[data-testid="approval-item"][data-subject="{quote_id}"]')
        await item.get_by_test_id("approval-approve").click()
        await expect(item.get_by_test_id("approval-queued")).to_have_attribute("data-decision", "approve")
    await expect(manager.by("pending-count")).to_have_attribute("data-count", "2")

    # Meanwhile the rep withdraws one to change it: the manager's decision on it no longer applies.
    assert (await act(client, org.rep_a, changed, "withdraw")).status_code == 200

    await manager.context.set_offline(False)
    await expect(manager.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    refused = manager.by("approval-refused-item")
    await expect(refused).to_have_count(1, timeout=WAIT)
    await expect(refused.get_by_test_id("approval-refused-reason")).not_to_be_empty()
    await expect(manager.by("approval-item")).to_have_count(0, timeout=WAIT)
    async with server.api(org.rep_a) as api:
        states = [(await api.get(f"/api/quotes/{i}")).json()["state"] for i in (keep, changed)]
    assert states == ["approved", "draft"]
    await refused.get_by_test_id("approval-refused-dismiss").click()
    await expect(refused).to_have_count(0)


async def test_an_offline_stage_change_that_meets_a_newer_one_lets_the_rep_pick(
    client: httpx.AsyncClient, org: Org, server_factory: Any, phones: Any
) -> None:
    account = await make_account(org, "rep_a", code="SAL003")
    r = await client.post(
        "/api/opportunities",
        json={"accountId": str(account), "name": "5G 专网", "stage": "proposal", "amountCents": 50_000_000},
        headers=org.rep_a.headers,
    )
    assert r.status_code == 201, r.text
    opp = r.json()
    server = server_factory()

    rep = await phones(server.base)
    await rep.sign_in(org.rep_a)
    await rep.service_worker_in_control()
    await rep.page.goto(server.base + "/#/pipeline")
    await expect(rep.by("opp-item")).to_have_count(1, timeout=WAIT)
    await expect(rep.by("pipe-open-count")).to_have_attribute("data-count", "1", timeout=WAIT)
    await rep.by("opp-item").get_by_role("link").click()
    await expect(rep.by("opp-stage-value")).to_have_attribute("data-stage", "proposal", timeout=WAIT)

    await rep.context.set_offline(True)
    await expect(rep.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    await rep.by("opp-stage").select_option("negotiation")
    await rep.by("opp-amount").fill("600000")
    await rep.by("opp-save").click()
    await expect(rep.by("opp-pending")).to_be_visible()
    await expect(rep.by("opp-stage-value")).to_have_attribute("data-stage", "negotiation")

    # The manager closes it as won meanwhile.
    r = await client.patch(
        f"/api/opportunities/{opp['id']}",
        json={"stage": "won", "baseVersion": opp["version"]},
        headers=org.manager_a.headers,
    )
    assert r.status_code == 200, r.text

    await rep.context.set_offline(False)
    conflict = rep.by("opp-conflict")
    await expect(conflict).to_be_visible(timeout=WAIT)
    row = conflict.locator('[data-testid="conflict-row"][data-field="stage"]')
    await expect(row.get_by_test_id("conflict-yours")).to_contain_text("Negotiation")
    await expect(row.get_by_test_id("conflict-server")).to_contain_text("Won")
    # The amount (not moved on the server) was merged; the stage kept the server's value.
    await expect(rep.by("opp-stage-value")).to_have_attribute("data-stage", "won", timeout=WAIT)
    await expect(rep.by("opp-amount-value")).to_have_attribute("data-cents", "60000000")

    await conflict.get_by_test_id("conflict-keep-mine").click()
    await expect(conflict).to_have_count(0)
    await expect(rep.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    async with server.api(org.rep_a) as api:
        body = (await api.get(f"/api/opportunities/{opp['id']}")).json()
    assert (body["stage"], body["amountCents"]) == ("negotiation", 60_000_000)


async def test_a_draft_edited_offline_after_it_was_submitted_becomes_a_new_revision(
    client: httpx.AsyncClient, org: Org, server_factory: Any, phones: Any
) -> None:
    account = await make_account(org, "rep_a", code="SAL004")
    line = await product(client, org, price=20_000, limit_bp=1000)
    draft = await quote(client, org.rep_a, account, [{"productId": line, "quantity": 2, "discountBp": 0}])
    server = server_factory()

    rep = await phones(server.base)
    await rep.sign_in(org.rep_a)
    await rep.service_worker_in_control()
    await rep.page.goto(server.base + f"/#/quotes/{draft['id']}")
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "draft", timeout=WAIT)
    await expect(rep.by("quote-server-total")).to_have_attribute("data-cents", "40000", timeout=WAIT)

    await rep.context.set_offline(True)
    await expect(rep.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    await rep.by("line-quantity").fill("5")
    await expect(rep.by("quote-total")).to_have_attribute("data-cents", "100000")
    await rep.by("quote-save").click()
    await expect(rep.by("quote-pending")).to_be_visible()
    # Submitting offline keeps the draft and queues the submit behind it (nothing is lost).
    await rep.by("quote-submit").click()
    await expect(rep.by("toast")).to_contain_text("submitted for approval as soon as there is a network")
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "submitted")
    await expect(rep.by("quote-submit-pending")).to_be_visible()

    # Submitted from elsewhere (the desktop) meanwhile, as it was (no discount: approved at once).
    assert (await act(client, org.rep_a, draft["id"], "submit")).status_code == 200

    await rep.context.set_offline(False)
    # The edit became a new revision; the queued submit met a quote no longer a draft and says why.
    notice = rep.page.locator('[data-testid="quote-notice"][data-code="revised"]')
    await expect(notice).to_contain_text("approved", timeout=WAIT)
    refused = rep.page.locator('[data-testid="quote-notice"][data-code="conflict"]')
    await expect(refused).to_contain_text("was not submitted", timeout=WAIT)
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "approved", timeout=WAIT)
    await notice.get_by_test_id("quote-revision-link").click()
    await expect(rep.by("quote-state")).to_have_attribute("data-state", "draft", timeout=WAIT)
    await expect(rep.by("quote-number")).to_have_text(f"{draft['number']} r2", timeout=WAIT)
    await expect(rep.by("quote-server-total")).to_have_attribute("data-cents", "100000", timeout=WAIT)


async def test_a_rep_opens_a_complaint_and_works_its_steps(org: Org, server_factory: Any, phones: Any) -> None:
    account = await make_account(org, "rep_a", code="SAL005", name="山东高速")
    server = server_factory()

    rep = await phones(server.base)
    await rep.sign_in(org.rep_a)
    await rep.synced()
    await rep.open_account("SAL005", account)
    await rep.by("acct-new-case").click()
    await expect(rep.by("case-account")).to_have_value(str(account), timeout=WAIT)
    await rep.by("case-type-select").select_option("complaint")
    await rep.by("case-priority-select").select_option("high")
    await rep.by("case-save").click()
    await expect(rep.by("case-title-error")).to_be_visible()
    await rep.by("case-title").fill("专线晚高峰丢包")
    await rep.by("case-description").fill("19:00-22:00 丢包 5%")
    await rep.by("case-save").click()

    await expect(rep.by("case-screen")).to_be_visible(timeout=WAIT)
    await expect(rep.by("case-state")).to_have_attribute("data-state", "open", timeout=WAIT)
    step = rep.page.locator('[data-testid="case-step"][data-status="pending"]')
    await expect(step).to_have_count(1, timeout=WAIT)
    first = await step.get_attribute("data-id")
    await step.get_by_test_id("case-step-done").click()
    # Done on the server; the next step waits now, and the case is under way.
    await expect(rep.by("case-state")).to_have_attribute("data-state", "in_progress", timeout=WAIT)
    await expect(
        rep.page.locator(f'[data-testid="case-step"][data-status="pending"]:not([data-id="{first}"])')
    ).to_have_count(1, timeout=WAIT)
    await expect(rep.by("case-step-refused")).to_have_count(0)

    await rep.page.goto(server.base + "/#/cases")
    await expect(rep.by("case-item")).to_have_count(1, timeout=WAIT)
    await expect(rep.by("case-item")).to_have_attribute("data-state", "in_progress")
