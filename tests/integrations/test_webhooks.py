"""Webhooks: signed deliveries checked by a real receiver, retries, the dead letter, refusals, a killed worker."""

import datetime

import pytest

from fieldcrm.integrations import delivery, webhooks
from fieldcrm.integrations.tables import WebhookDelivery
from fieldcrm.lib.db import write_transaction

T0 = datetime.datetime(2026, 12, 4, 9, 0, tzinfo=datetime.UTC)


SECRET = "s3cret-s3cret-s3cret"


async def _register(client, org, url, events=("contract.signed",), secret=SECRET):
    r = await client.post(
        "/api/webhooks", json={"url": url, "secret": secret, "events": list(events)}, headers=org.hq.headers
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _emit(event="contract.signed", data=None, now=T0):
    async with write_transaction():
        return await webhooks.emit(event, data or {"contractNumber": "C-2026-00001"}, now=now)


async def _deliveries(client, org, hook_id):
    r = await client.get(f"/api/webhooks/{hook_id}/deliveries", headers=org.hq.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_delivery_is_signed_and_verified_by_the_receiver(client, org, receiver):
    hook = await _register(client, org, receiver.url, events=("contract.signed", "quote.accepted"))
    assert await _emit() == 1
    assert await _emit("case.opened") == 0  # not wanted by this webhook
    assert await delivery.deliver_due(now=T0) == 1
    assert receiver.rejected == []
    assert [d["event"] for d in receiver.received] == ["contract.signed"]
    assert receiver.received[0]["data"] == {"contractNumber": "C-2026-00001"}
    [item] = await _deliveries(client, org, hook)
    assert item["status"] == "delivered" and item["attempts"] == 1
    assert item["tries"][0]["statusCode"] == 200


async def test_a_wrong_secret_does_not_verify(client, org, receiver):
    await _register(client, org, receiver.url, secret="another-secret-entirely")
    await _emit()
    await delivery.deliver_due(now=T0)
    assert receiver.received == [] and len(receiver.rejected) == 1


async def test_a_500_is_retried_with_backoff_then_delivered(client, org, receiver):
    hook = await _register(client, org, receiver.url)
    receiver.statuses = [500]
    await _emit()
    assert await delivery.deliver_due(now=T0) == 1
    [item] = await _deliveries(client, org, hook)
    assert item["status"] == "pending" and item["lastStatus"] == 500
    assert await delivery.deliver_due(now=T0 + datetime.timedelta(seconds=5)) == 0  # backoff not over
    assert await delivery.deliver_due(now=T0 + datetime.timedelta(seconds=11)) == 1
    [item] = await _deliveries(client, org, hook)
    assert item["status"] == "delivered" and [t["statusCode"] for t in item["tries"]] == [500, 200]
    assert len(receiver.received) == 1


async def test_after_the_last_attempt_a_delivery_is_dead(client, org, receiver):
    hook = await _register(client, org, receiver.url)
    receiver.statuses = [503, 503, 503]
    await _emit()
    now = T0
    for _ in range(3):
        assert await delivery.deliver_due(now=now) == 1
        now += datetime.timedelta(hours=1)
    [item] = await _deliveries(client, org, hook)
    assert item["status"] == "dead" and item["attempts"] == 3 and item["deadAt"] is not None
    assert await delivery.deliver_due(now=now) == 0


async def test_redirects_are_not_followed(client, org, receiver):
    hook = await _register(client, org, receiver.url)
    receiver.statuses = [302]
    await _emit()
    await delivery.deliver_due(now=T0)
    [item] = await _deliveries(client, org, hook)
    assert item["status"] == "pending" and item["lastStatus"] == 302
    assert "not followed" in item["lastError"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not HTTPS
        "https://127.0.0.1/hook",  # loopback
        "https://10.1.2.3/hook",  # private
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://[::1]/hook",  # IPv6 loopback
        "https://[::ffff:192.168.0.1]/hook",  # IPv4-mapped private
        "https://user:pw@203.0.113.9/hook",  # credentials in the URL
    ],
)
async def test_internal_and_plain_http_addresses_are_refused(client, org, url):
    r = await client.post(
        "/api/webhooks",
        json={"url": url, "secret": "s3cret-s3cret-s3cret", "events": ["contract.signed"]},
        headers=org.hq.headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "url"


async def test_an_address_that_turns_internal_is_dead_lettered_not_called(client, org, receiver):
    hook = await _register(client, org, receiver.url)
    await _emit()
    from fieldcrm.integrations.config import IntegrationSettings, use_integration_settings

    use_integration_settings(IntegrationSettings(webhook_allow_loopback_http=False))
    await delivery.deliver_due(now=T0)
    use_integration_settings(IntegrationSettings(webhook_allow_loopback_http=True))
    [item] = await _deliveries(client, org, hook)
    assert item["status"] == "dead" and item["lastError"].startswith("refused")
    assert receiver.received == []


async def test_a_killed_worker_loses_nothing(client, org, receiver):
    hook = await _register(client, org, receiver.url)
    for n in range(3):
        await _emit(data={"n": n})
    # A worker claims the deliveries and dies before sending: they stay locked for the lease, then another takes them.
    claimed = await delivery.claim(now=T0)
    assert len(claimed) == 3
    assert await delivery.deliver_due(now=T0 + datetime.timedelta(seconds=30)) == 0
    assert await delivery.deliver_due(now=T0 + datetime.timedelta(seconds=61)) == 3
    assert sorted(d["data"]["n"] for d in receiver.received) == [0, 1, 2]
    assert {d["status"] for d in await _deliveries(client, org, hook)} == {"delivered"}


async def test_an_event_that_rolls_back_is_never_sent(client, org, receiver):
    await _register(client, org, receiver.url)

    class Boom(Exception):
        pass

    async def event_then_failure() -> None:
        async with write_transaction():
            await webhooks.emit("contract.signed", {"x": 1}, now=T0)
            raise Boom

    with pytest.raises(Boom):
        await event_then_failure()
    assert await WebhookDelivery.count() == 0


async def test_the_secret_never_comes_back(client, org, receiver):
    hook = await _register(client, org, receiver.url)
    r = await client.get(f"/api/webhooks/{hook}", headers=org.hq.headers)
    assert "s3cret" not in r.text
    r = await client.get("/api/webhooks", headers=org.hq.headers)
    assert r.json()["total"] == 1 and "s3cret" not in r.text


def test_a_delivery_goes_to_the_address_that_was_checked():
    # The name is not resolved again to connect (DNS rebinding); TLS still checks the certificate of the name.
    url, host, extensions = delivery.pinned("https://boss.example.com:8443/in?x=1", "93.184.216.34")
    assert (url, host, extensions) == (
        "https://93.184.216.34:8443/in?x=1",
        "boss.example.com:8443",
        {"sni_hostname": "boss.example.com"},
    )
    assert delivery.pinned("https://boss.example.com/in", "2001:db8::1")[0] == "https://[2001:db8::1]/in"
