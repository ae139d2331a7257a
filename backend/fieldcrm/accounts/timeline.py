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
# Entities a source tells in its own words (e.g. "sales": opportunity, quote, case, project): the
# change log's raw rows about them ("quote wf.start") are left out of the merged timeline.
_covers: dict[str, frozenset[str]] = {}


def register(name: str, source: TimelineSource, *, covers: tuple[str, ...] = ()) -> None:
    """Add (or replace) a named timeline source; ``covers`` names the entities it describes itself."""
    _sources[name] = source
    _covers[name] = frozenset(covers)


def _covered_elsewhere(name: str, kind: str) -> bool:
    entity = kind.split(".", 1)[0]
    return any(entity in covered for other, covered in _covers.items() if other != name and other in _sources)


def sources() -> list[str]:
    """Names of the registered sources."""
    return sorted(_sources)


async def timeline(account_id: uuid.UUID, *, limit: int = 50) -> list[TimelineItem]:
    """The newest ``limit`` items from every source, newest first.

    Sources run one after another: inside a read transaction they share one connection.
    """
    items: list[TimelineItem] = []
    for name in sorted(_sources):
        found = await _sources[name](account_id, limit)
        items.extend(item for item in found if not _covered_elsewhere(name, item.kind))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]
