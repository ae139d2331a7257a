"""Web Push for fieldcrm: VAPID keys, payload encryption, sending, and what the push service's answer means.

A library beneath the API: it knows nothing of fieldcrm (no Litestar, no tables). See push/README.md.
"""

from fieldcrm_push.keys import VapidKeys, b64url_decode, b64url_encode
from fieldcrm_push.message import MAX_PAYLOAD_BYTES, MAX_TTL_S, URGENCIES, Message, Subscription, Urgency, topic_for
from fieldcrm_push.outcome import (
    Gone,
    Misconfigured,
    Outcome,
    Rejected,
    RetryLater,
    Sent,
    backoff,
    classify,
    parse_retry_after,
)
from fieldcrm_push.sender import MAX_TOKEN_LIFETIME_S, PushSender, VapidToken

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MAX_TOKEN_LIFETIME_S",
    "MAX_TTL_S",
    "URGENCIES",
    "Gone",
    "Message",
    "Misconfigured",
    "Outcome",
    "PushSender",
    "Rejected",
    "RetryLater",
    "Sent",
    "Subscription",
    "Urgency",
    "VapidKeys",
    "VapidToken",
    "b64url_decode",
    "b64url_encode",
    "backoff",
    "classify",
    "parse_retry_after",
    "topic_for",
]
