"""Send one notification: encrypt (RFC 8291), sign (VAPID, RFC 8292), POST (RFC 8030), classify the answer."""

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self, cast

import aiohttp
from py_vapid import Vapid02, VapidException
from pywebpush import WebPusher

from fieldcrm_push.keys import VapidKeys
from fieldcrm_push.message import Message, Subscription
from fieldcrm_push.outcome import Misconfigured, Outcome, RetryLater, backoff, classify

# RFC 8292 §2: a push service may reject a token whose exp is more than 24 hours ahead.
MAX_TOKEN_LIFETIME_S = 24 * 3600
_SUBJECT = re.compile(r"(mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?)")


@dataclass(frozen=True, slots=True)
class VapidToken:
    """A signed VAPID token for one push service (audience), reused until `refresh_at`.

    Attributes:
        audience: the push service's origin (scheme://host[:port]).
        authorization: the whole Authorization header value, ``vapid t=<jwt>,k=<public key>``.
        expires_at: the token's exp claim (epoch seconds).
        refresh_at: when the sender signs a new one (well before `expires_at`).
    """

    audience: str
    authorization: str
    expires_at: int
    refresh_at: float


class PushSender:
    """Sends Web Push notifications over one pooled HTTP client.

    Encryption goes through pywebpush (aes128gcm), signing through py_vapid; the VAPID token is
    signed once per push service and reused until well before it expires, since signing costs
    a third as much again as encrypting. Use as ``async with PushSender(...) as sender:`` or call
    `aclose`. One sender serves any number of concurrent `send` calls on its event loop.

    The POST goes through aiohttp (pywebpush's own async client) rather than httpx: with many
    requests in flight httpx's pool costs 1-5 ms of CPU per request against aiohttp's ~0.15 ms
    (encode/httpx#3215), which alone would keep the sender under 1,000 notifications/s per core.
    """

    def __init__(
        self,
        keys: VapidKeys,
        *,
        subject: str,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 10.0,
        max_connections: int = 100,
        token_lifetime_s: int = 12 * 3600,
        token_refresh_margin_s: int = 3600,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        """Set up a sender.

        Args:
            keys: the application server's VAPID key pair (the one browsers subscribed with).
            subject: a contact for the push service's operators: ``mailto:ops@example.com`` or an https URL.
            session: an aiohttp session to use (the caller closes it); by default the sender makes its own
                on its first send, on the running event loop.
            timeout_s: the most one request may take, connecting included.
            max_connections: connections the sender's own session keeps open at most.
            token_lifetime_s: exp of each VAPID token, seconds after signing (at most 24 hours).
            token_refresh_margin_s: a token is re-signed this long before its exp.
            clock: epoch seconds now (tests move it to check token refresh).
            rng: random source of the backoff's jitter.

        Raises:
            ValueError: a bad subject or token lifetime.
        """
        if not _SUBJECT.fullmatch(subject):
            raise ValueError(f"VAPID subject must be 'mailto:someone@example.com' or an https URL, got {subject!r}")
        if not 0 < token_lifetime_s <= MAX_TOKEN_LIFETIME_S:
            raise ValueError(f"token lifetime must be 1 to {MAX_TOKEN_LIFETIME_S} seconds, got {token_lifetime_s}")
        if not 0 <= token_refresh_margin_s < token_lifetime_s:
            raise ValueError("token refresh margin must be at least 0 and less than the token lifetime")
        self._keys = keys
        self._vapid = Vapid02(keys.private_key)
        try:  # py_vapid checks the subject its own way when signing: find out now, not at the first send
            self._vapid.sign({"aud": "https://push.example", "exp": int(clock()) + 60, "sub": subject})
        except VapidException as exc:
            raise ValueError(f"VAPID subject {subject!r} refused: {exc}") from exc
        self._subject = subject
        self._lifetime = token_lifetime_s
        self._margin = token_refresh_margin_s
        self._clock = clock
        self._rng = rng
        self._tokens: dict[str, VapidToken] = {}
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_connections = max_connections

    @property
    def keys(self) -> VapidKeys:
        """The VAPID key pair this sender signs with."""
        return self._keys

    def token(self, audience: str) -> VapidToken:
        """The VAPID token for a push service origin: the cached one, or a newly signed one when due."""
        now = self._clock()
        cached = self._tokens.get(audience)
        if cached is not None and now < cached.refresh_at:
            return cached
        expires_at = int(now) + self._lifetime
        # A fresh claims dict for every signature: py_vapid fills in what is missing, and a dict
        # shared between calls would carry an old exp into later tokens.
        claims = {"aud": audience, "exp": expires_at, "sub": self._subject}
        headers = cast("dict[str, str]", self._vapid.sign(claims))
        token = VapidToken(
            audience=audience,
            authorization=headers["Authorization"],
            expires_at=expires_at,
            refresh_at=expires_at - self._margin,
        )
        self._tokens[audience] = token
        return token

    def forget_token(self, audience: str) -> None:
        """Drop the cached token of a push service so that the next send signs a new one."""
        self._tokens.pop(audience, None)

    @staticmethod
    def encrypt(subscription: Subscription, data: bytes) -> bytes:
        """The aes128gcm body (RFC 8291) of `data` for one subscription, with a fresh key and salt."""
        keys = {"p256dh": subscription.p256dh, "auth": subscription.auth}
        pusher = WebPusher({"endpoint": subscription.endpoint, "keys": keys})
        return cast("bytes", pusher.encode(data, "aes128gcm")["body"])

    def headers(self, subscription: Subscription, message: Message) -> dict[str, str]:
        """The request headers for one message (RFC 8030 §5, RFC 8188, RFC 8292)."""
        headers = {
            "Authorization": self.token(subscription.audience).authorization,
            "TTL": str(message.ttl),
            "Urgency": message.urgency,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
        if message.topic is not None:
            headers["Topic"] = message.topic
        return headers

    async def send(self, subscription: Subscription, message: Message, *, attempt: int = 0) -> Outcome:
        """Send one message to one subscription and say what became of it.

        Args:
            subscription: where to.
            message: what (already checked: size, TTL, urgency, topic).
            attempt: how many times this message was tried before (0 the first time), for the backoff.

        Returns:
            Sent, Gone, RetryLater, Misconfigured or Rejected; network failures are RetryLater
            with no status. Nothing is raised for anything the push service or the network does.
        """
        body = self.encrypt(subscription, message.data)
        headers = self.headers(subscription, message)
        try:
            async with self._open().post(
                subscription.endpoint, data=body, headers=headers, allow_redirects=False, timeout=self._timeout
            ) as response:
                # Enough of an error body for the reason; a push service has no business sending more.
                text = (await response.content.read(4096)).decode("utf-8", "replace")
        except (aiohttp.ClientError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                reason = f"network: TimeoutError: no answer within {self._timeout.total} s"
            else:
                reason = f"network: {type(exc).__name__}: {exc}".rstrip(": ")
            return RetryLater(after_s=backoff(attempt, rng=self._rng), reason=reason, status=None)
        outcome = classify(response.status, response.headers, text, attempt=attempt, now=self._clock(), rng=self._rng)
        if isinstance(outcome, Misconfigured):
            # The service may have refused the token itself (a clock jump, a rotated key): sign anew next time.
            self.forget_token(subscription.audience)
        return outcome

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300),
                timeout=self._timeout,
            )
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session if the sender made it."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
