"""Fixtures of the push product tests: the local push service, the server's VAPID keys, a deliverer, helpers."""

import datetime
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fieldcrm.notifications import subscriptions
from fieldcrm.notifications.delivery import Deliverer
from fieldcrm.settings import get_settings
from fieldcrm_push import PushSender, VapidKeys
from tests.factories import Person
from tests.push.push_service import LocalPushService, LocalSubscription, local_push_service, push_service

__all__ = ["local_push_service", "push_service"]

SUBJECT = "mailto:ops@fieldcrm.test"


@pytest.fixture(autouse=True)
def loopback_push_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local push service listens on 127.0.0.1: allow it (production allows only real push services)."""
    monkeypatch.setenv("FIELDCRM_PUSH_ENDPOINT_HOSTS", "127.0.0.1,.googleapis.com")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FIELDCRM_PUSH_ENDPOINT_HOSTS")
    get_settings.cache_clear()


@pytest.fixture
def server_keys() -> Iterator[VapidKeys]:
    """The server's VAPID key pair for this test (as if `fieldcrm vapid` had made it)."""
    keys = VapidKeys.generate()
    subscriptions.use_vapid_keys(keys)
    yield keys
    subscriptions.use_vapid_keys(None)


class Clock:
    """The deliverer's now: real time plus what the test moved it by, or a time the test froze it at."""

    def __init__(self) -> None:
        self.offset = datetime.timedelta()
        self.frozen: datetime.datetime | None = None

    def __call__(self) -> datetime.datetime:
        return self.frozen or datetime.datetime.now(tz=datetime.UTC) + self.offset

    @property
    def now(self) -> datetime.datetime:
        return self()

    @now.setter
    def now(self, moment: datetime.datetime) -> None:
        self.frozen = moment

    def freeze(self) -> datetime.datetime:
        """Stop the clock where it is (after the test made its rows)."""
        self.frozen = self()
        return self.frozen

    def advance(self, seconds: float) -> None:
        if self.frozen is not None:
            self.frozen += datetime.timedelta(seconds=seconds)
        else:
            self.offset += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def deliverer(server_keys: VapidKeys, clock: Clock) -> AsyncIterator[Deliverer]:
    """A deliverer as the worker builds one, with 3 attempts before the dead letter and the test's clock."""
    d = Deliverer(PushSender(server_keys, subject=SUBJECT), max_attempts=3, lease_s=60, batch=100, clock=clock)
    yield d
    await d.aclose()


async def subscribe_device(
    client: httpx.AsyncClient,
    service: LocalPushService,
    keys: VapidKeys,
    person: Person,
    *,
    status: int = 201,
    retry_after: str | None = None,
) -> tuple[LocalSubscription, uuid.UUID]:
    """A browser of ``person`` subscribes at the local push service and registers through the API."""
    local = service.subscribe(keys.application_server_key, status=status, retry_after=retry_after)
    body: dict[str, Any] = {**local.to_json(), "userAgent": f"test browser {local.id[:6]}"}
    r = await client.post("/api/push/subscriptions", json=body, headers=person.headers)
    assert r.status_code == 201, r.text
    return local, uuid.UUID(r.json()["id"])


@dataclass
class Push:
    """The pieces a delivery test uses together."""

    service: LocalPushService
    keys: VapidKeys
    deliverer: Deliverer
    clock: Clock


@pytest.fixture
def push(push_service: LocalPushService, server_keys: VapidKeys, deliverer: Deliverer, clock: Clock) -> Push:
    return Push(service=push_service, keys=server_keys, deliverer=deliverer, clock=clock)
