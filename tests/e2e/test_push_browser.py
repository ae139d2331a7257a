"""Web Push in a real browser: the prompt, a registered device, a push into the real service worker, a tap.

Chromium here cannot reach a real push service, so the device is registered directly (a local push
service's subscription, through the page's own session) and the push is delivered into the service
worker through CDP (``ServiceWorker.deliverPushMessage``) with the payload the delivery worker makes
for the real outbox row of a submitted quote. A test cannot tap a notification: the service worker's
click path is called through its test door (``self.fieldcrmPush.click``), the same code the
``notificationclick`` listener runs. Same skip rules and server as tests/e2e/test_pwa_browser.py.
"""

import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from fieldcrm.notifications.messages import render
from fieldcrm.notifications.tables import Notification
from fieldcrm_push import VapidKeys
from tests.e2e import test_pwa_browser as pwa
from tests.e2e.test_pwa_browser import WAIT, browser, server_factory, tabs
from tests.factories import Org, make_account
from tests.push.push_service import LocalPushService, local_push_service, push_service
from tests.sales.helpers import act, product, quote

__all__ = ["browser", "local_push_service", "push_service", "server_factory", "tabs"]

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def push_server_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> VapidKeys:
    """The server the tests start has a VAPID key and accepts the local push service's endpoints."""
    keys = VapidKeys.generate()
    keys.save(tmp_path / "vapid.pem")
    monkeypatch.setenv("FIELDCRM_VAPID_PRIVATE_KEY_PATH", str(tmp_path / "vapid.pem"))
    monkeypatch.setenv("FIELDCRM_PUSH_ENDPOINT_HOSTS", "127.0.0.1")
    if os.environ.get("FIELDCRM_TEST_PWA_DIST"):  # a build elsewhere (so a test run never races a rebuild)
        monkeypatch.setattr(pwa, "DIST", Path(os.environ["FIELDCRM_TEST_PWA_DIST"]))
    return keys


async def _submitted_quote(client: httpx.AsyncClient, org: Org, discount_bp: int = 1200) -> str:
    account = await make_account(org, "rep_a")
    item = await product(client, org, price=100_000, limit_bp=500)
    body = await quote(client, org.rep_a, account, [{"productId": item, "quantity": 1, "discountBp": discount_bp}])
    r = await act(client, org.rep_a, body["id"], "submit")
    assert r.status_code == 200, r.text
    return str(body["id"])


async def _payload(user_id: uuid.UUID, quote_id: str) -> dict[str, Any]:
    """What the delivery worker would push for the quote's approval request (the same function)."""
    row = (
        await Notification.select()
        .where(
            Notification.user == user_id,
            Notification.kind == "approval.requested",
            Notification.url.like(f"%{quote_id}"),
        )
        .first()
    )
    assert row is not None, "submitting the quote wrote no approval request to the outbox"
    params = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    return render(
        notification_id=row["id"], kind=row["kind"], params=params, url=row["url"], topic=row["topic"], locale="zh-CN"
    )


