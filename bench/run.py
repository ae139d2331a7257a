"""The fieldcrm bench: seed, serve, load, measure; on SQLite and PostgreSQL; prints a table.

    python bench/run.py [--accounts 100000] [--db sqlite|postgres|both] [--runs 3] [--duration 5]

For each database it seeds the demo company into a bench database of its own (a SQLite file
under bench/results/, or the ``fieldcrm_bench`` PostgreSQL database), counts the SQL statements
of each measured endpoint in-process, starts ``fieldcrm serve`` on 127.0.0.1 (one worker), and
runs the load generator (bench/load.py) in a separate process ``--runs`` times, with the bare
single-row engine write (bench/inprocess.py) as the write baseline. It prints medians over the
runs next to the targets and writes everything to bench/results/latest.json.
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
PG_BENCH_DB = "fieldcrm_bench"
SEED = 42
TARGETS = {
    "latency_p99_ms": 50.0,  # one user: list, search, 360
    "page_rps": 400.0,  # a 20-account page, concurrent clients
    "rss_mb": 200.0,  # the API process
    "sqlite_write_p99_ms": 100.0,  # single-row write, 16 concurrent clients, WAL + synchronous=FULL
}
LATENCY_ENDPOINTS = ("list", "search_common", "search_rare", "overview")
ROLES = ("rep", "manager", "hq")


def log(message: str) -> None:
    print(f"[bench {datetime.datetime.now(datetime.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def fieldcrm_bin() -> str:
    found = shutil.which("fieldcrm") or str(Path(sys.executable).with_name("fieldcrm"))
    if not Path(found).exists():
        msg = "the fieldcrm command is not installed; activate the venv (. .venv/bin/activate)"
        raise SystemExit(msg)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_json(args: list[str], env: dict[str, str], timeout: float) -> Any:
    """Run a bench helper (python -m bench.x) and parse the JSON it prints."""
    completed = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        msg = f"{' '.join(args)} failed ({completed.returncode}):\n{completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    return json.loads(completed.stdout)


# ---------------------------------------------------------------- databases


async def recreate_pg_database(admin_url: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    finally:
        await connection.close()
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{PG_BENCH_DB}"


def database_url(db: str, args: argparse.Namespace) -> str:
    if db == "sqlite":
        return f"sqlite:///{RESULTS / 'bench.db'}"
    return f"{args.pg_url.rsplit('/', 1)[0]}/{PG_BENCH_DB}"


def prepare_database(db: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """A fresh bench database holding the demo company (or the previous one with --keep-data)."""
    marker = RESULTS / f"seeded-{db}.json"
    wanted = {"accounts": args.accounts, "seed": SEED}
    if args.keep_data and marker.exists() and json.loads(marker.read_text()).get("params") == wanted:
        log(f"{db}: keeping the seeded database ({marker.name})")
        return dict(json.loads(marker.read_text()))
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{RESULTS / 'bench.db'}{suffix}").unlink(missing_ok=True)
    else:
        asyncio.run(recreate_pg_database(args.pg_url))
    log(f"{db}: seeding {args.accounts} accounts (fieldcrm demo)")
    started = time.monotonic()
    completed = subprocess.run(
        [fieldcrm_bin(), "demo", "--accounts", str(args.accounts), "--seed", str(SEED)],
        cwd=RESULTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if completed.returncode != 0:
        msg = f"fieldcrm demo failed:\n{completed.stderr[-3000:]}"
        raise RuntimeError(msg)
    seeded = {
        "params": wanted,
        "seconds": round(time.monotonic() - started, 1),
        "summary": completed.stdout.strip().splitlines()[-1],
    }
    marker.write_text(json.dumps(seeded, ensure_ascii=False))
    log(f"{db}: seeded in {seeded['seconds']}s")
    return seeded


# ---------------------------------------------------------------- the server


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


@contextlib.contextmanager
def server(env: dict[str, str], log_path: Path) -> Iterator[tuple[int, int]]:
    """``fieldcrm serve`` on a free port of 127.0.0.1, one worker; yields (pid, port) once /health answers."""
    import httpx

    port = free_port()
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [fieldcrm_bin(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            cwd=RESULTS,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    msg = f"the server exited ({process.returncode}); see {log_path}"
                    raise RuntimeError(msg)
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    msg = f"the server did not answer /health within 60 s; see {log_path}"
                    raise RuntimeError(msg)
                time.sleep(0.2)
            yield process.pid, port
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# ---------------------------------------------------------------- one database


def bench_database(db: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db, args),
        "PICCOLO_CONF": "fieldcrm.piccolo_conf",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }
    result: dict[str, Any] = {"database_url": env["DATABASE_URL"], "seed": prepare_database(db, args, env)}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    log(f"{db}: counting SQL statements per endpoint")
    result["queries"] = run_json(["bench.inprocess", "probe"], env, timeout=300)
    runs = []
    with server(env, RESULTS / f"server-{db}.log") as (pid, port):
        result["server_pid"] = pid
        result["memory_idle"] = memory_of(pid)
        for run in range(args.runs):
            log(f"{db}: run {run + 1}/{args.runs}: HTTP load")
            load = run_json(
                [
                    "bench.load",
                    "--port",
                    str(port),
                    "--duration",
                    str(args.duration),
                    "--clients",
                    str(args.clients),
                    "--seed",
                    str(run + 1),
                ],
                env,
                timeout=120 + args.duration * 10 + 12 * 10,
            )
            log(f"{db}: run {run + 1}/{args.runs}: bare engine write")
            load["write_baseline"] = run_json(
                ["bench.inprocess", "write-baseline", "--clients", str(args.clients), "--duration", str(args.duration)],
                env,
                timeout=60 + args.duration * 4,
            )
            load["memory"] = memory_of(pid)
            runs.append(load)
    result["runs"] = runs
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["median"] = medians(runs)
    return result


def med(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"latency": {}}
    for key in runs[0]["latency"]:
        out["latency"][key] = {stat: med([r["latency"][key][stat] for r in runs]) for stat in ("p50_ms", "p99_ms", "n")}
    for phase in ("health", "page", "page_rep", "write", "write_baseline"):
        out[phase] = {stat: med([r[phase][stat] for r in runs]) for stat in ("rps", "p50_ms", "p99_ms")}
        if "client_cpu" in runs[0][phase]:
            out[phase]["client_cpu"] = med([r[phase]["client_cpu"] for r in runs])
            out[phase]["errors"] = sum(r[phase]["errors"] for r in runs)
    out["page"]["ratio_to_health"] = round(out["page"]["rps"] / out["health"]["rps"], 3)
    out["page_rep"]["ratio_to_health"] = round(out["page_rep"]["rps"] / out["health"]["rps"], 3)
    out["write"]["ratio_to_baseline"] = round(out["write"]["rps"] / out["write_baseline"]["rps"], 3)
    out["VmRSS"] = max(r["memory"]["VmRSS"] for r in runs)
    out["VmHWM"] = max(r["memory"]["VmHWM"] for r in runs)
    return out


# ---------------------------------------------------------------- the report


def verdict(value: float, target: float, *, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value < target
    return "met" if ok else "MISSED"


def table(report: dict[str, Any]) -> str:
    """The medians of every database side by side, with the targets."""
    dbs = list(report["databases"])
    medians_of = {db: report["databases"][db]["median"] for db in dbs}
    rows: list[list[str]] = [["measure", *dbs, "target"]]

    def add(label: str, render: Any, target: str = "") -> None:
        rows.append([label, *(render(db) for db in dbs), target])

    def num(phase: str, stat: str, fmt: str = "{:.0f}") -> Any:
        return lambda db: fmt.format(medians_of[db][phase][stat])

    def pair(phase: str) -> Any:
        return lambda db: f"{medians_of[db][phase]['p50_ms']:.1f} / {medians_of[db][phase]['p99_ms']:.1f}"

    def memory(db: str) -> str:
        return f"{medians_of[db]['VmRSS']:.0f} / {medians_of[db]['VmHWM']:.0f}"

    worst_p99 = {db: max(v["p99_ms"] for v in medians_of[db]["latency"].values()) for db in dbs}
    for endpoint in LATENCY_ENDPOINTS:
        for role in ROLES:
            key = f"{endpoint}/{role}"
            queries = report["databases"][dbs[0]]["queries"].get(key, {}).get("queries", "?")
            add(
                f"{key} p50/p99 ms ({queries} SQL)",
                lambda db, key=key: (
                    f"{medians_of[db]['latency'][key]['p50_ms']:.1f} / {medians_of[db]['latency'][key]['p99_ms']:.1f}"
                ),
                "p99 < 50",
            )
    add("worst single-user p99 ms", lambda db: f"{worst_p99[db]:.1f}", "< 50")
    add("GET /health req/s (baseline)", num("health", "rps"))
    add("  load generator CPU (1 = a full core)", num("health", "client_cpu", "{:.2f}"))
    add("page req/s, 16 clients (rep/manager/HQ)", num("page", "rps"), ">= 400")
    add("  page / health", num("page", "ratio_to_health", "{:.2f}"))
    add("  page p50/p99 ms", pair("page"))
    add("page req/s, 16 clients all as rep", num("page_rep", "rps"), ">= 400")
    add("  rep page / health", num("page_rep", "ratio_to_health", "{:.2f}"))
    add("  rep page p50/p99 ms", pair("page_rep"))
    add("PATCH account req/s, 16 clients", num("write", "rps"))
    add("  PATCH p50/p99 ms", pair("write"), "SQLite p99 < 100")
    add("bare engine insert req/s, 16 tasks", num("write_baseline", "rps"))
    add("  bare insert p50/p99 ms", pair("write_baseline"))
    add("  PATCH / bare insert", num("write", "ratio_to_baseline", "{:.2f}"))
    add("server MB after load: VmRSS / VmHWM", memory, "< 200")
    add("server MB idle after start: VmRSS", lambda db: f"{report['databases'][db]['memory_idle']['VmRSS']:.0f}")
    add(
        "machine load average (1 min) before / after",
        lambda db: (
            f"{report['databases'][db]['load_average_before'][0]:.1f} / "
            f"{report['databases'][db]['load_average_after'][0]:.1f}"
        ),
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for db in dbs:
        m = medians_of[db]
        checks = [
            ("one user p99 < 50 ms", verdict(worst_p99[db], TARGETS["latency_p99_ms"])),
            ("page >= 400 req/s (mixed)", verdict(m["page"]["rps"], TARGETS["page_rps"], higher_is_better=True)),
            ("(rep only)", verdict(m["page_rep"]["rps"], TARGETS["page_rps"], higher_is_better=True)),
            ("RSS < 200 MB", verdict(m["VmHWM"], TARGETS["rss_mb"])),
        ]
        if db == "sqlite":
            checks.append(("write p99 < 100 ms", verdict(m["write"]["p99_ms"], TARGETS["sqlite_write_p99_ms"])))
        lines.append(f"{db}: " + "; ".join(f"{name}: {ok}" for name, ok in checks))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per throughput measurement")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", PG_DEFAULT),
        help=f"a PostgreSQL URL whose server gets the {PG_BENCH_DB} database (default %(default)s)",
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="reuse the bench database if it was seeded with the same --accounts"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.duration <= 0 or args.clients < 1:
        parser.error("--runs, --duration and --clients must be positive")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    report: dict[str, Any] = {
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "params": {"accounts": args.accounts, "runs": args.runs, "duration_s": args.duration, "clients": args.clients},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "targets": TARGETS,
        "databases": {},
    }
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log(f"warning: the machine is busy (load average {os.getloadavg()[0]:.1f}); figures will be low and noisy")
    for db in dbs:
        report["databases"][db] = bench_database(db, args)
    report["seconds"] = round(time.monotonic() - started, 1)
    (RESULTS / "latest.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(
        f"fieldcrm bench: {args.accounts} accounts, {args.runs} runs x {args.duration:g} s, {args.clients} clients; "
        f"medians over runs ({report['seconds']:.0f} s in all)"
    )
    print(table(report))
    print(f"\nfull results: {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
