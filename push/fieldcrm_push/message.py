"""What is sent and to whom: a browser's subscription and one message."""

import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from fieldcrm_push.keys import b64url_decode, b64url_encode

Urgency = Literal["very-low", "low", "normal", "high"]
URGENCIES: tuple[str, ...] = get_args(Urgency)

# RFC 8291 leaves 3,993 bytes of plaintext in the 4,096 a push service must accept; 3 KB keeps a
# margin and says the right thing: a push is a hint, the app fetches the rest when it opens.
MAX_PAYLOAD_BYTES = 3072
# Push services keep a message at most about four weeks (FCM: 28 days); longer means nothing.
MAX_TTL_S = 28 * 24 * 3600
MAX_TOPIC_LENGTH = 32
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


def topic_for(key: str) -> str:
    """A valid Topic (32 base64url characters) derived from any text, e.g. ``"quote:<id>"``.

    Messages with the same topic replace each other while they wait at the push service, so a
    phone that was off sees only the latest one.
    """
    return b64url_encode(hashlib.sha256(key.encode("utf-8")).digest())[:MAX_TOPIC_LENGTH]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Subscription:
    """A browser's push subscription, as ``PushSubscription.toJSON()`` gives it.

    Attributes:
        endpoint: the push service URL for this browser (https; plain http only on loopback, for tests).
        p256dh: the browser's P-256 public key, base64url (65 bytes decoded).
        auth: the browser's authentication secret, base64url (16 bytes decoded).
    """

    endpoint: str
    p256dh: str
    auth: str
    audience: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        host = parts.hostname or ""
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
            raise ValueError(f"push endpoint must be an https URL, got {self.endpoint[:80]!r}")
        if not host or parts.username is not None or parts.password is not None:
            raise ValueError(f"push endpoint has no usable host: {self.endpoint[:80]!r}")
        try:
            point = b64url_decode(self.p256dh)
            auth = b64url_decode(self.auth)
        except ValueError as exc:
            raise ValueError(f"subscription keys must be base64url: {exc}") from exc
        if len(point) != 65 or point[0] != 4:
            raise ValueError(f"p256dh must be a 65-byte uncompressed P-256 point, got {len(point)} bytes")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError as exc:
            raise ValueError("p256dh is not a point on the P-256 curve") from exc
        if len(auth) != 16:
            raise ValueError(f"auth must be a 16-byte secret, got {len(auth)} bytes")
        # RFC 8292 §2: the audience is the origin of the push resource.
        port = f":{parts.port}" if parts.port is not None else ""
        object.__setattr__(self, "audience", f"{parts.scheme}://{host}{port}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Subscription":
        """Read ``{"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}`` from a browser.

        Raises:
            ValueError: a field is missing or invalid.
        """
        keys = data.get("keys")
        endpoint = data.get("endpoint")
        if not isinstance(endpoint, str) or not isinstance(keys, Mapping):
            raise ValueError("a subscription needs 'endpoint' and 'keys' {p256dh, auth}")
        p256dh, auth = keys.get("p256dh"), keys.get("auth")
        if not isinstance(p256dh, str) or not isinstance(auth, str):
            raise ValueError("subscription keys need 'p256dh' and 'auth' strings")
        return cls(endpoint=endpoint, p256dh=p256dh, auth=auth)

    def to_json(self) -> dict[str, Any]:
        """The browser's shape, as `from_json` reads it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True, slots=True)
class Message:
    """One notification.

    Attributes:
        payload: bytes as they are, text as UTF-8, or a mapping sent as compact JSON; at most
            `MAX_PAYLOAD_BYTES` once encoded.
        ttl: seconds the push service keeps the message for a device that is offline; required and
            above 0 (0 means "deliver now or drop", which loses messages to sleeping phones).
        urgency: very-low | low | normal | high (RFC 8030 §5.3): phones on battery hold back low ones.
        topic: up to 32 base64url characters; a newer message with the same topic replaces a waiting
            one (use `topic_for` to derive one from any key).
        data: the encoded payload (set from `payload`).
    """

    payload: bytes | str | Mapping[str, Any]
    ttl: int
    urgency: Urgency = "normal"
    topic: str | None = None
    data: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.payload, bytes):
            data = self.payload
        elif isinstance(self.payload, str):
            data = self.payload.encode("utf-8")
        else:
            data = json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if not data:
            raise ValueError("a push message needs a payload: an empty one cannot be encrypted")
        if len(data) > MAX_PAYLOAD_BYTES:
            raise ValueError(
                f"push payload is {len(data)} bytes, more than {MAX_PAYLOAD_BYTES}: "
                "send an id and a title, and let the app fetch the rest when it opens"
            )
        if isinstance(self.ttl, bool) or not isinstance(self.ttl, int) or not 0 < self.ttl <= MAX_TTL_S:
            raise ValueError(
                f"ttl must be whole seconds from 1 to {MAX_TTL_S} (28 days), got {self.ttl!r}: "
                "0 would drop the message whenever the phone is asleep"
            )
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {', '.join(URGENCIES)}, got {self.urgency!r}")
        if self.topic is not None and not _TOPIC.fullmatch(self.topic):
            raise ValueError(
                f"topic must be 1-32 characters of A-Z a-z 0-9 - _, got {self.topic!r}: use topic_for(key)"
            )
        object.__setattr__(self, "data", data)
