"""The local push service checks what real push services check, and decrypts RFC 8291's own example.

A checker that cannot fail proves nothing: these requests are built by hand, each wrong in one way.
"""

import time
from collections.abc import Callable

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from fieldcrm_push import Message, PushSender, Subscription, VapidKeys, b64url_decode, b64url_encode
from fieldcrm_push.keys import public_key_bytes
from tests.push.conftest import SUBJECT
from tests.push.push_service import LocalPushService, LocalSubscription

# RFC 8291, Appendix A: the keys, salt and secret of the worked example, and the message it gives.
RFC_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_AS_PUBLIC = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_UA_PUBLIC = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_AUTH_SECRET = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEq"
    "KK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)


def _private(raw_b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64url_decode(raw_b64), "big"), ec.SECP256R1())


def rfc_subscription(service: LocalPushService, application_server_key: str) -> LocalSubscription:
    return service.add(
        LocalSubscription(
            id="rfc8291",
            endpoint=f"{service.origin}/push/rfc8291",
            private_key=_private(RFC_UA_PRIVATE),
            auth_secret=b64url_decode(RFC_AUTH_SECRET),
            application_server_key=application_server_key,
        )
    )


def test_the_rfc_keys_are_the_rfc_keys() -> None:
    assert b64url_encode(public_key_bytes(_private(RFC_UA_PRIVATE).public_key())) == RFC_UA_PUBLIC
    assert b64url_encode(public_key_bytes(_private(RFC_AS_PRIVATE).public_key())) == RFC_AS_PUBLIC


async def test_the_rfc_8291_worked_example_decrypts_to_its_plaintext(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys
) -> None:
    sub = rfc_subscription(push_service, vapid_keys.application_server_key)
    headers = sender.headers(
        Subscription(endpoint=sub.endpoint, p256dh=RFC_UA_PUBLIC, auth=RFC_AUTH_SECRET), Message(b"-", ttl=60)
    )

    async with httpx.AsyncClient() as client:
        response = await client.post(sub.endpoint, content=b64url_decode(RFC_BODY), headers=headers)

    assert response.status_code == 201, response.text
    [delivery] = push_service.deliveries_to(sub)
    assert delivery.plaintext == RFC_PLAINTEXT


def test_the_encryption_pywebpush_uses_gives_the_rfc_bytes() -> None:
    # pywebpush's WebPusher.encode calls exactly this with a fresh key and salt; given the RFC's, it must
    # produce the RFC's message byte for byte.
    body = http_ece.encrypt(
        RFC_PLAINTEXT,
        salt=b64url_decode(RFC_SALT),
        private_key=_private(RFC_AS_PRIVATE),
        dh=b64url_decode(RFC_UA_PUBLIC),
        auth_secret=b64url_decode(RFC_AUTH_SECRET),
        version="aes128gcm",
    )

    assert b64url_encode(body) == RFC_BODY


def _token(key: ec.EllipticCurvePrivateKey, *, aud: str, exp: float, sub: str = SUBJECT) -> str:
    return str(Vapid02(key).sign({"aud": aud, "exp": int(exp), "sub": sub})["Authorization"])


def _flip_signature(authorization: str) -> str:
    token, _, rest = authorization.partition(",")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    return f"{flipped},{rest}"


Tamper = Callable[[dict[str, str], bytes, LocalPushService, VapidKeys], tuple[dict[str, str], bytes]]

CASES: dict[str, tuple[Tamper, int, str]] = {
    "no Authorization": (lambda h, b, s, k: ({n: v for n, v in h.items() if n != "Authorization"}, b), 401, "missing"),
    "bad signature": (
        lambda h, b, s, k: ({**h, "Authorization": _flip_signature(h["Authorization"])}, b),
        401,
        "verify",
    ),
    "signed by another key than k": (
        lambda h, b, s, k: (
            {
                **h,
                "Authorization": _token(
                    ec.generate_private_key(ec.SECP256R1()), aud=s.origin, exp=time.time() + 3600
                ).split(",")[0]
                + ",k="
                + k.application_server_key,
            },
            b,
        ),
        401,
        "verify",
    ),
    "wrong aud": (
        lambda h, b, s, k: (
            {**h, "Authorization": _token(k.private_key, aud="https://fcm.googleapis.com", exp=time.time() + 3600)},
            b,
        ),
        401,
        "aud",
    ),
    "expired exp": (
        lambda h, b, s, k: ({**h, "Authorization": _token(k.private_key, aud=s.origin, exp=time.time() - 10)}, b),
        401,
        "expired",
    ),
    "exp over 24 h ahead": (
        lambda h, b, s, k: (
            {**h, "Authorization": _token(k.private_key, aud=s.origin, exp=time.time() + 25 * 3600)},
            b,
        ),
        401,
        "24 hours",
    ),
    "another application server key": (
        lambda h, b, s, k: (
            {**h, "Authorization": _token(VapidKeys.generate().private_key, aud=s.origin, exp=time.time() + 60)},
            b,
        ),
        403,
        "application server key",
    ),
    "no TTL": (lambda h, b, s, k: ({n: v for n, v in h.items() if n != "TTL"}, b), 400, "missing TTL"),
    "TTL 0": (lambda h, b, s, k: ({**h, "TTL": "0"}, b), 400, "TTL must be a positive"),
    "bad Urgency": (lambda h, b, s, k: ({**h, "Urgency": "urgent"}, b), 400, "Urgency"),
    "Topic too long": (lambda h, b, s, k: ({**h, "Topic": "a" * 33}, b), 400, "Topic"),
    "body over 4 KB": (lambda h, b, s, k: (h, b + bytes(4096)), 413, "more than 4096"),
    "tampered body": (lambda h, b, s, k: (h, b[:-1] + bytes([b[-1] ^ 1])), 400, "cannot decrypt"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_service_refuses_a_request_wrong_in_one_way(
    push_service: LocalPushService, sender: PushSender, vapid_keys: VapidKeys, case: str
) -> None:
    tamper, status, reason = CASES[case]
    sub = push_service.subscribe(vapid_keys.application_server_key)
    target = Subscription.from_json(sub.to_json())
    message = Message({"x": 1}, ttl=60)
    body, headers = sender.encrypt(target, message.data), sender.headers(target, message)

    async with httpx.AsyncClient() as client:
        untouched = await client.post(sub.endpoint, content=body, headers=headers)
        assert untouched.status_code == 201  # the request is right before it is spoiled
        bad_headers, bad_body = tamper(headers, body, push_service, vapid_keys)
        response = await client.post(sub.endpoint, content=bad_body, headers=bad_headers)

    assert response.status_code == status
    assert reason in response.text
    assert len(push_service.deliveries_to(sub)) == 1
    [refusal] = push_service.refusals_to(sub)
    assert refusal.status == status
