"""Fixtures of the push tests: the local push service (shared with other test folders), VAPID keys, a sender."""

from collections.abc import AsyncIterator

import pytest

from fieldcrm_push import PushSender, VapidKeys
from tests.push.push_service import local_push_service, push_service

__all__ = ["local_push_service", "push_service"]

SUBJECT = "mailto:ops@fieldcrm.test"


@pytest.fixture(scope="session")
def vapid_keys() -> VapidKeys:
    return VapidKeys.generate()


@pytest.fixture
async def sender(vapid_keys: VapidKeys) -> AsyncIterator[PushSender]:
    async with PushSender(vapid_keys, subject=SUBJECT) as s:
        yield s


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """The library touches no table: skip emptying every table before each test (about 1 s a test on PostgreSQL)."""
