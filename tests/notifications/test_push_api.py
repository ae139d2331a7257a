"""The Web Push doors: the public key, my devices (several, re-registered, moved, removed), my preferences."""

from pathlib import Path

import httpx
import pytest

from fieldcrm.notifications import subscriptions
from fieldcrm.notifications.tables import PushSubscription
from fieldcrm_push import VapidKeys
from tests.factories import Org
from tests.notifications.conftest import subscribe_device
from tests.push.push_service import LocalPushService


async def test_the_public_key_is_served_to_anyone_once_the_server_has_one(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscriptions.use_vapid_keys(None)
    monkeypatch.setattr(subscriptions, "key_path", lambda: Path(f"{tmp_path}/none.pem"))
    r = await client.get("/api/push/public-key")
    assert r.status_code == 503, r.text
    assert "fieldcrm vapid" in r.json()["detail"]

    keys = VapidKeys.generate()
    keys.save(f"{tmp_path}/vapid.pem")
    monkeypatch.setattr(subscriptions, "key_path", lambda: Path(f"{tmp_path}/vapid.pem"))
    r = await client.get("/api/push/public-key")
    assert r.status_code == 200, r.text
    assert r.json() == {"publicKey": keys.application_server_key}


async def test_a_user_registers_several_devices_and_removes_one(
    client: httpx.AsyncClient, org: Org, push_service: LocalPushService, server_keys: VapidKeys
) -> None:
    phone, phone_id = await subscribe_device(client, push_service, server_keys, org.manager_a)
    _, laptop_id = await subscribe_device(client, push_service, server_keys, org.manager_a)
    r = await client.get("/api/push/subscriptions", headers=org.manager_a.headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2 and page["nextCursor"] is None
    assert {d["id"] for d in page["items"]} == {str(phone_id), str(laptop_id)}
    assert all(d["pushService"] == "127.0.0.1" and "endpoint" not in d for d in page["items"])
    r = await client.get("/api/push/subscriptions", params={"limit": 1}, headers=org.manager_a.headers)
    assert len(r.json()["items"]) == 1 and r.json()["nextCursor"] == "1"

    # the same browser again: one device, not two
    r = await client.post("/api/push/subscriptions", json=phone.to_json(), headers=org.manager_a.headers)
    assert r.status_code == 201 and r.json()["id"] == str(phone_id)
    assert await PushSubscription.count().where(PushSubscription.user == org.manager_a.id) == 2

    # nobody else sees or removes my devices
    assert (await client.get("/api/push/subscriptions", headers=org.rep_a.headers)).json()["total"] == 0
    r = await client.delete(f"/api/push/subscriptions/{phone_id}", headers=org.rep_a.headers)
    assert r.status_code == 404
    r = await client.delete(f"/api/push/subscriptions/{phone_id}", headers=org.manager_a.headers)
    assert r.status_code == 204
    r = await client.get("/api/push/subscriptions", headers=org.manager_a.headers)
    assert [d["id"] for d in r.json()["items"]] == [str(laptop_id)]


async def test_another_person_signing_in_on_the_browser_takes_its_subscription(
    client: httpx.AsyncClient, org: Org, push_service: LocalPushService, server_keys: VapidKeys
) -> None:
    phone, phone_id = await subscribe_device(client, push_service, server_keys, org.manager_a)
    r = await client.post("/api/push/subscriptions", json=phone.to_json(), headers=org.rep_a.headers)
    assert r.status_code == 201 and r.json()["id"] == str(phone_id)
    assert (await client.get("/api/push/subscriptions", headers=org.manager_a.headers)).json()["total"] == 0
    assert (await client.get("/api/push/subscriptions", headers=org.rep_a.headers)).json()["total"] == 1


async def test_unusable_subscriptions_are_refused_with_the_reason(
    client: httpx.AsyncClient, org: Org, push_service: LocalPushService, server_keys: VapidKeys
) -> None:
    good = push_service.subscribe(server_keys.application_server_key).to_json()
    cases = [
        ({**good, "endpoint": "http://push.example.com/x"}, 422, "https"),
        ({**good, "endpoint": "https://evil.example.com/push/1"}, 422, "FIELDCRM_PUSH_ENDPOINT_HOSTS"),
        ({**good, "keys": {"p256dh": "A" * 87, "auth": good["keys"]["auth"]}}, 422, "p256dh"),
        ({**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "A" * 30}}, 422, "auth"),
        ({"endpoint": good["endpoint"]}, 400, "keys"),
    ]
    for body, status, hint in cases:
        r = await client.post("/api/push/subscriptions", json=body, headers=org.rep_a.headers)
        assert r.status_code == status, (body, r.text)
        assert hint in r.text, r.text
    r = await client.post("/api/push/subscriptions", json=good)
    assert r.status_code == 401


async def test_preferences_default_then_saved_with_quiet_hours(client: httpx.AsyncClient, org: Org) -> None:
    r = await client.get("/api/push/preferences", headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "approvals": True,
        "slaWarnings": True,
        "assignments": True,
        "dailyDigest": False,
        "taskReminders": True,
        "quietHours": None,
        "timezone": "Asia/Shanghai",
    }
    wanted = {
        "approvals": True,
        "slaWarnings": False,
        "assignments": True,
        "dailyDigest": True,
        "taskReminders": False,
        "quietHours": {"start": "22:00", "end": "07:30"},
        "timezone": "Europe/Berlin",
    }
    r = await client.put("/api/push/preferences", json=wanted, headers=org.rep_a.headers)
    assert r.status_code == 200, r.text
    assert r.json() == wanted
    assert (await client.get("/api/push/preferences", headers=org.rep_a.headers)).json() == wanted
    # someone else's are untouched
    assert (await client.get("/api/push/preferences", headers=org.rep_b.headers)).json()["quietHours"] is None
    r = await client.put("/api/push/preferences", json={**wanted, "quietHours": None}, headers=org.rep_a.headers)
    assert r.json()["quietHours"] is None


async def test_bad_preferences_say_what_is_wrong(client: httpx.AsyncClient, org: Org) -> None:
    cases = [
        ({"timezone": "Mars/Olympus"}, 422, "timezone"),
        ({"quietHours": {"start": "22:00", "end": "22:00"}}, 422, "quietHours.end"),
        ({"quietHours": {"start": "25:00", "end": "07:00"}}, 400, "quietHours.start"),
        ({"approvals": "yes"}, 400, "approvals"),
    ]
    for body, status, field in cases:
        r = await client.put("/api/push/preferences", json=body, headers=org.rep_a.headers)
        assert r.status_code == status, (body, r.text)
        assert field in r.text, r.text
