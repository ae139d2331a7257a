"""A local Web Push service: a real HTTP server on 127.0.0.1 that checks and decrypts what it is sent.

It plays the push service a browser's subscription points at (FCM, Mozilla's, Apple's) so tests
and benchmarks can send real notifications here. For each POST to a subscription's endpoint it:

- checks the VAPID Authorization header (RFC 8292, ``vapid t=<jwt>, k=<key>``): the ES256
  signature verifies with k, aud is this service's origin, exp lies in the future and within
  24 hours, sub is a mailto: or https: contact (401 otherwise), and k is the application server
  key the subscription was made with (403 otherwise);
- refuses a missing, malformed or 0 TTL (400), a bad Urgency or Topic (400), a content encoding
  other than aes128gcm (415) and a body over 4,096 bytes (413);
- decrypts the aes128gcm body (RFC 8291) with the subscription's private key and auth secret
  (400 if it cannot);
- then answers as the subscription's mode says (201 by default; 404, 410, 429 with Retry-After,
  500, 403 ... on request) and records the request: a `Delivery` for 201, a `Refusal` otherwise.

In tests, use the fixtures (``from tests.push.push_service import push_service, local_push_service``
in a conftest.py)::

    async def test_x(push_service: LocalPushService) -> None:
        keys = VapidKeys.generate()
        sub = push_service.subscribe(keys.application_server_key)
        ... send to Subscription.from_json(sub.to_json()) ...
        [delivery] = push_service.deliveries_to(sub)
        assert delivery.json() == {...}

In another process (benchmarks): ``python -m tests.push.push_service [--port N]`` prints
``LISTENING http://127.0.0.1:<port>`` and serves a control API: ``POST /_control/subscriptions``
``{"applicationServerKey": ..., "status": 201, "retryAfter": null}`` answers the browser-shaped
subscription (plus ``id``), ``GET /_control/stats`` the counts of deliveries and refusals.
"""

