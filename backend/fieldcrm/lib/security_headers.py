"""Security headers on every HTTP response, 404s and errors included.

Each is set only where the response has not set its own (the PWA's shell carries its own
Content-Security-Policy, a photo its own sandbox):

- ``X-Content-Type-Options: nosniff``: a body is only ever what its Content-Type says.
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page of ours inside someone else's frame.
- ``Referrer-Policy: no-referrer``: URLs (ids, tokens of calendar feeds) never leak to other sites.
- ``Content-Security-Policy``: HTML the server writes (the quote print page) runs no script and loads
  nothing from elsewhere; every other answer (JSON, files) may load nothing and runs sandboxed.
  The API explorer under /schema loads its own scripts, so it gets only ``frame-ancestors 'none'``; the
  PWA's files keep their own (a policy sent with sw.js would bind the service worker itself).
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar import Litestar

# Plain ASGI shapes: this wraps Litestar's own handler from the outside.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
EXPLORER_CSP = "frame-ancestors 'none'"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _csp_for(path: str, content_type: str) -> str | None:
    if path.startswith("/schema"):
        return EXPLORER_CSP
    if not path.startswith(("/api/", "/health", "/metrics")):
        # The PWA's own files: its HTML sets its policy, and a policy on sw.js would bind the service worker.
        return None
    return PAGE_CSP if content_type.startswith("text/html") else DATA_CSP


class SecurityHeadersMiddleware:
    """ASGI middleware that adds the headers above to each ``http.response.start``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers as the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(cast("Any", message))
                for name, value in ALWAYS.items():
                    if name not in headers:
                        headers[name] = value
                csp = _csp_for(path, headers.get("Content-Type", ""))
                if csp is not None and "Content-Security-Policy" not in headers:
                    headers["Content-Security-Policy"] = csp
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: "Litestar") -> None:
    """Wrap ``app``'s whole ASGI handler (routing and exception handling inside) in the middleware."""
    app.asgi_handler = cast("Any", SecurityHeadersMiddleware(cast("ASGIApp", app.asgi_handler)))