class PushTab:
    """A signed-in tab, with CDP on its service worker."""

    def __init__(self, tab: Any, base: str) -> None:
        self.tab = tab
        self.base = base
        self.registration_id: str | None = None
        self.cdp: Any = None

    async def start(self) -> None:
        self.cdp = await self.tab.context.new_cdp_session(self.tab.page)

        def seen(event: dict[str, Any]) -> None:
            for registration in event.get("registrations", []):
                if registration["scopeURL"].startswith(self.base) and not registration.get("isDeleted"):
                    self.registration_id = registration["registrationId"]

        self.cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
        await self.cdp.send("ServiceWorker.enable")
        await self.tab.page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=WAIT)
        await self.tab.page.wait_for_timeout(200)  # the registration event arrives right after enable
        assert self.registration_id, "CDP reported no service worker registration for the app"

    def worker(self) -> Any:
        workers = [w for w in self.tab.context.service_workers if w.url.startswith(self.base)]
        assert workers, "the app's service worker is not running"
        return workers[0]

    async def push(self, payload: dict[str, Any]) -> None:
        await self.cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": self.base + "/", "registrationId": self.registration_id, "data": json.dumps(payload)},
        )

    async def notifications(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.worker().evaluate(
            """async () => (await self.registration.getNotifications()).map((n) => ({
                title: n.title, body: n.body, tag: n.tag, data: n.data,
                actions: (n.actions || []).map((a) => ({action: a.action, title: a.title})) }))"""
        )
        return result

    async def wait_for_notification(self, title: str) -> dict[str, Any]:
        for _ in range(100):
            for n in await self.notifications():
                if n["title"] == title:
                    return n
            await self.tab.page.wait_for_timeout(100)
        raise AssertionError(f"no notification {title!r}; shown: {await self.notifications()}")

    async def click(self, action: str, data: dict[str, Any]) -> str:
        return str(await self.worker().evaluate("([a, d]) => self.fieldcrmPush.click(a, d)", [action, data]))


async def test_the_prompt_explains_then_a_push_shows_and_a_tap_opens_the_quote(
    client: httpx.AsyncClient, org: Org, server_factory: Any, tabs: Any, push_service: LocalPushService
) -> None:
    quote_id = await _submitted_quote(client, org)
    payload = await _payload(org.manager_a.id, quote_id)
    server = server_factory()
    tab = await tabs(server.base)
    await tab.context.grant_permissions(["notifications"], origin=server.base)
    await tab.sign_in(org.manager_a)

    # After sign-in: an explanation and a button, not a bare permission dialog.
    await expect(tab.by("push-prompt")).to_be_visible(timeout=WAIT)
    await expect(tab.by("push-prompt")).to_contain_text("approv")
    await expect(tab.by("push-enable")).to_be_visible()
    await tab.by("push-later").click()
    await expect(tab.by("push-prompt")).to_have_count(0)

    # Register a device directly through the page's session (Chromium here has no push service).
    async with httpx.AsyncClient(base_url=server.base) as api:
        key = (await api.get("/api/push/public-key")).json()["publicKey"]
    device = push_service.subscribe(key)
    status = await tab.page.evaluate(
        """async (sub) => {
            const csrf = document.cookie.split('; ').find((c) => c.startsWith('fieldcrm_csrf='))?.split('=')[1];
            const r = await fetch('/api/push/subscriptions', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf || '')},
                body: JSON.stringify({...sub, userAgent: 'e2e Chromium'})});
            return r.status; }""",
        device.to_json(),
    )
    assert status == 201
    await tab.page.goto(server.base + "/#/notifications")
    await expect(tab.by("notifications-screen")).to_be_visible(timeout=WAIT)
    await expect(tab.by("push-device")).to_have_count(1)
    await expect(tab.by("push-device")).to_contain_text("e2e Chromium")
    await tab.page.goto(server.base + "/#/")

    # A push into the real service worker becomes a notification with Approve / Open.
    sw = PushTab(tab, server.base)
    await sw.start()
    await sw.push(payload)
    shown = await sw.wait_for_notification(payload["title"])
    assert shown["tag"] == payload["tag"] and shown["data"]["stepId"] == payload["stepId"]
    assert [a["action"] for a in shown["actions"]] == ["approve", "open"]

    # A tap on it opens the quote in the open window.
    assert await sw.click("", shown["data"]) == "focused"
    await expect(tab.page).to_have_url(re.compile(rf"#/quotes/{quote_id}$"), timeout=WAIT)


async def test_approve_from_the_notification_decides_online_and_later_when_offline(
    client: httpx.AsyncClient, org: Org, server_factory: Any, tabs: Any
) -> None:
    online_quote = await _submitted_quote(client, org)
    offline_quote = await _submitted_quote(client, org)
    online_payload = await _payload(org.manager_a.id, online_quote)
    offline_payload = await _payload(org.manager_a.id, offline_quote)
    server = server_factory()
    tab = await tabs(server.base)
    await tab.context.grant_permissions(["notifications"], origin=server.base)
    await tab.sign_in(org.manager_a)
    sw = PushTab(tab, server.base)
    await sw.start()

    async def state(quote_id: str) -> str:
        async with server.api(org.rep_a) as api:
            return str((await api.get(f"/api/quotes/{quote_id}")).json()["state"])

    await sw.push(online_payload)
    shown = await sw.wait_for_notification(online_payload["title"])
    assert await sw.click("approve", shown["data"]) == "done"
    assert await state(online_quote) == "approved"
    await sw.wait_for_notification(f"已批准：{online_payload['title']}")
    # the same tap again (a retry) answers the same, and decides nothing twice
    assert await sw.click("approve", shown["data"]) == "done"

    await sw.push(offline_payload)
    shown = await sw.wait_for_notification(offline_payload["title"])
    await tab.context.set_offline(True)
    assert await sw.click("approve", shown["data"]) == "offline"
    assert await state(offline_quote) == "submitted"
    await tab.context.set_offline(False)
    assert await sw.worker().evaluate("() => self.fieldcrmPush.flush()") == 1
    assert await state(offline_quote) == "approved"
