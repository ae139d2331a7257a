"""Chaos: exactly-once push (docs/sync.md) against a real server process that fails in every way it can.

One device queues 1,000 mutations on a few accounts — account.note, contact.create,
contact.update, contact.delete and account.update, and what a rep creates offline: account.create
(prospects), case.create, quote.create and quote.submit — and drains its outbox like the PWA does
(batches of 50 from the first unacknowledged id) through a faulty network:

- 15% of requests are dropped on the way: the server receives a random prefix of the request, then
  the connection is reset (the client sees a network error);
- 30% of responses are dropped after the server answered, i.e. after it committed the batch
  (the request really went to the server over HTTP; the client throws the answer away and sees a
  network error, so it sends the same batch again);
- the server process is SIGKILLed twice while a push is in flight, and restarted on the same port.

Faults come from a seeded ``random.Random`` (FIELDCRM_CHAOS_SEED overrides the seed), so a
failure reproduces. Afterwards the server's state, read back over the API, must equal the
client's model: 0 lost, 0 duplicated.

Why the check sees duplicates although every create carries a client-made id: no mutation in
the protocol lacks an id (a note's id is its primary key), so a replay that gets past the guard
cannot insert a second row under the same id. It either

- runs a create again: the service answers ``conflict`` and the push records a rejection, or
- runs an edit again: the row's ``version`` goes up once more and, when the value changed, the
  audit trail gets another entry (audit entries are rows created each time a change is applied:
  not idempotent by nature, like a note without an id would be).

So the check demands no rejection at all (in any response, or listed by the server), notes,
contacts and accounts equal to the model field by field including ``version``, and the audit
trail of every account equal to the model's expected entries, counted one by one. A replay that
reaches a service fails at least one of these. The negative control proves it: the same run
against a server started with FIELDCRM_SYNC_REPLAY_GUARD=0 (which applies whatever arrives,
replays included) must fail the same check.
"""

import asyncio
import collections
import datetime
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldcrm.sales import catalogue
from fieldcrm.sales.schemas import ProductCreate
from tests.factories import Org, Person, make_account

BIN = Path(sys.executable).parent
SEED = int(os.environ.get("FIELDCRM_CHAOS_SEED", "20261124"))
MUTATIONS = 1000
ACCOUNTS = 4
BATCH = 50  # what the PWA sends per push
P_REQUEST_DROPPED = 0.15
P_RESPONSE_DROPPED = 0.30
KILL_AFTER_ACKED = (300, 650)  # SIGKILL the server during the first push after this many mutations are acknowledged
# When, as a fraction of a typical push's round trip (the killed batch is always one the server has not seen yet).
KILL_DELAY = ((0.2, 0.5), (0.5, 0.8))
# The server asks for Retry-After: 2 s on a 503; the test scales every wait down to at most 0.2 s
# so the suite stays fast (the protocol is the same: wait, then send the same batch again).
RETRY_AFTER_CAP_S = 0.2
NETWORK_ERROR_WAIT_S = 0.01
MAX_ATTEMPTS = 600  # about 40 pushes are needed at these fault rates; this bound is never reached by a sound run
RUN_DEADLINE_S = 60.0
SERVER_START_S = 30.0
PAGE_LIMIT = 100
MAX_PAGES = 100


