"""The account timeline: each capability registers a source; the 360 view merges them.

A source is an async function ``(account_id, limit) -> list[TimelineItem]`` returning its newest
items first. Visits, opportunities, quotes, cases and tasks register theirs when their domains
load, without any change here.
"""

import uuid
from collections.abc import Awaitable, Callable

from fieldcrm.accounts.schemas import TimelineItem

TimelineSource = Callable[[uuid.UUID, int], Awaitable[list[TimelineItem]]]

_sources: dict[str, TimelineSource] = {}


def register(name: str, source: TimelineSource) -> None:
    """Add (or replace) a named timeline source."""
    _sources[name] = source


def sources() -> list[str]:
    """Names of the registered sources."""
    return sorted(_sources)


async def timeline(account_id: uuid.UUID, *, limit: int = 50) -> list[TimelineItem]:
    """The newest ``limit`` items from every source, newest first.

    Sources run one after another: inside a read transaction they share one connection.
    """
    items: list[TimelineItem] = []
    for name in sorted(_sources):
        items.extend(await _sources[name](account_id, limit))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]
