"""The server's judgement of a check-in (docs/architecture.md section 6): a verdict, and flags for review.

A web page cannot prove where a phone is; these checks are the evidence. Everything here is pure:
the service gathers the claim, the account's pin, the person's previous check-in and the thresholds,
and stores what this module decides.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from geopy.distance import geodesic

from fieldcrm.settings import Settings


@dataclass(frozen=True)
class Claim:
    """What the phone says, with its clock corrected by the measured skew where noted."""

    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    fix_at: datetime.datetime | None  # device clock
    device_at: datetime.datetime  # device clock, when the rep tapped check in
    skew_s: float  # device clock minus server clock, measured when the claim was sent

    @property
    def located(self) -> bool:
        """Whether the claim carries a position."""
        return self.position is not None

    @property
    def position(self) -> tuple[float, float] | None:
        """(latitude, longitude) when the claim carries both."""
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    @property
    def at(self) -> datetime.datetime:
        """When it happened on the server's clock: the fix time if any, else the tap, less the skew."""
        return (self.fix_at or self.device_at) - datetime.timedelta(seconds=self.skew_s)


@dataclass(frozen=True)
class Site:
    """Where the account is, if known, and how far from it a visit still counts."""

    latitude: float | None
    longitude: float | None
    radius_m: float


@dataclass(frozen=True)
class Previous:
    """One of the same person's other located check-ins: the one before this one in time, or the one after."""

    latitude: float
    longitude: float
    accuracy_m: float
    at: datetime.datetime
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class Thresholds:
    """The configurable limits (settings ``FIELDCRM_CHECKIN_*``)."""

    low_accuracy_m: float = 150
    max_speed_kmh: float = 250
    max_speed_short_kmh: float = 150
    short_leg_km: float = 300
    stale_fix_s: float = 120
    clock_skew_s: float = 300

    @classmethod
    def from_settings(cls, settings: Settings) -> "Thresholds":
        """The thresholds this process was configured with."""
        return cls(
            low_accuracy_m=settings.checkin_low_accuracy_m,
            max_speed_kmh=settings.checkin_max_speed_kmh,
            max_speed_short_kmh=settings.checkin_max_speed_short_kmh,
            short_leg_km=settings.checkin_short_leg_km,
            stale_fix_s=settings.checkin_stale_fix_s,
            clock_skew_s=settings.checkin_clock_skew_s,
        )


@dataclass
class Judgement:
    """The verdict, the distance to the account and the flags for review."""

    verdict: str
    distance_m: float | None
    flags: list[dict[str, str]] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        """Anything short of a clean verified check-in goes to the manager's queue."""
        return self.verdict != "verified" or bool(self.flags)


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Geodesic distance in metres (WGS84)."""
    return float(geodesic((a_lat, a_lon), (b_lat, b_lon)).meters)


def _verdict(claim: Claim, site: Site, limits: Thresholds) -> tuple[str, float | None]:
    position = claim.position
    if position is None:
        return "unverified", None
    distance = None
    if site.latitude is not None and site.longitude is not None:
        distance = distance_m(*position, site.latitude, site.longitude)
    accuracy = claim.accuracy_m if claim.accuracy_m is not None else limits.low_accuracy_m + 1
    if accuracy > limits.low_accuracy_m:
        return "low_accuracy", distance
    if distance is None:
        return "unverified", None  # the account has no pin yet: the check-in may propose one
    if distance <= site.radius_m + accuracy:
        return "verified", distance
    return "out_of_range", distance


def _speed_flag(
    claim: Claim, other: Previous | None, limits: Thresholds, which: str = "previous"
) -> dict[str, str] | None:
    """The impossible-travel flag between the claim and another check-in (``which`` names it), or None."""
    position = claim.position
    if other is None or position is None:
        return None
    leg_m = distance_m(other.latitude, other.longitude, *position)
    # Give the phone the benefit of both fixes' uncertainty before calling the move impossible.
    slack_m = (claim.accuracy_m or 0) + other.accuracy_m
    moved_m = max(0.0, leg_m - slack_m)
    hours = abs((claim.at - other.at).total_seconds()) / 3600
    limit = limits.max_speed_short_kmh if leg_m / 1000 < limits.short_leg_km else limits.max_speed_kmh
    if moved_m == 0:
        return None
    speed = moved_m / 1000 / hours if hours > 0 else float("inf")
    if speed <= limit:
        return None
    minutes = hours * 60
    return {
        "code": "impossible_travel",
        "detail": f"{leg_m / 1000:.1f} km from the {which} check-in in {minutes:.0f} min "
        f"({'instantly' if hours == 0 else f'{speed:.0f} km/h'}; limit {limit:.0f} km/h)",
    }


def pair_flags(
    claim: Claim, previous: Previous | None, following: Previous | None, limits: Thresholds
) -> list[tuple[Previous, dict[str, str]]]:
    """The neighbours (by fix time) this claim makes an impossible pair with, each with the flag *it* gets.

    A pair that no one could travel is doubtful on both ends: either check-in may be the false one,
    and a late arrival (an offline queue, a second device) may be the earlier of the two.
    """
    pairs = []
    for other, which in ((previous, "later"), (following, "earlier")):
        if other is None or other.id is None:
            continue
        flag = _speed_flag(claim, other, limits, which)
        if flag is not None:
            pairs.append((other, flag))
    return pairs


def judge(
    claim: Claim, site: Site, previous: Previous | None, limits: Thresholds, following: Previous | None = None
) -> Judgement:
    """The verdict of a check-in and its flags (repeated coordinates are checked against stored ones separately).

    ``previous`` and ``following`` are the person's located check-ins just before and just after this one
    by fix time: a check-in that arrives late is judged against both sides.
    """
    verdict, distance = _verdict(claim, site, limits)
    judgement = Judgement(verdict=verdict, distance_m=distance)
    for other, which in ((previous, "previous"), (following, "next")):
        speed = _speed_flag(claim, other, limits, which)
        if speed:
            judgement.flags.append(speed)
    if claim.fix_at is not None:
        age = (claim.device_at - claim.fix_at).total_seconds()
        if age > limits.stale_fix_s:
            judgement.flags.append(
                {"code": "stale_fix", "detail": f"the position was {age:.0f} s old when the rep checked in"}
            )
    if abs(claim.skew_s) > limits.clock_skew_s:
        ahead = "ahead of" if claim.skew_s > 0 else "behind"
        judgement.flags.append(
            {
                "code": "clock_skew",
                "detail": f"the phone's clock was {abs(claim.skew_s) / 60:.0f} min {ahead} the server's",
            }
        )
    return judgement


def repeated_flag(count: int) -> dict[str, str]:
    """The flag for coordinates identical to other check-ins on other days or at other accounts."""
    return {
        "code": "repeated_coordinates",
        "detail": f"exactly the same coordinates as {count} other check-in{'s' if count != 1 else ''} "
        "on another day or at another account",
    }