# ---------------------------------------------------------------- the server process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``fieldcrm serve`` as a child process on 127.0.0.1, on the same port across restarts."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:  # a file, not a pipe: a full pipe would block the server's logging
            return subprocess.Popen(
                [str(BIN / "fieldcrm"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        """Start the process and wait until /health answers 200 (the database is reachable)."""
        assert self.proc is None or self.proc.poll() is not None, "the server is already running"
        self.proc = self._spawn()
        self.starts += 1
        deadline = time.monotonic() + SERVER_START_S
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as client:
            while True:
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.proc.poll() is None, f"the server exited ({self.proc.returncode}):\n{self.log_tail()}"
                assert time.monotonic() < deadline, f"no server after {SERVER_START_S} s:\n{self.log_tail()}"
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, open transactions die with the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Server]]:
    """Servers with extra environment; all are stopped when the test ends (before the next test empties the tables)."""
    made: list[Server] = []

    def make(extra: dict[str, str]) -> Server:
        server = Server({**os.environ, **extra}, tmp_path / f"server-{len(made)}.log")
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


# ---------------------------------------------------------------- the client's model and outbox


@dataclass
class Model:
    """What the server must hold once every queued mutation has been applied exactly once, in order."""

    accounts: dict[str, dict[str, Any]]  # id -> industry, notes, version
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # live ones: id -> accountId, fields, version
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> accountId, text, capturedAt
    audit: collections.Counter[tuple[str, str, str, str]] = field(default_factory=collections.Counter)
    # ^ new audit entries expected: (accountId, entity, entityId, action) -> how many
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> accountId, title
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> accountId, state
    product_id: str = ""
    kinds: collections.Counter[str] = field(default_factory=collections.Counter)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def plan(
    rng: random.Random, accounts: dict[str, dict[str, Any]], count: int, product_id: str
) -> tuple[list[dict[str, Any]], Model]:
    """The outbox (mutations 1..count) and the state it must produce, built side by side."""
    model = Model(accounts={a: dict(v) for a, v in accounts.items()}, product_id=product_id)
    account_ids = sorted(model.accounts)
    t0 = datetime.datetime(2026, 11, 24, 8, 0, tzinfo=datetime.UTC)
    outbox: list[dict[str, Any]] = []
    for mid in range(1, count + 1):
        account = rng.choice(account_ids)
        live = sorted(c for c, v in model.contacts.items() if v["accountId"] == account)
        roll = rng.random()
        if roll < 0.40:
            kind = "account.note"
        elif roll < 0.60 or not live:
            kind = "contact.create"
        elif roll < 0.78:
            kind = "contact.update"
        elif roll < 0.81:
            kind = "contact.delete"
        elif roll < 0.84:
            kind = "account.create"
        elif roll < 0.87:
            kind = "case.create"
        elif roll < 0.90:
            kind = "quote.create"
        elif roll < 0.93 and any(q["state"] == "draft" for q in model.quotes.values()):
            kind = "quote.submit"
        else:
            kind = "account.update"
        model.kinds[kind] += 1
        if kind == "account.note":
            note_id = _uuid(rng)
            text = f"拜访记录 #{mid}: {rng.choice(['聊了续约', 'CIO 下周到访', '报价已发', '需要回访'])}"
            args: dict[str, Any] = {"id": note_id, "accountId": account, "text": text}
            captured = t0 + datetime.timedelta(seconds=mid)
            model.notes[note_id] = {"accountId": account, "text": text, "capturedAt": captured}
        elif kind == "contact.create":
            contact_id = _uuid(rng)
            fields = {"name": f"联系人 {mid}", "title": f"经理 {mid}", "notes": ""}
            args = {"id": contact_id, "accountId": account, **fields}
            model.contacts[contact_id] = {"accountId": account, **fields, "version": 1}
            model.audit[(account, "contact", contact_id, "create")] += 1
        elif kind == "contact.update":
            contact_id = rng.choice(live)
            contact = model.contacts[contact_id]
            changed = rng.sample(["name", "title", "notes"], k=rng.randint(1, 2))
            changes = {f: f"{f} v{mid}" for f in changed}  # always a new value: one audit entry, one version
            args = {"id": contact_id, "accountId": account, "baseVersion": contact["version"], "changes": changes}
            contact.update(changes)
            contact["version"] += 1  # a contact edit always bumps the version
            model.audit[(account, "contact", contact_id, "update")] += 1
        elif kind == "contact.delete":
            contact_id = rng.choice(live)
            args = {"id": contact_id, "accountId": account}
            del model.contacts[contact_id]
            model.audit[(account, "contact", contact_id, "delete")] += 1
        elif kind == "account.create":
            new_id = _uuid(rng)
            args = {"id": new_id, "name": f"新客户 {mid}", "status": "prospect"}
            model.accounts[new_id] = {"industry": "", "notes": "", "version": 1}
            model.audit[(new_id, "account", new_id, "create")] += 1
        elif kind == "case.create":
            case_id = _uuid(rng)
            args = {"id": case_id, "accountId": account, "type": "complaint", "title": f"投诉 {mid}"}
            model.cases[case_id] = {"accountId": account, "title": args["title"]}
        elif kind == "quote.create":
            quote_id = _uuid(rng)
            args = {"id": quote_id, "accountId": account, "lines": [{"productId": product_id, "quantity": 2}]}
            model.quotes[quote_id] = {"accountId": account, "state": "draft"}
        elif kind == "quote.submit":
            quote_id = rng.choice(sorted(q for q, v in model.quotes.items() if v["state"] == "draft"))
            args = {"id": quote_id, "baseVersion": 1}
            model.quotes[quote_id]["state"] = "approved"  # at list price: no approver is needed
        else:
            state = model.accounts[account]
            changed = rng.sample(["industry", "notes"], k=rng.randint(1, 2))
            same = rng.random() < 0.15  # sometimes the value it already has: a no-op on the server
            changes = {f: state[f] if same else f"{f} v{mid}" for f in changed}
            args = {"id": account, "baseVersion": state["version"], "changes": changes}
            if any(state[f] != v for f, v in changes.items()):
                state.update(changes)
                state["version"] += 1
                model.audit[(account, "account", account, "update")] += 1
        captured_at = (t0 + datetime.timedelta(seconds=mid)).strftime("%Y-%m-%dT%H:%M:%SZ")
        outbox.append({"id": mid, "name": kind, "args": args, "capturedAt": captured_at})
    return outbox, model


@dataclass
class Stats:
    """What happened on the way, for the report and the fault assertions."""

    attempts: int = 0
    requests_dropped: int = 0
    responses_dropped: int = 0
    responses_dropped_after_commit: int = 0  # the dropped answer said mutations were applied
    network_errors: int = 0
    unavailable: int = 0
    kills: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    applied_seen: collections.Counter[int] = field(default_factory=collections.Counter)
    problems: list[str] = field(default_factory=list)
    acked: int = 0
    seconds: float = 0.0

    def report(self) -> str:
        return (
            f"seed={SEED} pushes={self.attempts} requests_dropped={self.requests_dropped} "
            f"responses_dropped={self.responses_dropped} (after a commit: {self.responses_dropped_after_commit}) "
            f"network_errors={self.network_errors} 503s={self.unavailable} acked={self.acked} "
            f"push_phase={self.seconds:.1f}s kills={self.kills}"
        )


async def _server_position(http: httpx.AsyncClient, person: Person, client_id: uuid.UUID) -> int:
    """The server's lastMutationId for this client: an empty push applies nothing and answers it."""
    r = await http.post("/api/sync/push", json={"clientId": str(client_id), "mutations": []}, headers=person.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["lastMutationId"])


async def send_truncated(server: Server, path: str, body: dict[str, Any], person: Person, rng: random.Random) -> None:
    """A request lost on the way: the server receives a random prefix of it, then the connection drops."""
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {person.token}\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode()
    request = head + payload
    cut = rng.randrange(len(request))
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), timeout=5)
    except (OSError, TimeoutError):
        return  # nobody listening: lost all the same
    try:
        writer.write(request[:cut])
        await asyncio.wait_for(writer.drain(), timeout=5)
    except (OSError, TimeoutError):
        pass
    finally:
        writer.transport.abort()  # a reset, not a clean half-close: the rest never comes


