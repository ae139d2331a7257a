"""Offline mutations of tasks (docs/tasks.md): the sync registry takes these alongside its own.

Each calls the same service as its REST twin. A handler returns None, or extra fields for the
mutation's result (``conflicts``, ``code``, ``message``) when the server could apply a change only in part.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from fieldcrm.lib.merges import conflict_result
from fieldcrm.org.schemas import Actor
from fieldcrm.tasks import services
from fieldcrm.tasks.schemas import Reason, TaskComplete, TaskCreate, TaskPatch, TaskSkip


class TaskCreateArgs(TaskCreate, kw_only=True):
    """task.create: the task's fields with its client-made id."""


class TaskUpdateArgs(msgspec.Struct, rename="camel", kw_only=True):
    """task.update: only the changed fields, and the version they were made on."""

    id: uuid.UUID
    changes: TaskPatch
    base_version: int | None = None


class TaskCompleteArgs(msgspec.Struct, rename="camel", kw_only=True):
    """task.complete: done on the device, with the outcome."""

    id: uuid.UUID
    outcome: str = ""


class TaskSkipArgs(msgspec.Struct, rename="camel", kw_only=True):
    """task.skip: skipped on the device, with the reason."""

    id: uuid.UUID
    reason: Reason = ""


Result = dict[str, Any] | None


async def _create(actor: Actor, args: TaskCreateArgs, _: Any) -> Result:
    fields = {f: getattr(args, f) for f in TaskCreate.__struct_fields__}
    await services.create_task(actor=actor, data=TaskCreate(**fields))
    return None


async def _update(actor: Actor, args: TaskUpdateArgs, _: Any) -> Result:
    changes = args.changes
    if args.base_version is not None:
        changes = msgspec.structs.replace(changes, base_version=args.base_version)
    _, conflicts = await services.merge_task(actor=actor, task_id=args.id, data=changes)
    return conflict_result(conflicts)


async def _complete(actor: Actor, args: TaskCompleteArgs, _: Any) -> Result:
    await services.complete_task(actor=actor, task_id=args.id, data=TaskComplete(outcome=args.outcome[:4000]))
    return None


async def _skip(actor: Actor, args: TaskSkipArgs, _: Any) -> Result:
    await services.skip_task(actor=actor, task_id=args.id, data=TaskSkip(reason=args.reason))
    return None


Handler = Callable[[Actor, Any, Any], Awaitable[Result]]

MUTATIONS: dict[str, tuple[type[msgspec.Struct], Handler]] = {
    "task.create": (TaskCreateArgs, _create),
    "task.update": (TaskUpdateArgs, _update),
    "task.complete": (TaskCompleteArgs, _complete),
    "task.skip": (TaskSkipArgs, _skip),
}
