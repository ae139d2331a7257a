"""Serving the built PWA: the shell at /, hashed assets cached for good, the service worker never cached.

HTML gets a strict Content-Security-Policy (no inline script, no plugins, no framing), and every
file gets nosniff and a Referrer-Policy. Paths without a file extension fall back to index.html,
so deep links open the app; unknown files are 404.
"""

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.response import File

from fieldcrm.settings import get_settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; worker-src 'self'; manifest-src 'self'"
)
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
HTML_HEADERS = {**COMMON, "Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}
IMMUTABLE = "public, max-age=31536000, immutable"


def _dist() -> Path:
    return Path(get_settings().pwa_dist)


def _headers_for(relative: str) -> dict[str, str]:
    if relative.endswith(".html"):
        return HTML_HEADERS
    if relative.startswith("assets/"):  # content-hashed names: a new build gets new names
        return {**COMMON, "Cache-Control": IMMUTABLE}
    # sw.js, the manifest, icons: must be revalidated so updates are seen.
    extra = {"Service-Worker-Allowed": "/"} if relative in {"sw.js", "service-worker.js"} else {}
    return {**COMMON, "Cache-Control": "no-cache", **extra}


def _file(path: Path, relative: str) -> File:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".webmanifest":
        media_type = "application/manifest+json"
    return File(
        path=path,
        filename=path.name,
        media_type=media_type,
        headers=_headers_for(relative),
        content_disposition_type="inline",
    )


def _missing_build() -> Response[str]:
    body = (
        "<!doctype html><title>fieldcrm</title><p>The app is not built. Run <code>make pwa</code> "
        "(or <code>make demo</code>) and reload. The API is at <a href=/schema>/schema</a>.</p>"
    )
    return Response(body, media_type="text/html", headers=HTML_HEADERS, status_code=503)


def _shell() -> Any:
    index = _dist() / "index.html"
    return _file(index, "index.html") if index.is_file() else _missing_build()


@get("/", include_in_schema=False, sync_to_thread=False)
def app_shell() -> Any:
    """The PWA's shell."""
    return _shell()


@get("/{file_path:path}", include_in_schema=False, sync_to_thread=False)
def app_file(file_path: str) -> Any:
    """A file of the built PWA, or the shell for an in-app route."""
    dist = _dist().resolve()
    relative = file_path.lstrip("/")
    if relative.startswith(("api/", "schema")):
        raise NotFoundException(detail="no such path")
    candidate = (dist / relative).resolve()
    if candidate.is_relative_to(dist) and candidate.is_file():
        return _file(candidate, str(candidate.relative_to(dist)))
    if "." not in relative.rsplit("/", 1)[-1]:  # an in-app route such as /accounts/123
        return _shell()
    raise NotFoundException(detail="no such file")
