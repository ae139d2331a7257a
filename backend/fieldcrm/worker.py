"""The background worker: periodic jobs that domains register (session clean-up now; outbox and SLA timers later).

Any number of workers may run against PostgreSQL; each job is written to be safe when two
workers run it at once. SIGTERM or SIGINT stops the loop after the job in progress.
"""

import asyncio
import contextlib
import logging
import pathlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fieldcrm.contracts import receivables, renewals
from fieldcrm.integrations import delivery as webhook_delivery
from fieldcrm.lib.db import close_engine, open_engine
from fieldcrm.notifications.delivery import deliver_due
from fieldcrm.notifications.digest import queue_daily_digests
from fieldcrm.ops import metrics
from fieldcrm.org.services import purge_expired_sessions
from fieldcrm.retention import episodes, scoring
from fieldcrm.sales.quotes import expire_due
from fieldcrm.settings import get_settings
from fieldcrm.tasks.reminders import send_due_reminders
from fieldcrm.workflow.services import purge_idempotency_keys, sla_scan

log = logging.getLogger("fieldcrm.worker")


@dataclass
class Job:
    """A job the worker runs every ``interval_s`` seconds."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]
    next_at: float = 0.0


async def _purge_sessions() -> object:
    return await purge_expired_sessions()


async def _workflow_timers() -> object:
    return await sla_scan()


async def _purge_decision_keys() -> object:
    return await purge_idempotency_keys()


async def _deliver_push() -> object:
    result = await deliver_due()
    metrics.observe_push_delivery(result)
    return result


async def _deliver_webhooks() -> object:
    return await webhook_delivery.deliver_due()


async def _contract_calendar() -> object:
    return await renewals.run_calendar()


async def _collection_tasks() -> object:
    return {"tasks": await receivables.open_collection_tasks(), **await receivables.settle_promises()}


async def _daily_digests() -> object:
    return await queue_daily_digests()


async def _expire_quotes() -> object:
    return await expire_due()


async def _retention() -> object:
    scored = await scoring.score_all()
    ran = await episodes.run()
    return {
        "bandChanges": scored.band_changes,
        "opened": ran.opened,
        "tasks": ran.tasks,
        "closed": ran.closed_lost + ran.closed_retained,
    }


async def _task_reminders() -> object:
    return await send_due_reminders()


def default_jobs() -> list[Job]:
    """The jobs every worker runs."""
    return [
        Job("purge expired sessions", 600, _purge_sessions),
        Job("workflow SLA timers", 60, _workflow_timers),
        Job("purge old decision keys", 3600, _purge_decision_keys),
        Job("expire quotes past their validity", 3600, _expire_quotes),
        Job("deliver push notifications", 1, _deliver_push),
        Job("deliver webhooks", 1, _deliver_webhooks),
        Job("contract calendar and renewals", 3600, _contract_calendar),
        Job("collection tasks and promises", 3600, _collection_tasks),
        Job("queue daily digests", 300, _daily_digests),
        Job("queue task reminders", 30, _task_reminders),
        Job("retention: score risks, open and match episodes (nightly)", 86400, _retention),
    ]


def _did_something(result: object) -> bool:
    """Whether a job's result reports work done (a non-zero count, or a summary with one)."""
    if result is None or isinstance(result, bool):
        return bool(result)
    if isinstance(result, int | float):
        return result != 0
    if isinstance(result, dict):
        return any(_did_something(v) for v in result.values())
    fields = getattr(result, "__struct_fields__", None) or getattr(result, "__dataclass_fields__", None)
    if fields:
        return any(_did_something(getattr(result, f)) for f in fields)
    return True


def _heartbeat() -> None:
    """Touch FIELDCRM_WORKER_HEARTBEAT after each turn: a container health check reads its age."""
    path = get_settings().worker_heartbeat
    if path:
        with contextlib.suppress(OSError):
            pathlib.Path(path).touch()


async def run_jobs(jobs: list[Job], stop: asyncio.Event, *, once: bool = False) -> None:
    """The loop: each job at its interval until ``stop`` is set (or each once)."""
    while not stop.is_set():
        now = time.monotonic()
        for job in jobs:
            if job.next_at <= now:
                try:
                    result = await job.run()
                    # A turn that found nothing to do is not news: a job running every second would flood the log.
                    log.log(logging.INFO if _did_something(result) else logging.DEBUG, "%s: %s", job.name, result)
                except Exception:
                    log.exception("%s failed; will retry at its next turn", job.name)
                job.next_at = now + job.interval_s
        _heartbeat()
        if once:
            break
        wait = max(0.5, min(j.next_at for j in jobs) - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)


async def run_worker(*, jobs: list[Job] | None = None, once: bool = False) -> None:
    """Run the jobs in a process of their own until SIGTERM or SIGINT (or each once, for tests and cron)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if get_settings().worker_metrics_port:  # the worker's own counters (push outcomes), on an internal port
        metrics.serve_worker_metrics(get_settings().worker_metrics_port)
    await open_engine()
    try:
        await run_jobs(jobs if jobs is not None else default_jobs(), stop, once=once)
    finally:
        await close_engine()
