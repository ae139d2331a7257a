"""The offline protocol under random interleavings (Hypothesis state machine).

One rep's device queues account.note, contact.create and account.update mutations and pushes them in
batches that are normal, retransmitted, duplicated, reordered or cut with a gap, sometimes losing the
answer; it pulls incrementally; HQ reassigns accounts away from the rep and back; the server restarts
(a new app instance, the engine closed and reopened). After every step:

- exactly once: each mutation id is applied or rejected once, then only ever skipped, and its effect is
  in the database once (a rejected one not at all); a mutation on an account out of scope is rejected;
- a gap never applies: nothing past the first missing id, and a batch whose ids do not increase is
  refused whole;
- the acknowledged id and each device's cursor version never go back;
- a pull never shows a mutation's effect unless the server has acknowledged that mutation's id;
- the device's copy, pulled incrementally, equals a fresh pull by a new device of the same user.

Bounded and derandomized: the same examples every run, well under a minute.
"""

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fieldcrm.accounts.tables import AccountNote, Contact
from fieldcrm.app import create_app
from fieldcrm.lib.db import FieldcrmPostgresEngine, engine
from tests.factories import Org, build_org, make_account

ACCOUNTS = 3
VARIANTS = ("normal", "retransmit", "duplicate", "reorder", "gap")


@dataclass
class Queued:
    id: int
    name: str
    account: int  # index into the machine's accounts
    marker: str  # what its effect carries, to find it in the database and in pulls
    args: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "args": self.args, "capturedAt": "2026-12-04T08:00:00Z"}


