"""The background worker: periodic jobs that domains register (session clean-up now; outbox and SLA timers later).

Any number of workers may run against PostgreSQL; each job is written to be safe when two
workers run it at once. SIGTERM or SIGINT stops the loop after the job in progress.
"""

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fieldcrm.lib.db import close_engine, open_engine
from fieldcrm.org.services import purge_expired_sessions

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


def default_jobs() -> list[Job]:
    """The jobs every worker runs."""
    return [Job("purge expired sessions", 600, _purge_sessions)]


async def run_worker(*, jobs: list[Job] | None = None, once: bool = False) -> None:
    """Run the jobs until stopped (or each once, for tests and cron)."""
    jobs = jobs if jobs is not None else default_jobs()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await open_engine()
    try:
        while not stop.is_set():
            now = time.monotonic()
            for job in jobs:
                if job.next_at <= now:
                    try:
                        result = await job.run()
                        log.info("%s: %s", job.name, result)
                    except Exception:
                        log.exception("%s failed; will retry at its next turn", job.name)
                    job.next_at = now + job.interval_s
            if once:
                break
            wait = max(0.5, min(j.next_at for j in jobs) - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
    finally:
        await close_engine()
