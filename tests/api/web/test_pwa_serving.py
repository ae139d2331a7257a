"""The API serves the built PWA with headers that keep it safe and updatable."""

from pathlib import Path

import pytest

from fieldcrm.settings import get_settings


@pytest.fixture
def dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>fieldcrm</title><script type=module src=/assets/app-1a2b.js></script>"
    )
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('app')")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (tmp_path / "manifest.webmanifest").write_text('{"name": "fieldcrm"}')
    settings = get_settings()
    monkeypatch.setattr(type(settings), "pwa_dist", property(lambda self: str(tmp_path)))
    return tmp_path


async def test_shell_has_a_strict_csp_and_is_revalidated(client, dist):
    r = await client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    for rule in (
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "worker-src 'self'",
    ):
        assert rule in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"]
    assert r.headers["cache-control"] == "no-cache"


async def test_hashed_assets_are_immutable_and_the_worker_is_not(client, dist):
    asset = await client.get("/assets/app-1a2b.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    worker = await client.get("/sw.js")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")


async def test_in_app_routes_open_the_shell_but_unknown_files_are_404(client, dist):
    deep = await client.get("/accounts/123")
    assert deep.status_code == 200
    assert "<title>fieldcrm</title>" in deep.text
    assert (await client.get("/assets/missing.js")).status_code == 404
    for sneaky in ("/%2e%2e/%2e%2e/etc/passwd", "/assets/%2e%2e/%2e%2e/%2e%2e/etc/hostname.txt"):
        r = await client.get(sneaky)
        assert "root:" not in r.text
        assert r.status_code in (200, 404)  # the shell or nothing: never a file outside the build
    assert (await client.get("/api/nothing-here", headers={})).status_code in (401, 404)