@dataclass
class Replica:
    """What a device holds: rows by id, as the pull gave them."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, page: dict[str, Any], *, first: bool) -> None:
        if page["reset"] and first:
            self.accounts.clear()
            self.contacts.clear()
            self.notes.clear()
        for kind in ("accounts", "contacts", "notes"):
            store = getattr(self, kind)
            for row in page[kind]:
                store[row["id"]] = row
            for gone in page["deletes"][kind]:
                store.pop(gone, None)
        for gone in page["deletes"]["accounts"]:  # a deleted account takes its rows along
            for store in (self.contacts, self.notes):
                for key in [k for k, row in store.items() if row["accountId"] == gone]:
                    del store[key]

    def view(self) -> dict[str, Any]:
        return {
            "accounts": {k: (r["ownerId"], r.get("notes")) for k, r in self.accounts.items()},
            "contacts": {k: (r["accountId"], r["name"]) for k, r in self.contacts.items()},
            "notes": {k: (r["accountId"], r["text"]) for k, r in self.notes.items()},
        }


def _version(cursor: str) -> int:
    kind, version, *_ = cursor.split(":")
    assert kind in {"d", "s"}, cursor
    return int(version)


class SyncMachine(RuleBasedStateMachine):
    """A rep's device against the server, with HQ reassigning accounts and the server restarting."""

    # Examples share the database the test starts with: each makes its own accounts, device and markers,
    # and every check is about those, so nothing needs emptying between examples (which costs seconds).
    shared_org: ClassVar[Org | None] = None
    apps: ClassVar[list[Any]] = []  # two app instances, built once: a restart switches to the other one

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.saved_pool: Any = None
        db = engine()
        if isinstance(db, FieldcrmPostgresEngine):  # the session's pool belongs to another loop
            self.saved_pool, db.pool = db.pool, None
            self.run(db.open())
        if SyncMachine.shared_org is None:
            SyncMachine.shared_org = self.run(build_org())
        self.org: Org = SyncMachine.shared_org
        if not SyncMachine.apps:
            SyncMachine.apps = [create_app(), create_app()]
        self.app_index = 0
        self.accounts = [self.run(make_account(self.org, "rep_a")) for _ in range(ACCOUNTS)]
        self.owner = ["rep_a"] * ACCOUNTS
        self.http = self._client()
        self.device = uuid.uuid4()
        self.queue: list[Queued] = []
        self.next_id = 1
        self.acked = 0  # what the device knows the server acknowledged
        self.server_last = 0  # what the server answered, lost answers included
        self.outcome: dict[int, str] = {}  # applied | rejected, once per id
        self.by_marker: dict[str, Queued] = {}
        self.cursor: str | None = None
        self.cursor_version = 0
        self.replica = Replica()

    # ---------------------------------------------------------------- plumbing

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def _client(self) -> httpx.AsyncClient:
        app = SyncMachine.apps[self.app_index]
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def teardown(self) -> None:
        self.run(self.http.aclose())
        db = engine()
        self.run(db.close())
        if isinstance(db, FieldcrmPostgresEngine):
            db.pool = self.saved_pool
        self.loop.close()

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.org.rep_a.headers)

    async def _pull_all(self, client_id: uuid.UUID, cursor: str | None, replica: Replica) -> str:
        first = True
        while True:
            r = await self._post("/api/sync/pull", {"clientId": str(client_id), "cursor": cursor})
            assert r.status_code == 200, r.text
            page = r.json()
            replica.apply(page, first=first)
            await self._no_effect_before_its_ack(page)
            first, cursor = False, page["cursor"]
            if not page["more"]:
                return str(cursor)

    async def _server_ack(self) -> int:
        r = await self._post("/api/sync/push", {"clientId": str(self.device), "mutations": []})
        assert r.status_code == 200, r.text
        return int(r.json()["lastMutationId"])

    async def _no_effect_before_its_ack(self, page: dict[str, Any]) -> None:
        seen = [c["name"] for c in page["contacts"]] + [n["text"] for n in page["notes"]]
        seen += [a.get("notes") or "" for a in page["accounts"]]
        ack = await self._server_ack()  # read after the pull: it can only have grown since
        for text in seen:
            queued = self.by_marker.get(text)
            if queued is not None:
                assert queued.id <= ack, f"{text} visible but mutation {queued.id} not acknowledged ({ack})"
                assert self.outcome.get(queued.id) == "applied", f"{text} visible but {queued.id} was not applied"

    # ---------------------------------------------------------------- rules

    @initialize()
    def start(self) -> None:
        self.cursor = self.run(self._pull_all(self.device, None, self.replica))
        self.cursor_version = _version(self.cursor)

    @rule(kind=st.sampled_from(["account.note", "contact.create", "account.update"]), account=st.integers(0, 2))
    def enqueue(self, kind: str, account: int) -> None:
        mid = self.next_id
        self.next_id += 1
        marker = f"m{mid}-{uuid.uuid4().hex[:6]}"
        target = str(self.accounts[account])
        if kind == "account.note":
            args: dict[str, Any] = {"id": str(uuid.uuid4()), "accountId": target, "text": marker}
        elif kind == "contact.create":
            args = {"id": str(uuid.uuid4()), "accountId": target, "name": marker}
        else:
            args = {"id": target, "changes": {"notes": marker}}
        queued = Queued(id=mid, name=kind, account=account, marker=marker, args=args)
        self.queue.append(queued)
        self.by_marker[marker] = queued

    @precondition(lambda self: bool(self.queue))
    @rule(
        variant=st.sampled_from(VARIANTS),
        size=st.integers(1, 6),
        back=st.integers(1, 3),
        lose_answer=st.booleans(),
    )
    def push(self, variant: str, size: int, back: int, lose_answer: bool) -> None:
        pending = [q for q in self.queue if q.id > self.acked][:size]
        batch = list(pending)
        if variant == "retransmit":  # the answer to an earlier batch was lost: resend some applied ones too
            batch = [q for q in self.queue if self.acked - back < q.id <= self.acked] + batch
        elif variant == "duplicate" and batch:
            batch = [*batch, batch[-1]]
        elif variant == "reorder" and len(batch) > 1:
            batch = list(reversed(batch))
        elif variant == "gap" and batch:
            batch = batch[1:] if len(batch) > 1 else []
            if not batch and len(pending) == 1:
                return
        ids = [q.id for q in batch]
        r = self.run(
            self._post("/api/sync/push", {"clientId": str(self.device), "mutations": [q.wire() for q in batch]})
        )
        if any(b <= a for a, b in itertools.pairwise(ids)):
            assert r.status_code == 422, r.text  # refused whole: nothing applied
            assert r.json()["field"] == "mutations"
            assert self.run(self._server_ack()) == self.server_last
            return
        assert r.status_code == 200, r.text
        answer = r.json()
        expected, last = [], self.server_last
        for q in batch:
            if q.id <= last:
                expected.append((q.id, "skipped"))
                continue
            if q.id > last + 1:
                break  # a gap: nothing from here on
            status = "applied" if self.owner[q.account] == "rep_a" else "rejected"
            expected.append((q.id, status))
            assert q.id not in self.outcome, f"mutation {q.id} decided twice"
            self.outcome[q.id] = status
            last = q.id
        assert [(m["id"], m["status"]) for m in answer["results"]] == expected
        assert answer["lastMutationId"] == last >= self.server_last
        self.server_last = last
        if not lose_answer:
            self.acked = last
            self.queue = [q for q in self.queue if q.id > last]

    @rule()
    def pull(self) -> None:
        cursor = self.run(self._pull_all(self.device, self.cursor, self.replica))
        version = _version(cursor)
        assert version >= self.cursor_version, (cursor, self.cursor)
        self.cursor, self.cursor_version = cursor, version

    @rule(account=st.integers(0, 2), to=st.sampled_from(["rep_a", "rep_b"]))
    def reassign(self, account: int, to: str) -> None:
        r = self.run(
            self.http.patch(
                f"/api/accounts/{self.accounts[account]}",
                json={"ownerId": str(self.org.people[to].id)},
                headers=self.org.hq.headers,
            )
        )
        assert r.status_code == 200, r.text
        self.owner[account] = to

    @rule()
    def restart(self) -> None:
        self.run(self.http.aclose())
        db = engine()
        self.run(db.close())
        if isinstance(db, FieldcrmPostgresEngine):
            self.run(db.open())
        self.app_index = 1 - self.app_index  # another app instance, on connections opened afresh
        self.http = self._client()

    @rule()
    def converges(self) -> None:
        self.pull()
        fresh = Replica()
        self.run(self._pull_all(uuid.uuid4(), None, fresh))
        assert self.replica.view() == fresh.view()

    # ---------------------------------------------------------------- invariants

    @invariant()
    def acknowledged_matches_the_server(self) -> None:
        assert self.run(self._server_ack()) == self.server_last

    @invariant()
    def each_effect_exists_exactly_once(self) -> None:
        markers = [q.marker for q in self.by_marker.values() if q.name != "account.update"]
        if not markers:
            return
        contacts = self.run(Contact.select(Contact.name).where(Contact.name.is_in(markers)))
        notes = self.run(AccountNote.select(AccountNote.text).where(AccountNote.text.is_in(markers)))
        found = [r["name"] for r in contacts] + [r["text"] for r in notes]
        expected = [m for m in markers if self.outcome.get(self.by_marker[m].id) == "applied"]
        assert sorted(found) == sorted(expected)


SyncMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=15,
    derandomize=True,  # the same examples on every run and machine: CI never meets a new one by chance
    database=None,
    deadline=None,
    # no shrinking: a failure prints its steps at once instead of spending minutes minimising them
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_sync_state_machine() -> None:
    SyncMachine.shared_org = None  # the suite's clean_database emptied the org too
    SyncMachine.TestCase().runTest()
