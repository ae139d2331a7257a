"""Push endpoints: exact push-service hosts on https port 443, a parsed and normalised URL, a cap per user."""

import base64
import secrets

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fieldcrm.notifications.tables import PushSubscription
from fieldcrm.settings import get_settings
from tests.factories import Org

SUBSCRIPTIONS = "/api/push/subscriptions"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _subscription(endpoint: str) -> dict[str, object]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"endpoint": endpoint, "keys": {"p256dh": _b64(point), "auth": _b64(secrets.token_bytes(16))}}


REFUSED = [
    "https://attacker-bucket.storage.googleapis.com/x",  # a suffix match would take any googleapis.com host
    "https://googleapis.com/x",
    "https://fcm.googleapis.com:8301/x",
    "https://fcm.googleapis.com:80/x",
    "https://fcm.googleapis.com%2f.attacker.example/x",
    "https://fcm.googleapis.com%2F@attacker.example/x",
    "https://fcm.googleapis.com%00.attacker.example/x",
    "https://attacker.example\\@fcm.googleapis.com/x",
    "https://attacker.example\\.fcm.googleapis.com/x",
    "https://user:pw@fcm.googleapis.com/x",
    "https://fcm.googleapis.com@attacker.example/x",
    "https://fcm.googleapis.com.attacker.example/x",
    "http://fcm.googleapis.com/x",
    "https://fcm.googleapis.com /x",
    "https://a.b.notify.windows.com/w/?token=x",  # one label only under a wildcard
    "https://127.0.0.1/x",
    "https://[::1]/x",
]


@pytest.mark.parametrize("endpoint", REFUSED)
async def test_an_endpoint_off_the_allow_list_is_refused(client: httpx.AsyncClient, org: Org, endpoint: str) -> None:
    r = await client.post(SUBSCRIPTIONS, json=_subscription(endpoint), headers=org.rep_a.headers)
    assert r.status_code in (400, 422), r.text
    assert r.json()["detail"]
    assert await PushSubscription.count() == 0


@pytest.mark.parametrize(
    ("endpoint", "stored"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc:def", "https://fcm.googleapis.com/fcm/send/abc:def"),
        ("https://FCM.GoogleAPIs.com./fcm/send/abc", "https://fcm.googleapis.com/fcm/send/abc"),
        ("https://fcm.googleapis.com:443/fcm/send/abc", "https://fcm.googleapis.com/fcm/send/abc"),
        (
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
        ),
        ("https://web.push.apple.com/QGk_ZJ", "https://web.push.apple.com/QGk_ZJ"),
        (
            "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA%2bq%2fZ%3d",
            "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA%2bq%2fZ%3d",
        ),
    ],
)
async def test_a_real_push_service_is_taken_and_stored_normalised(
    client: httpx.AsyncClient, org: Org, endpoint: str, stored: str
) -> None:
    r = await client.post(SUBSCRIPTIONS, json=_subscription(endpoint), headers=org.rep_a.headers)
    assert r.status_code == 201, r.text
    row = await PushSubscription.select(PushSubscription.endpoint).first()
    assert row is not None and row["endpoint"] == stored


async def test_a_person_has_a_bounded_number_of_devices(client: httpx.AsyncClient, org: Org) -> None:
    cap = get_settings().push_max_devices
    bodies = [_subscription(f"https://fcm.googleapis.com/fcm/send/device-{i}") for i in range(cap + 1)]
    for body in bodies[:cap]:
        assert (await client.post(SUBSCRIPTIONS, json=body, headers=org.rep_a.headers)).status_code == 201
    r = await client.post(SUBSCRIPTIONS, json=bodies[cap], headers=org.rep_a.headers)
    assert r.status_code == 409 and str(cap) in r.json()["detail"], r.text
    # the same browser subscribing again is an update, not a new device
    assert (await client.post(SUBSCRIPTIONS, json=bodies[0], headers=org.rep_a.headers)).status_code == 201
    # someone else is not limited by rep A's devices
    assert (await client.post(SUBSCRIPTIONS, json=bodies[cap], headers=org.rep_b.headers)).status_code == 201
    assert await PushSubscription.count().where(PushSubscription.user == org.rep_a.id) == cap
