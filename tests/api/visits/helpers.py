"""Shared steps of the field-work tests: places, check-ins through the API."""

import datetime
import uuid
from typing import Any

from geopy.distance import geodesic

JINAN = (36.6512, 117.1201)


def now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def offset(point: tuple[float, float], metres: float, bearing: float = 90.0) -> tuple[float, float]:
    """The point ``metres`` away from ``point`` towards ``bearing`` (degrees from north)."""
    destination = geodesic(meters=metres).destination(point, bearing)
    return destination.latitude, destination.longitude


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


async def check_in(
    client: Any,
    person: Any,
    account_id: uuid.UUID,
    position: tuple[float, float] | None,
    *,
    accuracy: float | None = 20.0,
    at: datetime.datetime | None = None,
    fix_age_s: float = 3.0,
    sent_at: datetime.datetime | None = None,
    expect: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    """Check in through the API and return the visit."""
    at = at or now()
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "accountId": str(account_id), "deviceAt": iso(at), **extra}
    # The phone sends now (a past ``at`` is a check-in queued offline until now).
    body["sentAt"] = iso(sent_at or now())
    if position is not None:
        body |= {"latitude": position[0], "longitude": position[1]}
        if accuracy is not None:
            body["accuracyM"] = accuracy
        body["fixAt"] = iso(at - datetime.timedelta(seconds=fix_age_s))
    r = await client.post("/api/checkins", json=body, headers=person.headers)
    assert r.status_code == expect, r.text
    return r.json()


def flag_codes(visit: dict[str, Any]) -> set[str]:
    return {f["code"] for f in visit["flags"]}
