"""Sending through the local push service: what arrives, and what each answer of the service means."""

import asyncio
import itertools
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

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
    topic_for,
)
from tests.push.conftest import SUBJECT
from tests.push.push_service import LocalPushService, LocalSubscription


def browser(sub: LocalSubscription) -> Subscription:
    """The subscription as the API would store it: from the JSON the browser hands over."""
    return Subscription.from_json(sub.to_json())


async def test_a_message_arrives_decrypted_with_its_headers(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key)
    payload = {"kind": "quote.approved", "quoteId": "5d1c", "title": "报价已批准", "url": "/quotes/5d1c"}
    topic = topic_for("quote:5d1c")

    outcome = await sender.send(browser(sub), Message(payload, ttl=3600, urgency="high", topic=topic))

    assert isinstance(outcome, Sent)
    assert outcome.status == 201
    assert outcome.location is not None
    assert outcome.location.startswith(push_service.origin)
    [delivery] = push_service.deliveries_to(sub)
    assert delivery.json() == payload
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (3600, "high", topic)
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert delivery.headers["content-type"] == "application/octet-stream"
    assert delivery.claims["aud"] == push_service.origin
    assert delivery.claims["sub"] == SUBJECT
    assert time.time() < delivery.claims["exp"] <= time.time() + 24 * 3600
    assert push_service.refusals == []


async def test_bytes_and_text_payloads_arrive_as_they_were(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key)
    raw = bytes(range(256)) * 11  # 2,816 bytes: several records' worth of any byte value

    assert isinstance(await sender.send(browser(sub), Message(raw, ttl=60)), Sent)
    assert isinstance(await sender.send(browser(sub), Message("拜访提醒", ttl=60, urgency="low")), Sent)

    first, second = push_service.deliveries_to(sub)
    assert first.plaintext == raw
    assert (first.urgency, first.topic) == ("normal", None)
    assert "topic" not in first.headers
    assert second.plaintext.decode() == "拜访提醒"
    assert second.urgency == "low"


async def test_many_concurrent_sends_all_arrive(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    subs = [push_service.subscribe(vapid_keys.application_server_key) for _ in range(20)]

    outcomes = await asyncio.gather(
        *(sender.send(browser(subs[n % 20]), Message({"n": n}, ttl=600)) for n in range(200))
    )

    assert all(isinstance(o, Sent) for o in outcomes)
    assert sorted(d.json()["n"] for d in push_service.deliveries) == list(range(200))
    # One token for the one push service: signed once, reused by every send.
    assert len({d.token for d in push_service.deliveries}) == 1


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_says_so(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys, status: int
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=status)

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60))

    assert isinstance(outcome, Gone)
    assert outcome.status == status
    assert push_service.deliveries == []


async def test_an_unknown_endpoint_is_gone(push_service: LocalPushService, sender: PushSender) -> None:
    keys = push_service.subscribe("unused")
    unknown = Subscription(endpoint=f"{push_service.origin}/push/nobody", p256dh=keys.p256dh, auth=keys.auth)

    outcome = await sender.send(unknown, Message({"x": 1}, ttl=60))

    assert isinstance(outcome, Gone)
    assert outcome.reason == "HTTP 404: no such subscription"


async def test_429_waits_as_long_as_retry_after_says_in_seconds(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=429, retry_after="120")

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60))

    assert outcome == RetryLater(after_s=120.0, reason="HTTP 429: this subscription answers 429", status=429)


async def test_429_waits_until_the_date_retry_after_gives(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    sub = push_service.subscribe(
        vapid_keys.application_server_key, status=429, retry_after=format_datetime(when, usegmt=True)
    )

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60))

    assert isinstance(outcome, RetryLater)
    assert outcome.status == 429
    assert 595 <= outcome.after_s <= 600


async def test_429_without_retry_after_backs_off(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=429)

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60), attempt=3)

    assert isinstance(outcome, RetryLater)
    assert 20 <= outcome.after_s <= 40  # 5 s doubled three times, the upper half of it


async def test_5xx_backs_off_longer_with_each_attempt_up_to_a_cap(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=500)
    message = Message({"x": 1}, ttl=60)

    waits = []
    for attempt in range(12):
        outcome = await sender.send(browser(sub), message, attempt=attempt)
        assert isinstance(outcome, RetryLater)
        assert outcome.status == 500
        waits.append(outcome.after_s)

    for attempt, wait in enumerate(waits):  # 5 s doubled per attempt, jittered in the upper half, capped at 1 h
        ceiling = min(3600, 5 * 2**attempt)
        assert ceiling / 2 <= wait <= ceiling
    uncapped = waits[:10]  # until the cap, each wait is at least the previous one's ceiling
    assert all(later >= earlier for earlier, later in itertools.pairwise(uncapped))
    assert waits[-1] <= 3600


async def test_503_with_retry_after_honours_it(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=503, retry_after="30")

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60), attempt=5)

    assert outcome == RetryLater(after_s=30.0, reason="HTTP 503: this subscription answers 503", status=503)


async def test_a_subscription_made_with_another_key_is_misconfigured(
    push_service: LocalPushService, sender: PushSender
) -> None:
    sub = push_service.subscribe(VapidKeys.generate().application_server_key)

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60))

    assert isinstance(outcome, Misconfigured)
    assert outcome.status == 403
    assert "application server key" in outcome.reason
    assert push_service.deliveries == []