import argparse
import asyncio
import base64
import binascii
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import http_ece
import pytest
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_BODY = 4096
MAX_EXP_AHEAD_S = 24 * 3600
URGENCIES = {"very-low", "low", "normal", "high"}
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SUB = re.compile(r"(mailto:\S+@\S+|https://\S+)")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass
class LocalSubscription:
    """A browser's side of one subscription: its own key pair and auth secret, and how the service answers.

    Attributes:
        id: the last path segment of the endpoint.
        endpoint: the URL to POST messages to.
        private_key: the browser's P-256 private key (decrypts messages).
        auth_secret: the browser's 16-byte authentication secret.
        application_server_key: the VAPID public key (base64url) the subscription was made with.
        status: the answer to each valid message: 201 delivers it; anything else refuses it.
        retry_after: the Retry-After header sent with a refusal, if any (seconds or an HTTP date).
    """

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str
    status: int = 201
    retry_after: str | None = None
    delay_s: float = 0.0  # answer this much later (the message is recorded first): a slow push service

    @property
    def p256dh(self) -> str:
        """The browser's public key, base64url, as ``PushSubscription.toJSON().keys.p256dh``."""
        return _b64url(_point(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        """The auth secret, base64url, as ``PushSubscription.toJSON().keys.auth``."""
        return _b64url(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page (and the page gives the API)."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Delivery:
    """A message the service accepted (201), decrypted.

    Attributes:
        subscription: to whom.
        headers: the request headers, names in lower case.
        plaintext: the decrypted payload.
        ttl: the TTL header.
        urgency: the Urgency header, None when absent (RFC 8030: "normal").
        topic: the Topic header, None when absent.
        claims: the verified VAPID JWT claims (aud, exp, sub).
        token: the VAPID JWT itself (the same one while the sender reuses it).
        received_at: when it arrived (UTC).
    """

    subscription: LocalSubscription
    headers: dict[str, str]
    plaintext: bytes
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict[str, Any]
    token: str
    received_at: datetime

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.plaintext)


@dataclass(frozen=True)
class Refusal:
    """A request the service answered with anything but 201, and why."""

    subscription: LocalSubscription | None
    status: int
    reason: str
    headers: dict[str, str]
    received_at: datetime


class _Refuse(Exception):
    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def verify_vapid(authorization: str | None, *, audience: str, now: float) -> tuple[str, bytes, dict[str, Any]]:
    """Check a VAPID Authorization header; return (jwt, raw public key k, claims) or raise with 401."""
    if not authorization:
        raise _Refuse(401, "missing Authorization header (VAPID)")
    scheme, _, params = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise _Refuse(401, f"Authorization scheme must be 'vapid', got {scheme!r}")
    values: dict[str, str] = {}
    for part in params.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            values[name.strip().lower()] = value.strip()
    token, k = values.get("t"), values.get("k")
    if not token or not k:
        raise _Refuse(401, "VAPID Authorization needs t=<jwt> and k=<public key>")
    try:
        raw_key = _unb64url(k)
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_key)
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(_unb64url(header_b64))
        claims = json.loads(_unb64url(claims_b64))
        signature = _unb64url(signature_b64)
    except (ValueError, binascii.Error) as exc:
        raise _Refuse(401, f"malformed VAPID token or key: {exc}") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise _Refuse(401, "VAPID token must be signed with ES256")
    if len(signature) != 64:
        raise _Refuse(401, "VAPID signature must be 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise _Refuse(401, "VAPID signature does not verify with k") from exc
    if not isinstance(claims, dict):
        raise _Refuse(401, "VAPID claims must be a JSON object")
    if claims.get("aud") != audience:
        raise _Refuse(401, f"VAPID aud is {claims.get('aud')!r}, this push service is {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise _Refuse(401, "VAPID exp must be an integer")
    if exp <= now:
        raise _Refuse(401, f"VAPID token expired {now - exp:.0f} s ago")
    if exp > now + MAX_EXP_AHEAD_S:
        raise _Refuse(401, f"VAPID exp is {exp - now:.0f} s ahead, more than 24 hours")
    if not isinstance(claims.get("sub"), str) or not _SUB.fullmatch(claims["sub"]):
        raise _Refuse(401, "VAPID sub must be a mailto: or https: contact")
    return token, raw_key, claims


class LocalPushService:
    """The local push service: an ASGI app served by uvicorn on a thread (or as a process's main)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it each kept-alive response waits 40 ms for a delayed ACK (Nagle).
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.origin = f"http://{host}:{self.port}"
        self.subscriptions: dict[str, LocalSubscription] = {}
        self.deliveries: list[Delivery] = []
        self.refusals: list[Refusal] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- what tests use ---------------------------------------------------------------------

    def subscribe(
        self, application_server_key: str, *, status: int = 201, retry_after: str | None = None
    ) -> LocalSubscription:
        """A new subscription, as a browser makes with ``pushManager.subscribe({applicationServerKey})``.

        Args:
            application_server_key: the VAPID public key (base64url) messages must be signed with.
            status: how the service answers valid messages (201 delivers; e.g. 404, 410, 429, 500, 403).
            retry_after: the Retry-After header sent along with a refusal.
        """
        sub_id = uuid.uuid4().hex
        subscription = LocalSubscription(
            id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=uuid.uuid4().bytes,
            application_server_key=application_server_key,
            status=status,
            retry_after=retry_after,
        )
        self.subscriptions[sub_id] = subscription
        return subscription

    def add(self, subscription: LocalSubscription) -> LocalSubscription:
        """Serve a subscription made elsewhere (e.g. with fixed keys); its endpoint must point here."""
        self.subscriptions[subscription.id] = subscription
        return subscription

    def set_reply(self, subscription: LocalSubscription, status: int, retry_after: str | None = None) -> None:
        """Change how the service answers a subscription from now on."""
        subscription.status = status
        subscription.retry_after = retry_after

    def deliveries_to(self, subscription: LocalSubscription) -> list[Delivery]:
        """The messages delivered to one subscription, oldest first."""
        return [d for d in self.deliveries if d.subscription.id == subscription.id]

    def refusals_to(self, subscription: LocalSubscription) -> list[Refusal]:
        """The requests to one subscription that were refused, oldest first."""
        return [r for r in self.refusals if r.subscription is not None and r.subscription.id == subscription.id]

    def reset(self) -> None:
        """Forget every subscription and record."""
        self.subscriptions.clear()
        self.deliveries.clear()
        self.refusals.clear()

    # -- serving ----------------------------------------------------------------------------

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(self, lifespan="off", log_level="warning", access_log=False, backlog=2048)

    def start(self) -> "LocalPushService":
        """Serve on a background thread; return once it accepts connections."""
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="local-push-service", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local push service did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._sock.close()

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (the separate-process mode)."""
        uvicorn.Server(self._config()).run(sockets=[self._sock])

    def __enter__(self) -> "LocalPushService":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the ASGI app -----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith("/_control/"):
            status, answer = self._control(method, path, body)
            await _respond(send, status, json.dumps(answer).encode(), {"content-type": "application/json"})
            return
        status, reply_headers, text = self._push(method, path, headers, body)
        slow = self.subscriptions.get(path.removeprefix("/push/"))
        if slow is not None and slow.delay_s > 0:
            await asyncio.sleep(slow.delay_s)
        await _respond(send, status, text.encode(), reply_headers)

    def _push(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], str]:
        now = time.time()
        received_at = datetime.fromtimestamp(now, UTC)
        subscription = self.subscriptions.get(path.removeprefix("/push/")) if path.startswith("/push/") else None
        try:
            if method != "POST":
                raise _Refuse(405, "push messages are POSTed")
            if subscription is None:
                raise _Refuse(404, "no such subscription")
            delivery = self._check(subscription, headers, body, now, received_at)
            if subscription.status != 201:
                extra = {"retry-after": subscription.retry_after} if subscription.retry_after is not None else {}
                raise _Refuse(subscription.status, f"this subscription answers {subscription.status}", extra)
        except _Refuse as refusal:
            self.refusals.append(Refusal(subscription, refusal.status, refusal.reason, headers, received_at))
            return refusal.status, {"content-type": "text/plain", **refusal.headers}, refusal.reason
        self.deliveries.append(delivery)
        return 201, {"location": f"{self.origin}/message/{uuid.uuid4().hex}"}, ""

    def _check(
        self, subscription: LocalSubscription, headers: dict[str, str], body: bytes, now: float, received_at: datetime
    ) -> Delivery:
        token, raw_key, claims = verify_vapid(headers.get("authorization"), audience=self.origin, now=now)
        if raw_key != _unb64url(subscription.application_server_key):
            raise _Refuse(403, "VAPID key k is not the application server key this subscription was made with")
        ttl_text = headers.get("ttl")
        if ttl_text is None:
            raise _Refuse(400, "missing TTL header")
        if not ttl_text.strip().isdigit() or int(ttl_text) <= 0:
            raise _Refuse(400, f"TTL must be a positive number of seconds, got {ttl_text!r}")
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise _Refuse(400, f"bad Urgency {urgency!r}")
        topic = headers.get("topic")
        if topic is not None and not _TOPIC.fullmatch(topic):
            raise _Refuse(400, f"bad Topic {topic!r}: at most 32 base64url characters")
        if len(body) > MAX_BODY:
            raise _Refuse(413, f"body is {len(body)} bytes, more than {MAX_BODY}")
        if body and headers.get("content-encoding") != "aes128gcm":
            raise _Refuse(415, f"Content-Encoding must be aes128gcm, got {headers.get('content-encoding')!r}")
        try:
            plaintext = (
                http_ece.decrypt(
                    body,
                    private_key=subscription.private_key,
                    auth_secret=subscription.auth_secret,
                    version="aes128gcm",
                )
                if body
                else b""
            )
        except Exception as exc:  # http_ece raises ECEException, struct.error, ValueError ...
            raise _Refuse(400, f"cannot decrypt the body: {exc!r}") from exc
        return Delivery(
            subscription=subscription,
            headers=headers,
            plaintext=plaintext,
            ttl=int(ttl_text),
            urgency=urgency,
            topic=topic,
            claims=claims,
            token=token,
            received_at=received_at,
        )

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "POST" and path == "/_control/subscriptions":
            spec = json.loads(body)
            sub = self.subscribe(
                spec["applicationServerKey"], status=int(spec.get("status", 201)), retry_after=spec.get("retryAfter")
            )
            return 201, {"id": sub.id, **sub.to_json()}
        if method == "GET" and path == "/_control/stats":
            reasons = Counter(r.reason.split(":")[0] for r in self.refusals)
            return 200, {"delivered": len(self.deliveries), "refused": len(self.refusals), "reasons": dict(reasons)}
        if method == "POST" and path == "/_control/reset":
            self.reset()
            return 200, {}
        return 404, {"detail": "no such control endpoint"}


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="session")
def local_push_service() -> Iterator[LocalPushService]:
    """One local push service for the whole test session (see `push_service` for a clean one per test)."""
    with LocalPushService() as service:
        yield service


@pytest.fixture
def push_service(local_push_service: LocalPushService) -> LocalPushService:
    """The local push service, emptied of subscriptions and records for this test."""
    local_push_service.reset()
    return local_push_service


def main() -> None:
    """Serve in this process until interrupted (for benchmarks: the service's decryption costs its own CPU)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    service = LocalPushService(args.host, args.port)
    print(f"LISTENING {service.origin}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        service.serve_forever()


if __name__ == "__main__":
    main()