async def drain_outbox(
    server: Server,
    person: Person,
    client_id: uuid.UUID,
    outbox: list[dict[str, Any]],
    rng: random.Random,
    *,
    probe_after_kill: bool,
) -> Stats:
    """Push the outbox through the faults until every mutation is acknowledged (bounded in attempts and time)."""
    stats = Stats()
    kills_left = list(KILL_AFTER_ACKED)
    latency = 0.05  # a running estimate of how long a push that applies mutations takes
    started = time.monotonic()
    limits = httpx.Limits(max_keepalive_connections=0)  # a fresh connection per push: none goes stale across a kill
    async with httpx.AsyncClient(base_url=server.base, timeout=15, limits=limits) as http:
        for _ in range(MAX_ATTEMPTS):
            if stats.acked >= len(outbox):
                break
            if time.monotonic() - started > RUN_DEADLINE_S:
                stats.problems.append(f"the outbox did not drain within {RUN_DEADLINE_S} s")
                break
            batch = outbox[stats.acked : stats.acked + BATCH]
            body = {"clientId": str(client_id), "mutations": batch}
            # Draw both faults on every attempt: a seed replays the same faults in the same places.
            drop_request = rng.random() < P_REQUEST_DROPPED
            drop_response = rng.random() < P_RESPONSE_DROPPED
            stats.attempts += 1
            response: httpx.Response | None
            if kills_left and stats.acked >= kills_left[0]:
                kills_left.pop(0)
                before = stats.acked
                push = asyncio.create_task(http.post("/api/sync/push", json=body, headers=person.headers))
                await asyncio.sleep(rng.uniform(*KILL_DELAY[len(stats.kills) % len(KILL_DELAY)]) * latency)
                server.kill()
                try:
                    response = await push
                    outcome = "the answer came before the kill"
                except httpx.TransportError:
                    response = None
                    outcome = "killed mid-request"
                    stats.network_errors += 1
                await server.start()
                if probe_after_kill and response is None:
                    position = await _server_position(http, person, client_id)
                    outcome += ", batch committed" if position > before else ", batch not committed"
                stats.kills.append(f"after {before} acked: {outcome}")
                if response is None:
                    continue
            elif drop_request:
                stats.requests_dropped += 1  # lost on the way: the server gets part of it, then the connection closes
                await send_truncated(server, "/api/sync/push", body, person, rng)
                await asyncio.sleep(NETWORK_ERROR_WAIT_S)
                continue
            else:
                sent = time.monotonic()
                try:
                    response = await http.post("/api/sync/push", json=body, headers=person.headers)
                except httpx.TransportError:
                    stats.network_errors += 1
                    await asyncio.sleep(NETWORK_ERROR_WAIT_S)
                    continue
                applied = response.status_code == 200 and any(
                    r["status"] == "applied" for r in response.json()["results"]
                )
                if applied:
                    latency = 0.7 * latency + 0.3 * (time.monotonic() - sent)
                if drop_response:
                    stats.responses_dropped += 1  # the server committed; the answer is lost on the way back
                    stats.responses_dropped_after_commit += applied
                    await asyncio.sleep(NETWORK_ERROR_WAIT_S)
                    continue
            if response.status_code == 503:
                stats.unavailable += 1
                await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), RETRY_AFTER_CAP_S))
                continue
            assert response.status_code == 200, f"push answered {response.status_code}: {response.text}"
            answer = response.json()
            for result in answer["results"]:
                if result["status"] == "applied":
                    stats.applied_seen[result["id"]] += 1
                elif result["status"] == "rejected":
                    stats.rejected.append(result)
            last = int(answer["lastMutationId"])
            if last < stats.acked:
                stats.problems.append(f"lost: the server went back from lastMutationId {stats.acked} to {last}")
            stats.acked = last  # everything up to here is acknowledged (applied, skipped or rejected)
        else:
            stats.problems.append(f"the outbox did not drain in {MAX_ATTEMPTS} pushes")
    stats.seconds = time.monotonic() - started
    if stats.acked != len(outbox):
        stats.problems.append(f"lost: only {stats.acked} of {len(outbox)} mutations acknowledged")
    return stats


