"""Fixtures of the task tests: a frozen clock, so nothing depends on the hour the suite runs."""

import datetime

import pytest

from fieldcrm.tasks import feed, ics, services

# 10:00 in Shanghai on a Friday: far from midnight in the business zone.
NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 12, 4)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime.datetime:
    """The tasks domain's clock stands at NOW."""
    monkeypatch.setattr(services, "utcnow", lambda: NOW)
    monkeypatch.setattr(ics, "utcnow", lambda: NOW)
    monkeypatch.setattr(feed, "utcnow", lambda: NOW)
    return NOW


def day(offset: int) -> str:
    """TODAY plus ``offset`` days, as the API writes dates."""
    return (TODAY + datetime.timedelta(days=offset)).isoformat()
