"""What a push service's answer means for the sender: the outcome types and the classification."""

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 3600.0


@dataclass(frozen=True, slots=True)
class Sent:
    """The push service took the message (201): it delivers it within the TTL."""

    status: int
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Gone:
    """The subscription no longer exists (404, 410): delete it and do not send to it again."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Try again in `after_s` seconds: rate limited (429), the service failed (5xx) or the network did.

    `status` is None when no answer came (connection refused, timeout).
    """

    after_s: float
    reason: str
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Misconfigured:
    """The push service refused our credentials (401, 403): the VAPID key or token is wrong.

    Every message to that push service will fail the same way until an operator fixes the key
    (a 403 usually means the subscription was made with another application server key).
    """

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The push service refused this message (400, 413, other 4xx): sending it again will not help."""

    status: int
    reason: str


Outcome = Sent | Gone | RetryLater | Misconfigured | Rejected


def backoff(
    attempt: int, *, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry): exponential, jittered, capped.

    The delay doubles each attempt up to `cap_s`; the jitter draws from its upper half, so waits
    still grow with each attempt while senders that failed together spread out.
    """
    ceiling = min(cap_s, base_s * 2.0 ** min(max(attempt, 0), 62))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _reason(status: int, body: str) -> str:
    snippet = " ".join(body.split())[:200]
    return f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"


def classify(
    status: int,
    headers: Mapping[str, str],
    body: str = "",
    *,
    attempt: int = 0,
    now: float | None = None,
    rng: random.Random | None = None,
) -> Outcome:
    """Turn a push service's answer into an `Outcome`.

    Args:
        status: the HTTP status.
        headers: the response headers (looked up as ``Location`` and ``Retry-After``; pass a
            case-insensitive mapping such as httpx's).
        body: the response text, kept (shortened) in the reason.
        attempt: how many times this message was tried before, for the backoff.
        now: the current time (epoch seconds) for a Retry-After date; the clock when None.
        rng: the random source for the backoff's jitter.
    """
    if 200 <= status < 300:
        return Sent(status=status, location=headers.get("Location"))
    reason = _reason(status, body)
    if status in {404, 410}:
        return Gone(status=status, reason=reason)
    if status in {401, 403}:
        return Misconfigured(status=status, reason=reason)
    if status in {408, 429} or status >= 500:
        after = parse_retry_after(headers.get("Retry-After"), now=now)
        if after is None:
            after = backoff(attempt, rng=rng)
        return RetryLater(after_s=after, reason=reason, status=status)
    return Rejected(status=status, reason=reason)
