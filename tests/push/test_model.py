"""Keys, subscriptions, messages and the classification of answers, without a push service."""

import random
import stat
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from fieldcrm_push import (
    Gone,
    Message,
    Misconfigured,
    PushSender,
    Rejected,
    RetryLater,
    Sent,
    Subscription,
    VapidKeys,
    b64url_decode,
    backoff,
    classify,
    parse_retry_after,
    topic_for,
)

P256DH = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"


def test_vapid_keys_survive_a_save_and_load(tmp_path: Path) -> None:
    keys = VapidKeys.generate()
    path = tmp_path / "vapid.pem"

    keys.save(path)
    loaded = VapidKeys.load(path)

    assert loaded.application_server_key == keys.application_server_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    raw = b64url_decode(keys.application_server_key)
    assert len(raw) == 65
    assert raw[0] == 4
    assert "=" not in keys.application_server_key


def test_a_key_that_is_not_a_p256_private_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        VapidKeys.from_pem("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")


def test_a_subscription_reads_the_browser_json() -> None:
    sub = Subscription.from_json(
        {
            "endpoint": "https://fcm.googleapis.com/fcm/send/abc:def",
            "expirationTime": None,
            "keys": {"p256dh": P256DH, "auth": AUTH},
        }
    )

    assert sub.audience == "https://fcm.googleapis.com"
    assert Subscription.from_json(sub.to_json()) == sub
    assert Subscription("https://push.example:8443/x", P256DH, AUTH).audience == "https://push.example:8443"


@pytest.mark.parametrize(
    ("endpoint", "p256dh", "auth", "message"),
    [
        ("http://push.example/x", P256DH, AUTH, "must be an https URL"),
        ("ftp://push.example/x", P256DH, AUTH, "must be an https URL"),
        ("https://push.example/x", P256DH[:-4], AUTH, "65-byte uncompressed P-256 point"),
        ("https://push.example/x", "B" + "A" * 86, AUTH, "not a point on the P-256 curve"),
        ("https://push.example/x", P256DH, AUTH + "AA", "16-byte secret"),
        ("https://push.example/x", P256DH, "not base64!", "base64url"),
    ],
)
def test_a_bad_subscription_is_refused_with_the_reason(endpoint: str, p256dh: str, auth: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Subscription(endpoint, p256dh, auth)


def test_plain_http_is_allowed_only_on_this_machine() -> None:
    assert Subscription("http://127.0.0.1:8080/push/1", P256DH, AUTH).audience == "http://127.0.0.1:8080"
    assert Subscription("http://localhost/push/1", P256DH, AUTH).audience == "http://localhost"


def test_a_subscription_without_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="needs 'endpoint' and 'keys'"):
        Subscription.from_json({"endpoint": "https://push.example/x"})


def test_message_rules() -> None:
    assert Message({"b": 1, "a": "二"}, ttl=60).data == '{"b":1,"a":"二"}'.encode()
    assert Message(b"x" * 3072, ttl=1).data == b"x" * 3072
    with pytest.raises(ValueError, match="ttl must be whole seconds"):
        Message(b"x", ttl=-5)
    with pytest.raises(ValueError, match="ttl must be whole seconds"):
        Message(b"x", ttl=29 * 24 * 3600)
    with pytest.raises(ValueError, match="urgency must be one of very-low, low, normal, high"):
        Message(b"x", ttl=60, urgency="urgent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topic must be 1-32 characters"):
        Message(b"x", ttl=60, topic="quote:1")
    with pytest.raises(ValueError, match="topic must be 1-32 characters"):
        Message(b"x", ttl=60, topic="a" * 33)
    with pytest.raises(ValueError, match="needs a payload"):
        Message(b"", ttl=60)


def test_topic_for_derives_a_valid_stable_topic() -> None:
    topic = topic_for("quote:5d1c")

    assert len(topic) == 32
    assert topic == topic_for("quote:5d1c") != topic_for("quote:5d1d")
    assert Message(b"x", ttl=60, topic=topic).topic == topic


def test_a_sender_needs_a_contact_and_a_token_lifetime_within_a_day() -> None:
    keys = VapidKeys.generate()
    with pytest.raises(ValueError, match="subject"):
        PushSender(keys, subject="ops@example.com")
    with pytest.raises(ValueError, match="token lifetime"):
        PushSender(keys, subject="mailto:ops@example.com", token_lifetime_s=25 * 3600)
    with pytest.raises(ValueError, match="refresh margin"):
        PushSender(keys, subject="mailto:ops@example.com", token_lifetime_s=3600, token_refresh_margin_s=3600)


def test_classify_each_status() -> None:
    now = 1_800_000_000.0
    date = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=90), usegmt=True)
    rng = random.Random(1)

    assert classify(201, {"Location": "https://push.example/m/1"}) == Sent(201, "https://push.example/m/1")
    assert classify(202, {}) == Sent(202)
    assert classify(410, {}, "unsubscribed") == Gone(410, "HTTP 410: unsubscribed")
    assert classify(404, {}) == Gone(404, "HTTP 404")
    assert classify(401, {}, '{"error": "bad jwt"}') == Misconfigured(401, 'HTTP 401: {"error": "bad jwt"}')
    assert classify(403, {}) == Misconfigured(403, "HTTP 403")
    assert classify(400, {}, "bad TTL") == Rejected(400, "HTTP 400: bad TTL")
    assert classify(413, {}) == Rejected(413, "HTTP 413")
    assert classify(429, {"Retry-After": "7"}) == RetryLater(7.0, "HTTP 429", 429)
    assert classify(429, {"Retry-After": date}, now=now) == RetryLater(90.0, "HTTP 429", 429)
    after = classify(502, {}, attempt=2, rng=rng)
    assert isinstance(after, RetryLater)
    assert 10 <= after.after_s <= 20
    assert isinstance(classify(408, {}), RetryLater)


def test_retry_after_forms() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now=now) == 0.0  # in the past: now
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_is_jittered_and_capped() -> None:
    rng = random.Random(7)
    for attempt in range(20):
        ceiling = min(3600.0, 5.0 * 2**attempt)
        waits = {backoff(attempt, rng=rng) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1
    assert backoff(10_000, rng=rng) <= 3600
    assert 0.5 <= backoff(0, base_s=1, cap_s=60, rng=rng) <= 1
