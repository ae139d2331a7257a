"""The PWA in a real browser against a real server: offline edits, reload offline, sync, rejections, zh-CN.

Each test builds its org with tests.factories, then starts ``fieldcrm serve`` on a free port of
127.0.0.1 with the test's DATABASE_URL, and drives Debian's Chromium through Playwright. The
browser is shared by the module; every person gets a fresh context (its own IndexedDB, service
worker and cookies). Skipped (a failure under FIELDCRM_TEST_STRICT=1) without Chromium or a built PWA.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.factories import PASSWORD, Org, Person, make_account, make_contact

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
DIST = Path(__file__).resolve().parents[2] / "pwa" / "dist"
BIN = Path(sys.executable).parent
SCREENSHOT = Path("/tmp/fieldcrm-accounts-360.png")  # noqa: S108 - the path the issue names
WAIT = 15_000  # ms: the longest any single expectation may wait
HAN = re.compile(r"[\u4e00-\u9fff]")


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if not (DIST / "index.html").is_file():
        return f"the PWA is not built ({DIST / 'index.html'} is missing: cd pwa && npm ci && npm run build)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A ``fieldcrm serve`` process on 127.0.0.1 (its output goes to a temporary file)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="fieldcrm-serve-", suffix=".log", delete=False)  # noqa: SIM115
        env = {**os.environ, "FIELDCRM_PWA_DIST": str(DIST)}
        self.proc = subprocess.Popen(
            [str(BIN / "fieldcrm"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base, timeout=2) as client:
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.proc.poll() is None, f"the server exited:\n{self.output()}"
                assert time.monotonic() < deadline, f"the server did not start within {timeout} s:\n{self.output()}"
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)

    def api(self, person: Person) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, headers=person.headers, timeout=10)


@pytest.fixture
def server_factory() -> Iterator[Any]:
    """Start the server once the test has put its data in the database."""
    started: list[Server] = []

    def start() -> Server:
        server = Server()
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield b
        finally:
            await b.close()


class Tab:
    """One browser context with one page, and the steps the tests repeat."""

    def __init__(self, context: Any, page: Any, base: str) -> None:
        self.context = context
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def by(self, testid: str) -> Any:
        return self.page.get_by_test_id(testid)

    async def sign_in(self, person: Person) -> None:
        await self.page.goto(self.base + "/")
        await self.by("login-username").fill(person.username)
        await self.by("login-password").fill(PASSWORD)
        await self.by("login-submit").click()
        await expect(self.by("accounts-screen")).to_be_visible(timeout=WAIT)

    async def synced(self) -> None:
        """Wait until a sync has finished and nothing waits."""
        await expect(self.by("last-sync")).to_have_attribute("data-at", re.compile(r"\d{4}-"), timeout=WAIT)
        await expect(self.by("status-bar")).to_have_attribute("data-syncing", "false", timeout=WAIT)
        await expect(self.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)

    async def service_worker_in_control(self) -> None:
        await self.page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=WAIT)

    async def open_account(self, code: str, account_id: uuid.UUID) -> None:
        await self.page.goto(self.base + "/#/")
        await self.by("account-search").fill(code)
        # The search is debounced and kept across screens: wait for it to narrow the list.
        await expect(self.by("account-item")).to_have_count(1, timeout=WAIT)
        await self.page.locator(f'[data-testid="account-item"][data-code="{code}"]').click()
        await expect(self.by("account-screen")).to_have_attribute("data-id", str(account_id), timeout=WAIT)

    async def client_id(self) -> str:
        return str(
            await self.page.evaluate(
                """() => new Promise((resolve, reject) => {
                    const open = indexedDB.open('fieldcrm');
                    open.onerror = () => reject(open.error);
                    open.onsuccess = () => {
                        const get = open.result.transaction('meta').objectStore('meta').get('clientId');
                        get.onsuccess = () => { resolve(get.result); open.result.close(); };
                        get.onerror = () => reject(get.error);
                    };
                })"""
            )
        )


@pytest.fixture
async def tabs(browser: Any) -> AsyncIterator[Any]:
    """Open a fresh context (own storage, own service worker) per call; all closed at the end."""
    opened: list[Tab] = []

    async def open_tab(base: str, **options: Any) -> Tab:
        options.setdefault("viewport", {"width": 360, "height": 740})
        options.setdefault("locale", "en-US")
        context = await browser.new_context(**options)
        context.set_default_timeout(WAIT)
        tab = Tab(context, await context.new_page(), base)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        await tab.context.close()
    errors = [e for tab in opened for e in tab.errors]
    assert not errors, f"uncaught errors in the page: {errors}"


async def test_offline_changes_survive_a_reload_sync_once_and_reach_the_manager(
    org: Org, server_factory: Any, tabs: Any
) -> None:
    steel = await make_account(org, code="JNS001", name="济南钢铁集团", industry="钢铁", notes="")
    await make_contact(org, steel, name="张伟", title="采购经理")
    await make_account(org, code="JNS002", name="山东高速信息", industry="交通")
    await make_account(org, code="JNS003", name="齐鲁银行济南分行", industry="金融")
    await make_account(org, owner="rep_b", code="OTHER1", name="Team B's account")
    server = server_factory()

    a = await tabs(server.base)
    await a.sign_in(org.rep_a)
    await expect(a.by("account-count")).to_have_attribute("data-count", "3", timeout=WAIT)
    await expect(a.by("account-item")).to_have_count(3)
    await expect(a.page.locator('[data-testid="account-item"][data-code="OTHER1"]')).to_have_count(0)
    await a.synced()

    # The account list on a 360 px phone: a screenshot, and no sideways scrolling.
    await a.page.screenshot(path=str(SCREENSHOT))
    assert await a.page.evaluate("document.documentElement.scrollWidth") <= 360

    await a.service_worker_in_control()
    await a.open_account("JNS001", steel)
    await expect(a.by("contact-item")).to_have_count(1)

    # Offline: add a contact and edit the account's notes.
    await a.context.set_offline(True)
    await expect(a.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    await a.by("contact-add-link").click()
    await expect(a.by("contact-form")).to_be_visible()
    await a.by("contact-name").fill("李娜")
    await a.by("contact-title").fill("信息中心主任")
    await a.by("contact-phones").fill("+86 531 8888 6666")
    await a.by("contact-email").fill("lina@example.cn")
    await a.by("contact-save").click()
    await expect(a.by("account-screen")).to_have_attribute("data-id", str(steel))
    new_contact = a.page.locator('[data-testid="contact-item"]', has_text="李娜")
    await expect(new_contact).to_have_count(1)
    await expect(new_contact.get_by_test_id("contact-pending")).to_be_visible()
    contact_id = uuid.UUID(await new_contact.get_attribute("data-id"))

    notes = "离线时记录：12月前续约专线 offline"
    await a.by("acct-edit-link").click()
    await a.by("acct-notes").fill(notes)
    await a.by("acct-save").click()
    await expect(a.by("acct-notes-value")).to_have_text(notes)
    await expect(a.by("acct-pending")).to_be_visible()
    await expect(a.by("pending-count")).to_have_attribute("data-count", "2")
    await expect(a.by("pending-count")).to_contain_text("2")

    # Reload with no network: the shell comes from the service worker, the data from IndexedDB.
    await a.page.reload()
    await expect(a.by("account-screen")).to_have_attribute("data-id", str(steel), timeout=WAIT)
    await expect(a.by("acct-notes-value")).to_have_text(notes)
    await expect(
        a.page.locator('[data-testid="contact-item"]', has_text="李娜").get_by_test_id("contact-pending")
    ).to_be_visible()
    await expect(a.by("pending-count")).to_have_attribute("data-count", "2")
    await expect(a.by("net-status")).to_have_attribute("data-state", "offline")
    async with server.api(org.rep_a) as api:
        before = (await api.get(f"/api/accounts/{steel}/contacts")).json()["items"]
    assert [c["name"] for c in before] == ["张伟"]

    # Back online: the queue goes out and empties.
    await a.context.set_offline(False)
    await expect(a.by("net-status")).to_have_attribute("data-state", "online", timeout=WAIT)
    await a.by("sync-now").click(timeout=WAIT)  # the online event syncs too; the button must not hurt
    await expect(a.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    await expect(a.by("status-bar")).to_have_attribute("data-syncing", "false", timeout=WAIT)
    await expect(a.by("contact-pending")).to_have_count(0, timeout=WAIT)
    await expect(a.by("acct-pending")).to_have_count(0, timeout=WAIT)
    await expect(a.by("rejected-link")).to_have_attribute("data-count", "0")

    async with server.api(org.rep_a) as api:
        contacts = (await api.get(f"/api/accounts/{steel}/contacts")).json()["items"]
        account = (await api.get(f"/api/accounts/{steel}")).json()
    made = [c for c in contacts if c["name"] == "李娜"]
    assert len(made) == 1, contacts
    assert len(contacts) == 2
    assert made[0]["id"] == str(contact_id)  # the id the device made
    assert made[0]["title"] == "信息中心主任"
    assert made[0]["phones"] == ["+86 531 8888 6666"]
    assert made[0]["email"] == "lina@example.cn"
    assert account["notes"] == notes
    assert account["industry"] == "钢铁"  # only the edited field changed

    # The manager's device pulls both changes.
    b = await tabs(server.base)
    await b.sign_in(org.manager_a)
    await expect(b.by("account-count")).to_have_attribute("data-count", "3", timeout=WAIT)
    await b.open_account("JNS001", steel)
    await expect(b.by("acct-notes-value")).to_have_text(notes)
    await expect(b.page.locator(f'[data-testid="contact-item"][data-id="{contact_id}"]')).to_contain_text("李娜")
    await expect(b.by("contact-item")).to_have_count(2)


async def test_a_change_the_server_rejects_is_listed_with_its_reason(org: Org, server_factory: Any, tabs: Any) -> None:
    kept = await make_account(org, code="KEEP01", name="保留的客户")
    moved = await make_account(org, code="MOVE01", name="将被转走的客户", industry="制造")
    server = server_factory()

    a = await tabs(server.base)
    await a.sign_in(org.rep_a)
    await expect(a.by("account-count")).to_have_attribute("data-count", "2", timeout=WAIT)
    await a.synced()
    await a.open_account("MOVE01", moved)

    await a.context.set_offline(True)
    await expect(a.by("net-status")).to_have_attribute("data-state", "offline", timeout=WAIT)
    await a.by("acct-edit-link").click()
    await a.by("acct-industry").fill("化工")
    await a.by("acct-save").click()
    await expect(a.by("acct-industry-value")).to_have_text("化工")
    await expect(a.by("pending-count")).to_have_attribute("data-count", "1")

    # Meanwhile the manager gives the account to another rep: rep_a's edit is now out of scope.
    async with server.api(org.manager_a) as api:
        r = await api.patch(f"/api/accounts/{moved}", json={"ownerId": str(org.rep_a2.id)})
        assert r.status_code == 200, r.text

    await a.context.set_offline(False)
    await expect(a.by("pending-count")).to_have_attribute("data-count", "0", timeout=WAIT)
    await expect(a.by("rejected-link")).to_have_attribute("data-count", "1", timeout=WAIT)
    await expect(a.by("rejected-link")).to_contain_text("1")
    # The pull took the account off the device; the other one stays.
    await expect(a.by("acct-not-found")).to_be_visible(timeout=WAIT)

    async with server.api(org.rep_a) as api:
        server_rejections = (await api.get("/api/sync/rejections", params={"clientId": await a.client_id()})).json()
    assert [x["code"] for x in server_rejections["items"]] == ["not_found"], server_rejections
    message = server_rejections["items"][0]["message"]

    await a.by("rejected-link").click()
    await expect(a.by("rejected-screen")).to_be_visible()
    item = a.by("rejected-list").get_by_test_id("rejected-item")
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-code", "not_found")
    await expect(item).to_have_attribute("data-mutation", "account.update")
    await expect(item.get_by_test_id("rejected-reason")).to_have_text(f"Not found, or no longer yours: {message}")

    await a.page.goto(server.base + "/#/")
    await a.by("account-search").fill("")  # the list keeps the last search
    await expect(a.by("account-count")).to_have_attribute("data-count", "1", timeout=WAIT)
    await expect(a.page.locator(f'[data-testid="account-item"][data-id="{kept}"]')).to_have_count(1)
    async with server.api(org.hq) as api:
        account = (await api.get(f"/api/accounts/{moved}")).json()
    assert account["industry"] == "制造"
    assert account["ownerId"] == str(org.rep_a2.id)


async def test_the_zh_cn_interface_renders_and_settings_switch_it_to_english(
    org: Org, server_factory: Any, tabs: Any
) -> None:
    await make_account(org, code="ZH0001", name="青岛啤酒")
    server = server_factory()

    tab = await tabs(server.base, locale="zh-CN")
    page = tab.page
    await page.goto(server.base + "/")
    await expect(tab.by("login-submit")).to_have_text("登录", timeout=WAIT)
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert HAN.search(await tab.by("login-screen").inner_text())

    await tab.by("login-username").fill(org.rep_a.username)
    await tab.by("login-password").fill(PASSWORD)
    await tab.by("login-submit").click()
    await expect(tab.by("account-count")).to_have_attribute("data-count", "1", timeout=WAIT)
    await tab.synced()
    await expect(tab.by("pending-count")).to_have_text(re.compile(r"^待同步"))
    assert HAN.search(await tab.by("sync-now").inner_text())

    await tab.by("nav-settings").click()
    await expect(tab.by("settings-screen")).to_be_visible()
    await expect(tab.by("screen-title")).to_have_text(HAN)
    await tab.by("lang-switch").select_option("en")
    await expect(tab.by("pending-count")).to_have_text("Waiting: 0", timeout=WAIT)
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(tab.by("screen-title")).to_have_text("Settings")
    assert not HAN.search(await tab.by("sync-now").inner_text())

    # The choice is kept on the device, over the browser's language.
    await page.reload()
    await expect(tab.by("status-bar")).to_be_visible(timeout=WAIT)
    await expect(tab.by("pending-count")).to_have_text("Waiting: 0", timeout=WAIT)
    await expect(tab.by("lang-switch")).to_have_value("en")
