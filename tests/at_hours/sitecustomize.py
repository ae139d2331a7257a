"""Loaded by tests/run_at_hours.sh only (PYTHONPATH): time.sleep that works under libfaketime.

libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 (needed: thread waits on a faked monotonic clock
never end) answers EINVAL to the absolute clock_nanosleep that CPython's time.sleep uses. A sleep through
select's relative timeout is the same wait for every test, and needs neither clock.
"""

import os
import select
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        select.select([], [], [], max(0.0, seconds))

    time.sleep = _sleep
