"""Reporting periods in the business time zone: a week, a month, a quarter or a custom range of days.

A period is a range of business days (``FIELDCRM_TIMEZONE``), first and last day included. Date
columns (a visit's day, a plan's day, an expected close) compare with the days; time columns (an
opportunity's creation, a quote's decision) compare with the UTC instants of local midnight at the
start of the first day and after the last day, so a visit or a win at 23:30 local on the last day of
a month counts in that month.
"""

import calendar
import dataclasses
import datetime
import zoneinfo
from typing import Literal

from fieldcrm.lib.errors import InvalidInput
from fieldcrm.settings import get_settings

PeriodKind = Literal["week", "month", "quarter", "custom"]
KINDS: tuple[str, ...] = ("week", "month", "quarter", "custom")
MAX_CUSTOM_DAYS = 400


@dataclasses.dataclass(frozen=True)
class Period:
    """A range of business days, both ends included."""

    kind: str
    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days + 1

    @property
    def after(self) -> datetime.date:
        """The first day after the period (the exclusive end for date comparisons)."""
        return self.end + datetime.timedelta(days=1)

    def utc_bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Local midnight before the first day and after the last day, in UTC (start inclusive, end exclusive)."""
        return utc_midnight(self.start), utc_midnight(self.after)

    def label(self) -> str:
        """A short name: 2026-W49, 2026-12, 2026-Q4 or 2026-12-01..2026-12-20."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def months(self) -> list[tuple[datetime.date, int]]:
        """The months the period touches, each as (first day of the month, days of the period in it)."""
        out: list[tuple[datetime.date, int]] = []
        day = self.start
        while day <= self.end:
            first = day.replace(day=1)
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
            stop = min(last, self.end)
            out.append((first, (stop - day).days + 1))
            day = stop + datetime.timedelta(days=1)
        return out


def utc_midnight(day: datetime.date) -> datetime.datetime:
    """The UTC instant at which ``day`` starts in the business time zone."""
    zone = zoneinfo.ZoneInfo(get_settings().timezone)
    return datetime.datetime.combine(day, datetime.time(), tzinfo=zone).astimezone(datetime.UTC)


def _month(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


def _shift_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def containing(kind: str, at: datetime.date) -> Period:
    """The week (Monday to Sunday), month or quarter that holds ``at``."""
    if kind == "week":
        start = at - datetime.timedelta(days=at.weekday())
        return Period("week", start, start + datetime.timedelta(days=6))
    if kind == "month":
        return Period("month", *_month(at.year, at.month))
    if kind == "quarter":
        first = (at.month - 1) // 3 * 3 + 1
        return Period("quarter", datetime.date(at.year, first, 1), _month(at.year, first + 2)[1])
    msg = f"period is one of {', '.join(KINDS)}, not {kind}"
    raise InvalidInput(msg, field="period")


def resolve(
    kind: str, at: datetime.date, start: datetime.date | None = None, end: datetime.date | None = None
) -> Period:
    """The period a request asks for: ``kind`` holding ``at``, or ``from``..``to`` for a custom range."""
    if kind != "custom":
        return containing(kind, at)
    if start is None or end is None:
        msg = "a custom period needs from and to (YYYY-MM-DD, both days included)"
        raise InvalidInput(msg, field="from" if start is None else "to")
    if end < start:
        msg = f"to ({end}) is before from ({start})"
        raise InvalidInput(msg, field="to")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        msg = f"a custom period is at most {MAX_CUSTOM_DAYS} days; split the range"
        raise InvalidInput(msg, field="to")
    return Period("custom", start, end)


def previous(period: Period) -> Period:
    """The period just before: the week, month or quarter before, or a range as long ending the day before."""
    if period.kind in {"week", "month", "quarter"}:
        return containing(period.kind, period.start - datetime.timedelta(days=1))
    end = period.start - datetime.timedelta(days=1)
    return Period("custom", end - datetime.timedelta(days=period.days - 1), end)


def year_before(period: Period) -> Period:
    """The same period a year earlier: the same ISO week of the year before, the same month or quarter, same days."""
    if period.kind == "week":
        year, week, _ = period.start.isocalendar()
        try:
            start = datetime.date.fromisocalendar(year - 1, week, 1)
        except ValueError:  # week 53 of a year whose predecessor had 52
            start = datetime.date.fromisocalendar(year - 1, 52, 1)
        return Period("week", start, start + datetime.timedelta(days=6))
    if period.kind in {"month", "quarter"}:
        return containing(period.kind, _shift_months(period.start, -12))
    return Period("custom", _shift_months(period.start, -12), _shift_months(period.end, -12))


def trend(period: Period, count: int = 12) -> list[Period]:
    """``count`` consecutive periods ending with ``period``, oldest first."""
    out = [period]
    while len(out) < count:
        out.append(previous(out[-1]))
    return out[::-1]


def parse_month(value: str) -> datetime.date:
    """``YYYY-MM`` as the month's first day; anything else is a 422 naming ``month``."""
    try:
        year, month = (int(p) for p in value.split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        msg = f"month is YYYY-MM (e.g. 2026-12), not {value!r}"
        raise InvalidInput(msg, field="month") from None
