"""The delivery worker, end to end: workflow events -> outbox -> real Web Push -> the local push service decrypts.

Failure modes are the push service's real answers (404/410, 429 with Retry-After, 5xx, 403), preferences
and quiet hours are the user's own through the API, and the deliverer's clock is moved instead of waiting.
"""

import asyncio
import datetime
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fieldcrm.lib.tables import utcnow
from fieldcrm.notifications import services as outbox
from fieldcrm.notifications.delivery import Deliverer, quiet_until
from fieldcrm.notifications.tables import Notification, PushSend, PushSubscription
from fieldcrm.org.tables import User
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.subjects import register_subject, unregister_subject
from fieldcrm_push import MAX_PAYLOAD_BYTES, PushSender, VapidKeys, topic_for
from tests.factories import Org
from tests.notifications.conftest import SUBJECT, Clock, Push, subscribe_device
from tests.push.push_service import Delivery, LocalPushService
from tests.workflow.memo import MemoSubject, memo_definition


@pytest.fixture
async def memos(org: Org) -> AsyncIterator[MemoSubject]:
    subject = MemoSubject()
    register_subject(subject)
    await workflow.put_definition(actor=await org.actor("hq"), key="memo-approval", body=memo_definition())
    yield subject
    unregister_subject("memo")


async def _row(kind: str, user_id: uuid.UUID) -> dict[str, Any]:
    row = await Notification.select().where(Notification.kind == kind, Notification.user == user_id).first()
    assert row is not None, f"no {kind} notification for {user_id}"
    return row


def _only(deliveries: list[Delivery]) -> Delivery:
    assert len(deliveries) == 1, [d.json() for d in deliveries]
    return deliveries[0]


async def _decide(client: httpx.AsyncClient, step_id: uuid.UUID, who: Any, decision: str, comment: str = "") -> None:
    r = await client.post(
        f"/api/approvals/{step_id}/decision",
        json={"decision": decision, "comment": comment},
        headers={**who.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text


async def test_every_approval_event_reaches_the_device_decrypted_in_the_recipients_language(
    client: httpx.AsyncClient,
    org: Org,
    memos: MemoSubject,
    push: Push,
) -> None:
    push_service, server_keys, deliverer = push.service, push.keys, push.deliverer
    await User.update({User.locale: "en"}).where(User.id == org.rep_a.id)
    manager, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    director, _ = await subscribe_device(client, push_service, server_keys, org.director)
    owner, _ = await subscribe_device(client, push_service, server_keys, org.rep_a)
    memo = memos.add(org.rep_a.id, discount_bp=2000)  # manager, then director
    instance = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    manager_step = instance.steps[0].id
    started = utcnow()

    # requested: the manager's phone shows it in Chinese, with Approve / Open for this step
    assert (await deliverer.run_once()).pushes == 1
    got = _only(push_service.deliveries_to(manager))
    row = await _row("approval.requested", org.manager_a.id)
    assert got.json() == {
        "v": 1,
        "id": str(row["id"]),
        "kind": "approval.requested",
        "title": f"待审批：{memo.title}",
        "body": "Manager approval · Rep A 提交",
        "url": f"#/memos/{memo.id}",
        "tag": f"memo-{memo.id}",
        "lang": "zh-CN",
        "subjectKind": "memo",
        "subjectId": str(memo.id),
        "stepId": str(manager_step),
        "actions": [{"action": "approve", "title": "批准"}, {"action": "open", "title": "打开"}],
    }
    assert 86_400 - 60 <= got.ttl <= 86_400  # approvals: 24 hours, not the outbox's 3 days
    assert got.urgency == "high"
    assert got.topic == topic_for(f"memo-{memo.id}")
    assert got.claims["sub"] == SUBJECT

    # the SLA warning (6 h in), then the escalation to the director (8 h in)
    await workflow.sla_scan(now=started + datetime.timedelta(hours=6, minutes=1))
    await deliverer.run_once()
    warning = push_service.deliveries_to(manager)[-1].json()
    assert warning["kind"] == "approval.sla_warning" and warning["title"] == f"即将超时：{memo.title}"
    assert warning["stepId"] == str(manager_step) and len(warning["actions"]) == 2
    await workflow.sla_scan(now=started + datetime.timedelta(hours=8, minutes=1))
    await deliverer.run_once()
    escalated = _only(push_service.deliveries_to(director)).json()
    assert escalated["kind"] == "approval.escalated" and escalated["stepId"] == str(manager_step)
    assert "Manager A" in escalated["body"]

    # the director settles the escalated step; the next stage asks the director again
    await _decide(client, manager_step, org.director, "approve")
    await deliverer.run_once()
    requested = push_service.deliveries_to(director)[-1].json()
    director_step = (await workflow.running(kind="memo", subject_id=memo.id)).steps[-1].id  # type: ignore[union-attr]
    assert requested["kind"] == "approval.requested" and requested["stepId"] == str(director_step)
    assert requested["body"] == "Director approval · Rep A 提交"

    # approved: the owner hears it in English, without actions (nothing for them to decide)
    await _decide(client, director_step, org.director, "approve", comment="ok")
    await deliverer.run_once()
    decided = _only(push_service.deliveries_to(owner))
    assert decided.json()["title"] == f"Approved: {memo.title}"
    assert decided.json()["body"] == "Approved by Director: ok"
    assert decided.json()["lang"] == "en" and "actions" not in decided.json()
    assert decided.urgency == "normal"

    # returned for changes: another memo, returned by the manager
    other = memos.add(org.rep_a.id, discount_bp=1000)
    step = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=other.id)).steps[0].id
    await _decide(client, step, org.manager_a, "return", comment="price list is old")
    await deliverer.run_once()
    returned = push_service.deliveries_to(owner)[-1].json()
    assert returned["title"] == f"Returned for changes: {other.title}"
    assert returned["body"] == "Returned by Manager A: price list is old"

    # every outbox row was pushed, once each
    rows = await Notification.select(Notification.id, Notification.sent_at, Notification.dead_at)
    assert rows and all(r["sent_at"] is not None and r["dead_at"] is None for r in rows)
    pushed = [d.json()["id"] for d in push_service.deliveries]
    assert sorted(pushed) == sorted(str(r["id"]) for r in rows)
    assert not push_service.refusals