async def test_403_from_the_service_is_misconfigured(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=403)

    assert isinstance(await sender.send(browser(sub), Message({"x": 1}, ttl=60)), Misconfigured)


async def test_an_expired_token_is_misconfigured_and_the_next_send_signs_anew(
    push_service: LocalPushService, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key)
    offset = [-13 * 3600.0]  # a sender whose clock is 13 hours slow signs tokens that expired an hour ago

    async with PushSender(vapid_keys, subject=SUBJECT, clock=lambda: time.time() + offset[0]) as sender:
        outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60))
        assert isinstance(outcome, Misconfigured)
        assert outcome.status == 401
        assert "expired" in outcome.reason

        offset[0] = 0.0  # the clock is fixed: a new token is signed, not the refused one reused
        assert isinstance(await sender.send(browser(sub), Message({"x": 2}, ttl=60)), Sent)

    assert [d.json() for d in push_service.deliveries_to(sub)] == [{"x": 2}]


@pytest.mark.parametrize("status", [400, 413])
async def test_a_message_the_service_refuses_is_rejected(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys, status: int
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key, status=status)

    outcome = await sender.send(browser(sub), Message({"x": 1}, ttl=60))

    assert outcome == Rejected(status=status, reason=f"HTTP {status}: this subscription answers {status}")


async def test_a_refused_connection_is_retried_later(push_service: LocalPushService, sender: PushSender) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    keys = push_service.subscribe("unused")
    nowhere = Subscription(endpoint=f"http://127.0.0.1:{port}/push/x", p256dh=keys.p256dh, auth=keys.auth)

    outcome = await sender.send(nowhere, Message({"x": 1}, ttl=60), attempt=1)

    assert isinstance(outcome, RetryLater)
    assert outcome.status is None
    assert outcome.reason.startswith("network: ClientConnectorError")
    assert "127.0.0.1" in outcome.reason
    assert 5 <= outcome.after_s <= 10


def test_ttl_0_and_a_4_kb_payload_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="ttl must be whole seconds from 1"):
        Message({"x": 1}, ttl=0)
    with pytest.raises(ValueError, match="push payload is 4096 bytes, more than 3072"):
        Message(b"x" * 4096, ttl=60)
    with pytest.raises(ValueError, match="more than 3072"):
        Message({"body": "说" * 1100}, ttl=60)  # 3,300 bytes of UTF-8 once encoded


async def test_the_token_is_reused_and_signed_anew_before_it_expires(
    push_service: LocalPushService, vapid_keys: VapidKeys
) -> None:
    sub = push_service.subscribe(vapid_keys.application_server_key)
    start = time.time()
    now = [start]
    message = Message({"x": 1}, ttl=60)

    async with PushSender(
        vapid_keys, subject=SUBJECT, token_lifetime_s=12 * 3600, token_refresh_margin_s=3600, clock=lambda: now[0]
    ) as sender:
        await sender.send(browser(sub), message)
        first = sender.token(push_service.origin)
        now[0] = start + 11 * 3600 - 5  # just before the refresh point: still the same token
        await sender.send(browser(sub), message)
        now[0] = start + 11 * 3600 + 5  # past it, an hour before exp: a new one
        await sender.send(browser(sub), message)
        second = sender.token(push_service.origin)

    tokens = [d.token for d in push_service.deliveries_to(sub)]
    assert tokens[0] == tokens[1] != tokens[2]
    assert first.authorization != second.authorization
    assert first.expires_at == int(start) + 12 * 3600
    assert now[0] < first.expires_at  # re-signed while the old one was still valid
    assert second.expires_at == int(now[0]) + 12 * 3600
    exps = [d.claims["exp"] for d in push_service.deliveries_to(sub)]
    assert exps == [first.expires_at, first.expires_at, second.expires_at]


async def test_each_push_service_gets_its_own_token(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    with LocalPushService() as other:
        mine = push_service.subscribe(vapid_keys.application_server_key)
        theirs = other.subscribe(vapid_keys.application_server_key)

        assert isinstance(await sender.send(browser(mine), Message({"x": 1}, ttl=60)), Sent)
        assert isinstance(await sender.send(browser(theirs), Message({"x": 2}, ttl=60)), Sent)

        [d1], [d2] = push_service.deliveries_to(mine), other.deliveries_to(theirs)
        assert d1.claims["aud"] == push_service.origin
        assert d2.claims["aud"] == other.origin
        assert d1.token != d2.token


async def test_a_push_service_that_never_answers_is_retried_later(
    push_service: LocalPushService, vapid_keys: VapidKeys
) -> None:
    keys = push_service.subscribe("unused")
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever reads or answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        target = Subscription(endpoint=f"http://127.0.0.1:{port}/push/x", p256dh=keys.p256dh, auth=keys.auth)
        async with PushSender(vapid_keys, subject=SUBJECT, timeout_s=0.3) as sender:
            started = time.monotonic()
            outcome = await sender.send(target, Message({"x": 1}, ttl=60))
            waited = time.monotonic() - started

    assert isinstance(outcome, RetryLater)
    assert outcome.status is None
    assert "Timeout" in outcome.reason
    assert waited < 5
