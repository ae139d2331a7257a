"""Offline mutations of cases (docs/sync.md): the sync registry takes these alongside its own."""

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from fieldcrm.cases import services
from fieldcrm.cases.schemas import CaseCreate
from fieldcrm.org.schemas import Actor


class CaseCreateArgs(CaseCreate, kw_only=True):
    """case.create: a complaint, fault or service request opened on the phone, with its client-made id."""


async def _case_create(actor: Actor, args: CaseCreateArgs, mutation: Any) -> None:
    fields = {f: getattr(args, f) for f in CaseCreate.__struct_fields__}
    # The case is due by its priority's SLA from when it arrives: the SLA is the team's promise, kept from then on.
    del mutation
    await services.create_case(actor=actor, data=CaseCreate(**fields))


Handler = Callable[[Actor, Any, Any], Awaitable[None]]

MUTATIONS: dict[str, tuple[type[msgspec.Struct], Handler]] = {
    "case.create": (CaseCreateArgs, _case_create),
}