async def _notify(user_id: uuid.UUID, kind: str = "approval.requested", title: str = "报价 Q-2026-00001") -> uuid.UUID:
    await outbox.enqueue(
        user_ids=[user_id], kind=kind, params={"title": title, "stepLabel": "Manager approval"}, topic="quote-1"
    )
    row = await Notification.select(Notification.id).order_by(Notification.created_at, ascending=False).first()
    assert row is not None
    return uuid.UUID(str(row["id"]))


async def _state(notification_id: uuid.UUID) -> dict[str, Any]:
    row = await Notification.select().where(Notification.id == notification_id).first()
    assert row is not None
    return row


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_deleted_and_never_sent_to_again(
    client: httpx.AsyncClient,
    org: Org,
    status: int,
    push: Push,
) -> None:
    push_service, server_keys, deliverer = push.service, push.keys, push.deliverer
    gone, gone_id = await subscribe_device(client, push_service, server_keys, org.manager_a, status=status)
    first = await _notify(org.manager_a.id)
    result = await deliverer.run_once()
    assert result.gone == 1
    assert not await PushSubscription.exists().where(PushSubscription.id == gone_id)
    assert len(push_service.refusals_to(gone)) == 1
    assert (await _state(first))["sent_at"] is not None  # settled: there is no one left to send it to

    second = await _notify(org.manager_a.id)
    await deliverer.run_once()
    assert len(push_service.refusals_to(gone)) == 1 and not push_service.deliveries
    assert (await _state(second))["last_error"] == "not pushed: no device subscribed"
    r = await client.get("/api/push/subscriptions", headers=org.manager_a.headers)
    assert r.json()["total"] == 0


async def test_429_waits_at_least_its_retry_after(
    client: httpx.AsyncClient,
    org: Org,
    push: Push,
) -> None:
    push_service, server_keys, deliverer, clock = push.service, push.keys, push.deliverer, push.clock
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a, status=429, retry_after="120")
    item = await _notify(org.manager_a.id)
    clock.freeze()
    assert (await deliverer.run_once()).retrying == 1
    row = await _state(item)
    assert row["attempts"] == 1 and row["locked_until"] is None and "HTTP 429" in row["last_error"]
    assert row["available_at"] >= clock.now + datetime.timedelta(seconds=120)
    push_service.set_reply(device, 201)
    clock.advance(119)
    assert (await deliverer.run_once()).claimed == 0  # still waiting
    clock.advance(2)
    assert (await deliverer.run_once()).sent == 1
    assert _only(push_service.deliveries_to(device)).json()["id"] == str(item)
    assert len(push_service.refusals_to(device)) == 1


