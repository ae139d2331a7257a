#!/bin/sh
# Run the time-sensitive tests with the system clock faked to several hours of the day (libfaketime),
# to prove no test depends on when it runs. By hand, not in CI:  sh tests/run_at_hours.sh [pytest args]
# Needs Debian's faketime (apt-get install -y faketime). SQLite only: a PostgreSQL server keeps its own clock.
# The hours: around UTC midnight, around midnight in Asia/Shanghai (16:00 UTC, the business day turns),
# quiet hours (22:00-07:00 Shanghai), a working morning and an afternoon; a month's and a year's last day.
set -eu
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "install faketime first: apt-get install -y faketime" >&2; exit 2; }
PYTHON=${PYTHON:-.venv/bin/python}
TESTS=${TESTS:-"tests/notifications tests/api/visits tests/workflow tests/sales tests/tasks tests/cases tests/sync/test_protocol.py"}
MOMENTS=${MOMENTS:-"2026-12-04 23:30:00|2026-12-05 00:10:00|2026-12-04 15:50:00|2026-12-04 16:05:00|2026-12-04 02:10:00|2026-12-04 07:30:00|2026-11-30 16:30:00|2026-12-31 23:50:00"}
failed=""
IFS='|'
for moment in $MOMENTS; do
    unset IFS
    echo "== system clock at $moment UTC"
    # An offset from now rather than "@moment": with "@" each process starts its clock at the moment, so a
    # worker the tests start later would live in the past of the tests that started it.
    offset=$(( $(date -u -d "$moment" +%s) - $(date -u +%s) ))
    case $offset in -*) ;; *) offset="+$offset" ;; esac
    # The monotonic clock stays real (thread waits and asyncio measure intervals with it); time.sleep goes
    # through tests/at_hours/sitecustomize.py, since libfaketime breaks CPython's sleep in that mode.
    # shellcheck disable=SC2086
    if ! TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH="tests/at_hours${PYTHONPATH:+:$PYTHONPATH}" \
        faketime -f "$offset" env -u DATABASE_URL "$PYTHON" -m pytest $TESTS -q -p no:cacheprovider "$@"; then
        failed="$failed
  $moment"
    fi
    IFS='|'
done
unset IFS
if [ -n "$failed" ]; then
    echo "failed at:$failed" >&2
    exit 1
fi
echo "passed at every moment"
