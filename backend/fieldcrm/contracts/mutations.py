"""Offline mutations of collections (docs/sync.md): the sync registry takes these alongside its own."""

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from fieldcrm.contracts import receivables
from fieldcrm.contracts.schemas import CollectionCreate
from fieldcrm.org.schemas import Actor


class CollectionRecordArgs(CollectionCreate, kw_only=True):
    """collection.record: a collection contact made on the device, with its client-made id."""


Result = dict[str, Any] | None


async def _collection_record(actor: Actor, args: CollectionRecordArgs, _: Any) -> Result:
    fields = {f: getattr(args, f) for f in CollectionCreate.__struct_fields__}
    await receivables.record_collection(actor=actor, data=CollectionCreate(**fields))
    return None


Handler = Callable[[Actor, Any, Any], Awaitable[Result]]

MUTATIONS: dict[str, tuple[type[msgspec.Struct], Handler]] = {
    "collection.record": (CollectionRecordArgs, _collection_record),
}
