"""HTTP load generator of the bench: one process, async httpx, against a running fieldcrm server.

Run by ``bench/run.py`` in its own process (never the server's). It signs in as the demo users,
then measures, in this order:

* single-user latency (one request at a time) of the account list, a search for a common and
  for a rare term, and the customer 360, as rep, manager and HQ;
* throughput of ``GET /health`` (the baseline) and of a 20-account page with N concurrent clients
  (a third each as rep, manager and HQ; and all as rep, the smallest book);
* throughput and latency of single-row writes (``PATCH /api/accounts/{id}`` changing the notes)
  with N concurrent clients.

Every loop is bounded by a request count and a deadline. It prints one JSON document.
"""

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

PASSWORD = "fieldcrm-demo"
ROLES = ("rep", "manager", "hq")
COMMON_TERM = "科技"  # in about one account name in six
LOCALHOST = "127.0.0.1"


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 100 samples is the 99th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summary(latencies_ms: list[float]) -> dict[str, Any]:
    return {
        "n": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 0.5), 2),
        "p99_ms": round(percentile(latencies_ms, 0.99), 2),
        "max_ms": round(max(latencies_ms), 2) if latencies_ms else float("nan"),
    }


class Bench:
    def __init__(self, client: httpx.AsyncClient, *, seed: int) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.headers: dict[str, dict[str, str]] = {}
        self.account_ids: dict[str, list[str]] = {}
        self.rare_term = ""

    async def login(self, username: str) -> None:
        response = await self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        response.raise_for_status()
        # Bearer tokens only: a session cookie kept in the jar would make the next login end this session.
        self.client.cookies.clear()
        self.headers[username] = {"Authorization": f"Bearer {response.json()['token']}"}

    async def get(self, role: str, url: str) -> httpx.Response:
        response = await self.client.get(url, headers=self.headers[role])
        if response.status_code != 200:
            msg = f"GET {url} as {role}: {response.status_code} {response.text[:300]}"
            raise RuntimeError(msg)
        return response

    async def prepare(self) -> None:
        """Sign in and pick accounts spread over each person's book (not just the first page)."""
        for role in ROLES:
            await self.login(role)
            total = (await self.get(role, "/api/accounts?limit=1")).json()["total"]
            ids: list[str] = []
            for _ in range(5):
                offset = self.rng.randrange(max(1, total - 100))
                page = (await self.get(role, f"/api/accounts?limit=100&offset={offset}&sort=code")).json()
                ids.extend(item["id"] for item in page["items"])
            top = (await self.get(role, "/api/accounts?limit=20&sort=-revenue")).json()  # groups, many holdings
            ids.extend(item["id"] for item in top["items"])
            self.rng.shuffle(ids)
            self.account_ids[role] = ids
        sample = (await self.get("hq", f"/api/accounts?limit=1&offset={self.rng.randrange(1000)}&sort=code")).json()
        self.rare_term = sample["items"][0]["code"]  # one account in the whole book has it

    def account_of(self, role: str, i: int) -> str:
        ids = self.account_ids[role]
        return ids[i % len(ids)]

    def endpoints(self) -> dict[str, Callable[[str, int], str]]:
        return {
            "list": lambda _role, _i: "/api/accounts?limit=20",
            "search_common": lambda _role, _i: f"/api/accounts?limit=20&q={COMMON_TERM}",
            "search_rare": lambda _role, _i: f"/api/accounts?limit=20&q={self.rare_term}",
            "overview": lambda role, i: f"/api/accounts/{self.account_of(role, i)}/overview",
        }

    async def latency(self, *, count: int, seconds: float, warmup: int) -> dict[str, Any]:
        """One request at a time, per endpoint and role; bounded by count and by time."""
        results: dict[str, Any] = {}
        for name, url_of in self.endpoints().items():
            for role in ROLES:
                for i in range(warmup):
                    await self.get(role, url_of(role, i + 1000))
                samples: list[float] = []
                deadline = time.monotonic() + seconds
                for i in range(count):
                    if time.monotonic() > deadline:
                        break
                    started = time.perf_counter()
                    await self.get(role, url_of(role, i))
                    samples.append((time.perf_counter() - started) * 1000)
                results[f"{name}/{role}"] = summary(samples)
        return results


async def closed_loop(
    base_url: str,
    request: Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    warmup_seconds: float = 0.5,
) -> dict[str, Any]:
    """N clients, each sending its next request when the last one answered, for a bounded time and count."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        latencies: list[float] = []
        errors: list[str] = []
        per_client = max(1, max_requests // clients)

        async def worker(index: int, until: float, record: bool) -> None:
            for n in range(per_client):
                if time.monotonic() > until:
                    return
                started = time.perf_counter()
                response = await request(client, index, n)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code >= 400:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                    if len(errors) > 50:
                        return
                if record:
                    latencies.append(elapsed)

        warm_until = time.monotonic() + warmup_seconds
        await asyncio.gather(*(worker(i, warm_until, record=False) for i in range(clients)))
        cpu_before = time.process_time()
        started = time.monotonic()
        await asyncio.gather(*(worker(i, started + seconds, record=True) for i in range(clients)))
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu_before
    out = summary(latencies)
    out.update(
        {
            "clients": clients,
            "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
            "errors": len(errors),
            "first_errors": errors[:3],
            "client_cpu": round(cpu / elapsed, 2) if elapsed > 0 else 0.0,  # near 1.0: the load generator is the limit
        }
    )
    return out


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per throughput measurement")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--latency-count", type=int, default=100, help="requests per endpoint and role")
    parser.add_argument("--latency-seconds", type=float, default=1.5, help="time cap per endpoint and role")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    base_url = f"http://{LOCALHOST}:{args.port}"  # load goes to this machine only
    max_requests = 100_000

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        bench = Bench(client, seed=args.seed)
        await bench.prepare()
        latency = await bench.latency(count=args.latency_count, seconds=args.latency_seconds, warmup=2)

    async def health(client: httpx.AsyncClient, _index: int, _n: int) -> httpx.Response:
        return await client.get("/health")

    async def page(client: httpx.AsyncClient, index: int, _n: int) -> httpx.Response:
        role = ROLES[index % len(ROLES)]  # a third each as rep, manager and HQ
        return await client.get("/api/accounts?limit=20", headers=bench.headers[role])

    async def page_rep(client: httpx.AsyncClient, _index: int, _n: int) -> httpx.Response:
        return await client.get("/api/accounts?limit=20", headers=bench.headers["rep"])

    write_ids = bench.account_ids["rep"]

    async def write(client: httpx.AsyncClient, index: int, n: int) -> httpx.Response:
        # Each client edits its own accounts; the notes always change, so every request writes.
        account_id = write_ids[(index * 7 + n) % len(write_ids)]
        body = {"notes": f"bench note {index}-{n}-{time.monotonic_ns()}"}
        return await client.patch(f"/api/accounts/{account_id}", json=body, headers=bench.headers["rep"])

    common = {"clients": args.clients, "seconds": args.duration, "max_requests": max_requests}
    result = {
        "rare_term": bench.rare_term,
        "common_term": COMMON_TERM,
        "latency": latency,
        "health": await closed_loop(base_url, health, **common),
        "page": await closed_loop(base_url, page, **common),
        "page_rep": await closed_loop(base_url, page_rep, **common),
        "write": await closed_loop(base_url, write, **common),
    }
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