# ---------------------------------------------------------------- reading the server back


async def pull_everything(http: httpx.AsyncClient, person: Person, client_id: uuid.UUID) -> dict[str, list[Any]]:
    """A full snapshot from cursor null, all pages merged."""
    merged: dict[str, list[Any]] = {"accounts": [], "contacts": [], "notes": [], "cases": [], "quotes": []}
    cursor = None
    for _ in range(MAX_PAGES):
        body = {"clientId": str(client_id), "cursor": cursor}
        r = await http.post("/api/sync/pull", json=body, headers=person.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        for key, rows in merged.items():
            rows.extend(page[key])
        cursor = page["cursor"]
        if not page["more"]:
            return merged
    raise AssertionError(f"the snapshot did not end within {MAX_PAGES} pages")


async def list_all(
    http: httpx.AsyncClient, person: Person, path: str, **params: str
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list (limit/offset), and the total the server reported."""
    items: list[dict[str, Any]] = []
    total = 0
    for page in range(MAX_PAGES):
        query: dict[str, str | int] = {**params, "limit": PAGE_LIMIT, "offset": page * PAGE_LIMIT}
        r = await http.get(path, params=query, headers=person.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["items"])
        total = body["total"]
        if body["nextCursor"] is None:
            return items, total
    raise AssertionError(f"{path} did not end within {MAX_PAGES} pages")


def _when(value: str | None) -> datetime.datetime | None:
    return None if value is None else datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _examples(values: Any, n: int = 3) -> str:
    values = list(values)
    return f"{values[:n]}{' …' if len(values) > n else ''}"


async def check(
    http: httpx.AsyncClient, org: Org, client_id: uuid.UUID, *, model: Model, stats: Stats, audit_before: set[str]
) -> list[str]:
    """Every way the server differs from the client's model: an empty list means 0 lost, 0 duplicated."""
    problems = list(stats.problems)
    rep, manager = org.rep_a, org.manager_a
    if stats.rejected:
        codes = collections.Counter(r["code"] for r in stats.rejected)
        problems.append(
            f"{len(stats.rejected)} rejected in answers ({dict(codes)}): a replay reached a service, "
            f"e.g. {_examples((r['id'], r['message']) for r in stats.rejected)}"
        )
    twice = sorted(i for i, n in stats.applied_seen.items() if n > 1)
    if twice:
        problems.append(f"duplicated: {len(twice)} mutations answered 'applied' twice, e.g. {_examples(twice)}")
    rejections, total = await list_all(http, rep, "/api/sync/rejections", clientId=str(client_id))
    if total:
        codes = collections.Counter(r["code"] for r in rejections)
        problems.append(f"the server recorded {total} rejections for this client ({dict(codes)})")

    snapshot = await pull_everything(http, rep, client_id)

    # Notes: exactly the model's, each once, with its text.
    note_ids = collections.Counter(n["id"] for n in snapshot["notes"])
    texts = collections.Counter(n["text"] for n in snapshot["notes"])
    if dup := [i for i, n in note_ids.items() if n > 1]:
        problems.append(f"duplicated: {len(dup)} note ids sent more than once by the pull")
    if dup := [t for t, n in texts.items() if n > 1]:
        problems.append(f"duplicated: {len(dup)} note texts stored more than once, e.g. {_examples(dup)}")
    if lost := set(model.notes) - set(note_ids):
        problems.append(f"lost: {len(lost)} notes, e.g. {_examples(sorted(lost))}")
    if extra := set(note_ids) - set(model.notes):
        problems.append(f"duplicated: {len(extra)} notes the client never made")

    def note_fields(n: dict[str, Any]) -> tuple[Any, ...]:
        return n["accountId"], n["text"], _when(n["capturedAt"]), n["authorId"]

    wrong = [
        n["id"]
        for n in snapshot["notes"]
        if n["id"] in model.notes and note_fields(n) != (*model.notes[n["id"]].values(), str(rep.id))
    ]
    if wrong:
        problems.append(f"{len(wrong)} notes differ from the client's, e.g. {_examples(wrong)}")

    # Contacts: the live ones, with the fields and the version one application of each edit gives.
    contact_ids = collections.Counter(c["id"] for c in snapshot["contacts"])
    if dup := [i for i, n in contact_ids.items() if n > 1]:
        problems.append(f"duplicated: {len(dup)} contact ids sent more than once by the pull")
    if lost := set(model.contacts) - set(contact_ids):
        problems.append(f"lost: {len(lost)} contacts missing (or deleted), e.g. {_examples(sorted(lost))}")
    if extra := set(contact_ids) - set(model.contacts):
        problems.append(
            f"{len(extra)} contacts the client does not have (lost delete?), e.g. {_examples(sorted(extra))}"
        )
    keys = ("accountId", "name", "title", "notes", "version")
    wrong = [
        (c["id"], {k: (c[k], model.contacts[c["id"]][k]) for k in keys if c[k] != model.contacts[c["id"]][k]})
        for c in snapshot["contacts"]
        if c["id"] in model.contacts and any(c[k] != model.contacts[c["id"]][k] for k in keys)
    ]
    if wrong:
        bumped = sum(1 for _, d in wrong if "version" in d and d["version"][0] > d["version"][1])
        problems.append(
            f"{len(wrong)} contacts differ as (server, client) — {bumped} with edits applied more than once — "
            f"e.g. {_examples(wrong, 2)}"
        )

    # Accounts: fields and version.
    server_accounts = {a["id"]: a for a in snapshot["accounts"]}
    if set(server_accounts) != set(model.accounts):
        problems.append(f"the pull's accounts {sorted(server_accounts)} are not the client's {sorted(model.accounts)}")
    for account_id, state in model.accounts.items():
        got = server_accounts.get(account_id)
        if got is None:
            continue
        diff = {k: (got[k], state[k]) for k in ("industry", "notes", "version") if got[k] != state[k]}
        if diff:
            problems.append(f"account {account_id} differs as (server, client): {diff}")

    # What the rep created offline: each case and quote once, the quotes submitted once.
    case_ids = collections.Counter(c["id"] for c in snapshot["cases"])
    if case_ids.keys() != model.cases.keys() or any(n > 1 for n in case_ids.values()):
        problems.append(f"cases differ: {len(case_ids)} on the server, {len(model.cases)} made on the device")
    wrong = [
        c["id"] for c in snapshot["cases"] if c["id"] in model.cases and c["title"] != model.cases[c["id"]]["title"]
    ]
    if wrong:
        problems.append(f"{len(wrong)} cases differ from the client's, e.g. {_examples(wrong)}")
    states = {q["id"]: q["state"] for q in snapshot["quotes"]}
    if len(snapshot["quotes"]) != len(states) or states.keys() != model.quotes.keys():
        problems.append(f"quotes differ: {len(snapshot['quotes'])} on the server, {len(model.quotes)} on the device")
    wrong = [(q, states[q], v["state"]) for q, v in model.quotes.items() if q in states and states[q] != v["state"]]
    if wrong:
        problems.append(f"{len(wrong)} quotes in another state as (id, server, client), e.g. {_examples(wrong)}")

    # Rows as the REST doors list them, and the audit trail: one entry per change applied.
    audit_expected = collections.Counter({k[1:]: v for k, v in model.audit.items()})
    audit_got: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for account_id in model.accounts:
        _, total = await list_all(http, rep, f"/api/accounts/{account_id}/notes")
        want = sum(1 for n in model.notes.values() if n["accountId"] == account_id)
        if total != want:
            problems.append(f"account {account_id} lists {total} notes, the client made {want}")
        entries, _ = await list_all(http, manager, f"/api/accounts/{account_id}/audit")
        audit_got.update(
            (e["entity"], e["entityId"], e["action"])
            for e in entries
            if e["id"] not in audit_before and e["entity"] in {"account", "contact"}  # quotes and cases: above
        )
    if more := audit_got - audit_expected:
        problems.append(
            f"duplicated: {sum(more.values())} audit entries beyond one per change, e.g. {_examples(more.items())}"
        )
    if fewer := audit_expected - audit_got:
        problems.append(f"lost: {sum(fewer.values())} audit entries missing, e.g. {_examples(fewer.items())}")
    return problems


# ---------------------------------------------------------------- the test


async def chaos_run(
    org: Org, server: Server, product_id: str, *, probe_after_kill: bool
) -> tuple[Stats, list[str], Model]:
    """Accounts exist already; start the server, drain a 1,000-mutation outbox through the faults, compare."""
    client_id = uuid.UUID(int=random.Random(SEED).getrandbits(128), version=4)
    await server.start()
    async with httpx.AsyncClient(base_url=server.base, timeout=15) as http:
        first = await pull_everything(http, org.rep_a, client_id)  # the device's first sync
        accounts = {a["id"]: {k: a[k] for k in ("industry", "notes", "version")} for a in first["accounts"]}
        assert len(accounts) == ACCOUNTS
        audit_before = {
            e["id"] for a in accounts for e in (await list_all(http, org.manager_a, f"/api/accounts/{a}/audit"))[0]
        }
    outbox, model = plan(random.Random(SEED), accounts, MUTATIONS, product_id)
    faults = random.Random(SEED + 1)
    stats = await drain_outbox(server, org.rep_a, client_id, outbox, faults, probe_after_kill=probe_after_kill)
    async with httpx.AsyncClient(base_url=server.base, timeout=15) as http:
        problems = await check(http, org, client_id, model=model, stats=stats, audit_before=audit_before)
    return stats, problems, model


async def _accounts(org: Org) -> str:
    """The accounts and a product for quotes, made before the server starts (the test then writes nothing)."""
    for _ in range(ACCOUNTS):
        await make_account(org, "rep_a", industry="制造", notes="")
    product = await catalogue.create_product(
        actor=await org.actor("hq"), data=ProductCreate(code="CHAOS-1", name="专线 100M", list_price_cents=100_000)
    )
    return str(product.id)


async def test_a_thousand_mutations_through_chaos_arrive_exactly_once(
    org: Org, servers: Callable[[dict[str, str]], Server]
) -> None:
    product_id = await _accounts(org)
    server = servers({"FIELDCRM_SYNC_REPLAY_GUARD": "1"})
    stats, problems, model = await chaos_run(org, server, product_id, probe_after_kill=True)
    report = stats.report()
    print(f"chaos (guard on): {report} mutations={dict(model.kinds)}")
    # The faults really happened, or the run proves nothing.
    assert stats.requests_dropped > 0, report
    assert stats.responses_dropped_after_commit > 0, report
    assert len(stats.kills) == len(KILL_AFTER_ACKED), report
    assert any("mid-request" in k for k in stats.kills), report
    assert server.starts == 1 + len(KILL_AFTER_ACKED), report
    assert model.kinds["account.note"] > 100, model.kinds
    for kind in ("account.create", "case.create", "quote.create", "quote.submit"):
        assert model.kinds[kind] > 5, model.kinds
    assert problems == [], f"{report}\n" + "\n".join(problems)


async def test_negative_control_without_the_replay_guard_the_check_sees_duplicates(
    org: Org, servers: Callable[[dict[str, str]], Server]
) -> None:
    """The same run against a server that re-applies replays must fail the same check."""
    product_id = await _accounts(org)
    server = servers({"FIELDCRM_SYNC_REPLAY_GUARD": "0"})
    stats, problems, _ = await chaos_run(org, server, product_id, probe_after_kill=False)
    report = stats.report()
    print(f"chaos (negative control, guard off): {report}\n" + "\n".join(problems))
    assert stats.responses_dropped_after_commit > 0, report  # replays happened
    assert problems, f"with the replay guard off the check found nothing, so it cannot see duplicates: {report}"
    assert any("reject" in p for p in problems), problems  # re-run creates collide with themselves
    assert any(p.startswith("duplicated") for p in problems), problems  # re-run edits are counted twice