async def test_5xx_backs_off_and_dead_letters_after_the_last_attempt(
    client: httpx.AsyncClient,
    org: Org,
    push: Push,
) -> None:
    push_service, server_keys, deliverer, clock = push.service, push.keys, push.deliverer, push.clock
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a, status=500)
    item = await _notify(org.manager_a.id)
    clock.freeze()
    waits = []
    for attempt in (1, 2):
        await deliverer.run_once()
        row = await _state(item)
        assert row["attempts"] == attempt and row["dead_at"] is None
        waits.append((row["available_at"] - clock.now).total_seconds())
        clock.advance(waits[-1] + 0.001)
    assert 2.5 <= waits[0] <= 5 and 5 <= waits[1] <= 10  # jittered exponential backoff, growing
    assert (await deliverer.run_once()).dead == 1
    row = await _state(item)
    assert row["dead_at"] is not None and row["sent_at"] is None and row["attempts"] == 3
    assert "HTTP 500" in row["last_error"]
    clock.advance(3600)
    assert (await deliverer.run_once()).claimed == 0  # a dead letter stays dead
    assert len(push_service.refusals_to(device)) == 3


async def test_403_raises_an_alert_in_the_log_and_is_retried(
    client: httpx.AsyncClient,
    org: Org,
    caplog: pytest.LogCaptureFixture,
    push: Push,
) -> None:
    push_service, deliverer = push.service, push.deliverer
    # a subscription made with another server key: the push service refuses our token with 403
    stranger = push_service.subscribe(VapidKeys.generate().application_server_key)
    r = await client.post("/api/push/subscriptions", json=stranger.to_json(), headers=org.manager_a.headers)
    assert r.status_code == 201
    item = await _notify(org.manager_a.id)
    with caplog.at_level(logging.ERROR, logger="fieldcrm.push"):
        assert (await deliverer.run_once()).retrying == 1
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR and "ALERT" in r.getMessage()]
    assert len(alerts) == 1 and push_service.origin in alerts[0].getMessage()
    row = await _state(item)
    assert row["attempts"] == 1 and "misconfigured" in row["last_error"] and row["dead_at"] is None


async def test_a_retry_goes_only_to_the_devices_that_missed_it(
    client: httpx.AsyncClient,
    org: Org,
    push: Push,
) -> None:
    push_service, server_keys, deliverer, clock = push.service, push.keys, push.deliverer, push.clock
    phone, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    tablet, _ = await subscribe_device(client, push_service, server_keys, org.manager_a, status=503)
    item = await _notify(org.manager_a.id)
    assert (await deliverer.run_once()).retrying == 1
    assert await PushSend.count() == 1
    push_service.set_reply(tablet, 201)
    clock.advance(3600)
    assert (await deliverer.run_once()).sent == 1
    assert len(push_service.deliveries_to(phone)) == 1 and len(push_service.deliveries_to(tablet)) == 1
    assert (await _state(item))["sent_at"] is not None


async def test_quiet_hours_hold_a_notification_until_they_end(
    client: httpx.AsyncClient,
    org: Org,
    push: Push,
) -> None:
    push_service, server_keys, deliverer, clock = push.service, push.keys, push.deliverer, push.clock
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    prefs = {"quietHours": {"start": "22:00", "end": "07:00"}, "timezone": "Asia/Shanghai"}
    r = await client.put("/api/push/preferences", json=prefs, headers=org.manager_a.headers)
    assert r.status_code == 200, r.text
    # 23:30 in Shanghai is 15:30 UTC, on a fixed day: the row's own times follow the test clock, not the wall clock
    clock.now = datetime.datetime(2026, 11, 24, 15, 30, tzinfo=datetime.UTC)
    item = await _notify(org.manager_a.id)
    await Notification.update({Notification.created_at: clock.now, Notification.available_at: clock.now}).where(
        Notification.id == item
    )
    assert (await deliverer.run_once()).held == 1
    assert not push_service.deliveries
    row = await _state(item)
    assert row["available_at"] == clock.now.replace(hour=23, minute=0)  # 07:00 in Shanghai
    clock.advance(7 * 3600 + 29 * 60)  # 06:59
    assert (await deliverer.run_once()).claimed == 0
    clock.advance(60)
    assert (await deliverer.run_once()).sent == 1
    assert _only(push_service.deliveries_to(device)).ttl <= 86_400 - 7 * 3600  # its TTL counts from the event


