"""The request middleware: a request id on every request, one access log line, and the request metrics.

It wraps Litestar's whole ASGI handler (outside routing and the exception handlers), so it sees every
answer, 404s and problem bodies included: the answer carries ``X-Request-ID``, a problem body gets a
``requestId`` member (a person reporting an error can quote it), and the access line names the route
template (not the raw path), the user and the duration.
"""

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

import msgspec

from fieldcrm.ops import metrics
from fieldcrm.ops.logs import (
    ACCESS_LOGGER,
    REQUEST_ID_HEADER,
    choose_request_id,
    reset_request_id,
    set_request_id,
)

if TYPE_CHECKING:
    from litestar import Litestar

# ASGI as plain mappings: this middleware only reads and copies them.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger(ACCESS_LOGGER)
PROBLEM = b"application/problem+json"
_MAX_PROBLEM_BYTES = 64 * 1024  # problem bodies are small; a larger one passes through untouched


def _header(headers: Any, name: bytes) -> bytes | None:
    for key, value in headers or ():
        if key.lower() == name:
            return bytes(value)
    return None


def _with_request_id(body: bytes, request_id: str) -> bytes:
    try:
        problem = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    if not isinstance(problem, dict) or "requestId" in problem:
        return body
    problem["requestId"] = request_id
    return msgspec.json.encode(problem)


def _user_id(scope: Scope) -> str | None:
    user = scope.get("user")
    value = getattr(user, "id", None)
    return str(value) if value is not None else None


class RequestContextMiddleware:
    """ASGI middleware: request id in and out, problem bodies tagged, one access line and metrics per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection (HTTP only; websockets and lifespan pass straight through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope.get("headers"), REQUEST_ID_HEADER.encode())
        request_id = choose_request_id(incoming.decode("latin-1") if incoming else None)
        scope.setdefault("state", {})["request_id"] = request_id
        token = set_request_id(request_id)
        started = time.perf_counter()
        answer = _Answer(send, request_id, tee=scope.get("path") == metrics.SYNC_PUSH_ROUTE)
        try:
            await self.app(scope, receive, answer.send)
        finally:
            seconds = time.perf_counter() - started
            route = str(scope.get("path_template") or "")
            method = str(scope.get("method", ""))
            metrics.observe_request(method=method, route=route, status=answer.status, seconds=seconds)
            if answer.tee and route == metrics.SYNC_PUSH_ROUTE:
                metrics.observe_sync_push_answer(answer.status, b"".join(answer.teed), encoding=answer.encoding)
            access_log.info(
                "%s %s %s",
                method,
                route or scope.get("path", ""),
                answer.status,
                extra={
                    "method": method,
                    "route": route or None,
                    "path": scope.get("path", ""),
                    "status": answer.status,
                    "durationMs": round(seconds * 1000, 2),
                    "userId": _user_id(scope),
                    "requestId": request_id,
                },
            )
            reset_request_id(token)


class _Answer:
    """Wraps ``send``: adds the request-id header, rewrites problem bodies, remembers the status."""

    def __init__(self, send: Send, request_id: str, *, tee: bool) -> None:
        self._send = send
        self.request_id = request_id
        self.status = 500  # an app that never answers is an error
        self.tee = tee
        self.teed: list[bytes] = []
        self.encoding = ""  # Content-Encoding of the answer (compressed bodies are read back for metrics)
        self._held: Message | None = None  # a problem's start message, sent once its body is complete
        self._body: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != REQUEST_ID_HEADER.encode()]
            headers.append((REQUEST_ID_HEADER.encode(), self.request_id.encode()))
            message = {**message, "headers": headers}
            content_type = _header(headers, b"content-type") or b""
            self.encoding = (_header(headers, b"content-encoding") or b"").decode("latin-1").strip().lower()
            if content_type.startswith(PROBLEM) and not self.encoding:  # a compressed problem passes as it is
                self._held = message
                return
            await self._send(message)
            return
        if message["type"] == "http.response.body":
            if self.tee:
                self.teed.append(bytes(message.get("body", b"")))
            if self._held is not None:
                await self._problem_body(message)
                return
        await self._send(message)

    async def _problem_body(self, message: Message) -> None:
        assert self._held is not None  # noqa: S101 - only called while a start message is held
        self._body.append(bytes(message.get("body", b"")))
        more = bool(message.get("more_body", False))
        if more and sum(len(b) for b in self._body) <= _MAX_PROBLEM_BYTES:
            return
        start, body, self._held, self._body = self._held, b"".join(self._body), None, []
        if not more:  # the whole problem is here: tag it and say its new length
            body = _with_request_id(body, self.request_id)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            start = {**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body, "more_body": more})


def install(app: "Litestar") -> None:
    """Wrap ``app``'s whole ASGI handler (routing and exception handling inside) in the request middleware."""
    app.asgi_handler = cast("Any", RequestContextMiddleware(cast("ASGIApp", app.asgi_handler)))