def test_quiet_hours_within_one_day_and_across_midnight() -> None:
    at = datetime.datetime(2026, 11, 24, 4, 0, tzinfo=datetime.UTC)  # 12:00 in Shanghai
    lunch = {"start_min": 11 * 60 + 30, "end_min": 13 * 60, "timezone": "Asia/Shanghai"}
    assert quiet_until(**lunch, now=at) == at.replace(hour=5)  # type: ignore[arg-type]
    assert quiet_until(**lunch, now=at.replace(hour=6)) is None  # type: ignore[arg-type]
    night = {"start_min": 22 * 60, "end_min": 7 * 60, "timezone": "Asia/Shanghai"}
    assert quiet_until(**night, now=at) is None  # type: ignore[arg-type]
    early = at.replace(hour=20)  # 04:00 next day in Shanghai
    assert quiet_until(**night, now=early) == at.replace(hour=23)  # type: ignore[arg-type]


async def test_a_kind_switched_off_is_not_pushed_and_others_still_are(
    client: httpx.AsyncClient,
    org: Org,
    push_service: LocalPushService,
    server_keys: VapidKeys,
    deliverer: Deliverer,
) -> None:
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    r = await client.put("/api/push/preferences", json={"approvals": False}, headers=org.manager_a.headers)
    assert r.status_code == 200
    off = await _notify(org.manager_a.id, kind="approval.requested")
    on = await _notify(org.manager_a.id, kind="approval.sla_warning")
    result = await deliverer.run_once()
    assert (result.skipped, result.sent) == (1, 1)
    assert [d.json()["id"] for d in push_service.deliveries_to(device)] == [str(on)]
    assert "switched off approvals" in (await _state(off))["last_error"]


async def test_a_long_title_still_fits_a_push(
    client: httpx.AsyncClient,
    org: Org,
    push_service: LocalPushService,
    server_keys: VapidKeys,
    deliverer: Deliverer,
) -> None:
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    await _notify(org.manager_a.id, title="很长的报价标题" * 500)
    assert (await deliverer.run_once()).sent == 1
    got = _only(push_service.deliveries_to(device))
    assert len(got.plaintext) < MAX_PAYLOAD_BYTES and got.json()["title"].endswith("…")


async def test_two_workers_never_send_the_same_item_twice(
    client: httpx.AsyncClient,
    org: Org,
    push_service: LocalPushService,
    server_keys: VapidKeys,
    clock: Clock,
) -> None:
    device, _ = await subscribe_device(client, push_service, server_keys, org.manager_a)
    for n in range(60):
        await _notify(org.manager_a.id, title=f"报价 {n}")
    workers = [Deliverer(PushSender(server_keys, subject=SUBJECT), batch=20, lease_s=60, clock=clock) for _ in range(3)]
    try:
        while True:
            results = await asyncio.gather(*(w.run_once() for w in workers))
            if not any(r.claimed for r in results):
                break
    finally:
        for w in workers:
            await w.aclose()
    ids = [d.json()["id"] for d in push_service.deliveries_to(device)]
    assert len(ids) == 60 and len(set(ids)) == 60


async def test_a_deactivated_user_gets_nothing_more(client: httpx.AsyncClient, org: Org, push: Push) -> None:
    device, _ = await subscribe_device(client, push.service, push.keys, org.rep_a)
    r = await client.patch(f"/api/users/{org.rep_a.id}", json={"isActive": False}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    item = await _notify(org.rep_a.id, kind="approval.decided")
    assert (await push.deliverer.run_once()).skipped == 1
    assert not push.service.deliveries_to(device)
    assert (await _state(item))["last_error"] == "not pushed: the user is deactivated"
