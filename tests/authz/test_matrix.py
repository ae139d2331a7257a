"""The authorization matrix: every operation of the OpenAPI schema x persona x target, against the rules.

The rules (docs/architecture.md section 1, ``fieldcrm.org.scope``) are written out again here as a small model of
the org tree, on purpose independent of the code under test:

- anonymous and a deactivated person get 401 everywhere;
- an object out of the caller's scope answers exactly like a missing one: 404;
- a rep sees the accounts they own, a manager or director every account owned by someone in their org
  subtree, HQ everything; the same for people (a rep sees only themselves);
- role permissions (``PERMISSIONS``): org units and users are managed by HQ; deleting, reassigning,
  moving to another org unit and re-coding accounts need a leader; tier overrides, revenue writes,
  imports and segmentation runs are HQ only; the audit trail is for leaders. A role check that
  comes before the lookup answers 403 for every id (no leak); one that comes after it answers 404
  for ids out of scope and 403 only on the caller's own objects (no leak either).

Every operation in the schema needs at least one row in ``ROWS`` (``test_every_operation_has_a_row``),
so a new endpoint cannot slip in untested; rows for operations not (yet) in the schema are not run.
Each row runs as one test that loops over the personas and targets and reports every mismatch at
once, as lines ``PERSONA METHOD PATH target=T expected X got Y (...)``.
"""

import csv
import datetime
import io
import itertools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from fieldcrm.accounts import services as account_services
from fieldcrm.accounts.schemas import AccountCreate, AccountPatch, ContactCreate, HoldingCreate
from fieldcrm.app import create_app
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import services as org_services
from fieldcrm.org.schemas import Actor
from fieldcrm.visits import services as visit_services
from fieldcrm.visits.schemas import CheckinCreate, VisitPlanCreate
from fieldcrm.visits.services import business_today
from fieldcrm.workflow import services as workflow_services
from fieldcrm.workflow.subjects import register_subject
from fieldcrm.workflow.tables import WorkflowDefinition, WorkflowDelegation
from tests.factories import PASSWORD, Org, Person, build_org, login, make_unit, make_user
from tests.workflow.memo import MemoSubject, memo_definition

logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would drown the mismatches

# ---------------------------------------------------------------- the rules, as a model of build_org's tree

UNIT_PARENT: dict[str, str | None] = {
    "hq": None,
    "north": "hq",
    "south": "hq",
    "jinan": "north",
    "team_a": "jinan",
    "team_b": "jinan",
    "wuhan": "south",
    "team_c": "wuhan",
}
HOME = {
    "hq": "hq",
    "director": "north",
    "manager_a": "team_a",
    "manager_b": "team_b",
    "manager_c": "team_c",
    "rep_a": "team_a",
    "rep_a2": "team_a",
    "rep_b": "team_b",
    "rep_c": "team_c",
    "deactivated": "team_a",
}
ROLE = {
    "hq": "hq_admin",
    "director": "director",
    "manager_a": "manager",
    "manager_b": "manager",
    "manager_c": "manager",
    "rep_a": "rep",
    "rep_a2": "rep",
    "rep_b": "rep",
    "rep_c": "rep",
    "deactivated": "rep",
}
EVERYONE = frozenset({"rep", "manager", "director", "hq_admin"})
LEADERS = frozenset({"manager", "director", "hq_admin"})
HQ_ONLY = frozenset({"hq_admin"})

SIGNED_OUT = ("anonymous", "deactivated")
PERSONAS = ("anonymous", "deactivated", "rep_a", "rep_a2", "manager_a", "manager_b", "director", "hq")
PEOPLE = ("hq", "director", "manager_a", "manager_b", "manager_c", "rep_a", "rep_a2", "rep_b", "rep_c")
# Whom a leader hands an account to when it is already theirs (someone in their own subtree).
SUBORDINATE = {"manager_a": "rep_a", "manager_b": "rep_b", "director": "rep_a", "hq": "rep_a"}


def under(unit: str, root: str) -> bool:
    """Whether ``unit`` lies in the subtree of ``root``."""
    current: str | None = unit
    while current is not None:
        if current == root:
            return True
        current = UNIT_PARENT[current]
    return False


def sees(persona: str, person: str) -> bool:
    """Whether the persona sees this person, and so the accounts this person owns."""
    role = ROLE[persona]
    if role == "hq_admin":
        return True
    if role == "rep":
        return person == persona
    return under(HOME[person], HOME[persona])


def relation(persona: str, person: str) -> str:
    """A readable name for whose object a target is, seen from the persona."""
    if persona not in ROLE:  # anonymous
        return f"{person}'s"
    if person == persona:
        return "own"
    if ROLE[persona] != "rep" and sees(persona, person):
        return f"subordinate({person})"
    if HOME[person] == HOME[persona]:
        return f"peer({person})"
    if under(HOME[persona], HOME[person]):
        return f"superior({person})"
    return f"other team({person})"


# ---------------------------------------------------------------- the world each test builds


@dataclass
class Target:
    """What one call is aimed at."""

    label: str
    params: dict[str, Any] = field(default_factory=dict)  # path parameters
    who: str | None = None  # the person (or org unit) the object stands for; None: it does not exist
    ref: Any = None  # an id the request body points at
    headers: dict[str, str] | None = None  # instead of the persona's usual session


@dataclass
class Ctx:
    """One test's org, people, sessions and objects."""

    client: httpx.AsyncClient
    org: Org
    hq_actor: Actor
    deactivated: Person
    deactivated_account: uuid.UUID
    counter: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))
    _accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    _children: dict[tuple[str, uuid.UUID], uuid.UUID] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # str(id) -> what it is, for readable failures

    def __post_init__(self) -> None:
        self.names.update({str(p.id): name for name, p in self.org.people.items()})
        self.names.update({str(u): f"unit:{name}" for name, u in self.org.units.items()})
        self.names[str(self.deactivated.id)] = "deactivated"
        self.names[str(self.deactivated_account)] = "account(deactivated)"

    def readable(self, text: str) -> str:
        """The text with the ids this test made replaced by their names."""
        for raw, name in self.names.items():
            text = text.replace(raw, name)
        return text

    def person(self, name: str) -> Person:
        return self.deactivated if name == "deactivated" else self.org.people[name]

    def headers(self, persona: str) -> dict[str, str]:
        return {} if persona == "anonymous" else self.person(persona).headers

    def unit(self, name: str) -> uuid.UUID:
        return self.org.units[name]

    def code(self) -> str:
        return f"MX{next(self.counter):06d}"

    async def account(self, owner: str, *, fresh: bool) -> uuid.UUID:
        """An account owned by ``owner`` (a new one when ``fresh``)."""
        if owner == "deactivated":  # made before the deactivation; an inactive person cannot be given one
            return self.deactivated_account
        if not fresh and owner in self._accounts:
            return self._accounts[owner]
        code = self.code()
        data = AccountCreate(code=code, name=f"客户 {code}", owner_id=self.org.people[owner].id)
        account_id = (await account_services.create_account(actor=self.hq_actor, data=data)).id
        self.names[str(account_id)] = f"account({owner})"
        if not fresh:
            self._accounts[owner] = account_id
        return account_id

    async def child(self, kind: str, account_id: uuid.UUID, *, fresh: bool) -> uuid.UUID:
        """A contact or holding of the account (a new one when ``fresh``)."""
        if not fresh and (kind, account_id) in self._children:
            return self._children[kind, account_id]
        if kind == "contact":
            child_id = (
                await account_services.create_contact(
                    actor=self.hq_actor, account_id=account_id, data=ContactCreate(name="张伟")
                )
            ).id
        else:
            child_id = (
                await account_services.create_holding(
                    actor=self.hq_actor, account_id=account_id, data=HoldingCreate(product="专线 100M")
                )
            ).id
        self.names[str(child_id)] = f"{kind}({self.names.get(str(account_id), account_id)})"
        if not fresh:
            self._children[kind, account_id] = child_id
        return child_id


async def build_ctx(client: httpx.AsyncClient) -> Ctx:
    """build_org, plus a rep of team A (owning one account) whom HQ deactivates through the API."""
    org = await build_org()
    hq_actor = await org.actor("hq")
    gone = await login(await make_user("rep_gone", "rep", org.units["team_a"]))
    code = f"GONE{uuid.uuid4().hex[:8]}"
    gone_account = (
        await account_services.create_account(
            actor=hq_actor, data=AccountCreate(code=code, name=f"客户 {code}", owner_id=gone.id)
        )
    ).id
    r = await client.get("/api/me", headers=gone.headers)
    assert r.status_code == 200, f"the rep's session did not work even before the deactivation: {r.text}"
    r = await client.patch(f"/api/users/{gone.id}", json={"isActive": False}, headers=org.hq.headers)
    assert r.status_code == 200, f"HQ could not deactivate a rep: {r.status_code} {r.text}"
    return Ctx(client=client, org=org, hq_actor=hq_actor, deactivated=gone, deactivated_account=gone_account)


# ---------------------------------------------------------------- targets


def _missing() -> uuid.UUID:
    return uuid.uuid4()


def _account_owners(persona: str) -> list[str]:
    if persona == "anonymous":
        return ["rep_a", "rep_c"]
    if persona == "deactivated":
        return ["deactivated", "rep_a", "rep_c"]
    return [persona, *(o for o in ("rep_a", "rep_a2", "rep_b", "rep_c") if o != persona)]


def _home_owner(persona: str) -> str:
    """Whose account stands for 'the persona's own' (anonymous has none: a rep's)."""
    return "rep_a" if persona == "anonymous" else persona


async def no_target(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    del ctx, persona, fresh
    return [Target("-")]


async def account_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """Own, subordinate's or peer's, other team's accounts, and a nonexistent one."""
    targets = []
    for owner in _account_owners(persona):
        account_id = await ctx.account(owner, fresh=fresh)
        targets.append(Target(relation(persona, owner), {"account_id": account_id}, who=owner))
    targets.append(Target("nonexistent", {"account_id": _missing()}))
    return targets


async def account_ref_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The account targets, named in the request body (parentId) instead of the path."""
    return [Target(t.label, who=t.who, ref=t.params["account_id"]) for t in await account_targets(ctx, persona, fresh)]


def child_targets(kind: str) -> Callable[[Ctx, str, bool], Awaitable[list[Target]]]:
    """A contact or holding of each account target, plus one of another team's account asked for under
    the persona's own account id (it must not be reachable through an account the caller does see)."""
    key = f"{kind}_id"

    async def targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
        result = []
        for owner in _account_owners(persona):
            account_id = await ctx.account(owner, fresh=fresh)
            child_id = await ctx.child(kind, account_id, fresh=fresh)
            result.append(Target(relation(persona, owner), {"account_id": account_id, key: child_id}, who=owner))
        own = await ctx.account(_home_owner(persona), fresh=fresh)
        foreign = await ctx.child(kind, await ctx.account("rep_c", fresh=fresh), fresh=fresh)
        result.append(Target(f"own account + rep_c's {kind}", {"account_id": own, key: foreign}))
        result.append(Target("nonexistent", {"account_id": _missing(), key: _missing()}))
        return result

    return targets


async def parent_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The persona's own (new) account, pointed at each account target as its parent group."""
    result = []
    for target in await account_targets(ctx, persona, fresh=False):
        own = await ctx.account(_home_owner(persona), fresh=True)
        result.append(Target(target.label, {"account_id": own}, who=target.who, ref=target.params["account_id"]))
    del fresh
    return result


async def merge_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """Each (fresh) account target, merged into a new account of the persona's own (the survivor)."""
    result = []
    for target in await account_targets(ctx, persona, fresh=True):
        own = await ctx.account(_home_owner(persona), fresh=True)
        result.append(Target(target.label, target.params, who=target.who, ref=own))
    del fresh
    return result


async def owner_ref_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """ownerId in a new account: left out, the persona, subordinates and peers, other teams, nobody."""
    del fresh
    result = [Target("ownerId left out", who=persona if persona not in SIGNED_OUT else "rep_a")]
    people = _account_owners(persona) if persona not in SIGNED_OUT else ["rep_a", "rep_c"]
    for person in people:
        if person == "deactivated":
            continue
        result.append(Target(f"ownerId={relation(persona, person)}", who=person, ref=ctx.person(person).id))
    result.append(Target("ownerId=nonexistent", ref=_missing()))
    return result


async def user_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """Self, a subordinate (or peer, or superior), other teams' people, nobody."""
    del fresh
    people = ["rep_a", "manager_a", "rep_b", "rep_c"]
    if persona != "anonymous":
        people = [persona, *(p for p in people if p != persona)]
    result = [Target(relation(persona, p), {"user_id": ctx.person(p).id}, who=p) for p in people]
    result.append(Target("nonexistent", {"user_id": _missing()}))
    return result


def _units_of(persona: str) -> list[str]:
    own = HOME.get(persona, "team_a")
    return [own, *(u for u in ("team_b", "team_c") if u != own)]


async def unit_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The persona's own org unit, others, a nonexistent one."""
    del fresh
    own = HOME.get(persona)
    result = [
        Target("own unit" if u == own else f"unit {u}", {"unit_id": ctx.unit(u)}, who=u) for u in _units_of(persona)
    ]
    result.append(Target("nonexistent", {"unit_id": _missing()}))
    return result


async def unit_ref_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """An org unit named in the body (parentId, orgUnitId): own, others, nonexistent."""
    del fresh
    own = HOME.get(persona)
    result = [Target("own unit" if u == own else f"unit {u}", who=u, ref=ctx.unit(u)) for u in _units_of(persona)]
    result.append(Target("nonexistent unit", ref=_missing()))
    return result


async def fresh_unit_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A new empty org unit in the persona's subtree and one elsewhere (deletes need fresh ones)."""
    del fresh
    result = []
    for label, parent in (("empty unit in own subtree", HOME.get(persona, "team_a")), ("empty unit in Wuhan", "wuhan")):
        unit_id = await make_unit(f"Empty {next(ctx.counter)}", "team", ctx.unit(parent))
        result.append(Target(label, {"unit_id": unit_id}, who=parent))
    result.append(Target("nonexistent", {"unit_id": _missing()}))
    return result


async def import_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """One small, valid CSV file of each kind (the rows of contacts, holdings, revenue name another team's account)."""
    del persona, fresh
    account = await account_services.get_account(actor=ctx.hq_actor, account_id=await ctx.account("rep_c", fresh=False))
    code = account.code
    files = {
        "accounts": f"code,name,owner\n{ctx.code()},导入客户,rep_a\n",
        "contacts": f"account_code,name,title\n{code},王芳,CFO\n",
        "holdings": f"account_code,product,quantity,monthly_fee\n{code},物联网卡,10,99.50\n",
        "revenue": f"account_code,month,amount\n{code},2024-03,12345.67\n",
    }
    return [Target(f"kind={kind}", params={"kind": kind}, ref=csv_text) for kind, csv_text in files.items()]


async def session_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A session of its own for each logout, so the persona's usual one survives."""
    del fresh
    if persona in SIGNED_OUT:
        return [Target("own session", headers=ctx.headers(persona))]
    person = ctx.person(persona)
    response, _ = await org_services.login(
        username=person.username, password=PASSWORD, ip="10.0.0.2", user_agent="authz", old_token=None
    )
    return [Target("own session", headers={"Authorization": f"Bearer {response.token}"})]


async def device_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A sync client bound to the persona, one bound to someone else, and one never seen."""
    del fresh
    from fieldcrm.sync.tables import SyncClient

    owner = persona if persona not in SIGNED_OUT else "rep_a"
    own, other = uuid.uuid4(), uuid.uuid4()
    await SyncClient.insert(
        SyncClient(id=own, user=ctx.person(owner).id),
        SyncClient(id=other, user=ctx.person("rep_b" if owner != "rep_b" else "rep_a").id),
    )
    return [
        Target("own device", params={"clientId": str(own)}, who=owner, ref=own),
        Target("someone else's device", params={"clientId": str(other)}, who="someone else", ref=other),
        Target("new device", params={"clientId": str(uuid.uuid4())}, who=None, ref=None),
    ]


# ---------------------------------------------------------------- expected answers

Expect = Callable[[str, Target], "int | str"]


def scoped(ok: int, roles: frozenset[str] = EVERYONE, *, role_first: bool = True, miss: int = 404) -> Expect:
    """An object in the persona's data scope: ``ok``; out of scope or missing: ``miss``; role not allowed: 403.

    ``role_first``: the service checks the role before looking the object up (403 for every id);
    otherwise it looks up first (404 out of scope, 403 only on objects the caller sees).
    """

    def expect(persona: str, target: Target) -> int | str:
        if persona in SIGNED_OUT:
            return 401
        allowed = ROLE[persona] in roles
        if role_first and not allowed:
            return 403
        if target.who is None or not sees(persona, target.who):
            return miss
        return ok if allowed else 403

    return expect


def role_only(ok: int | str, roles: frozenset[str] = EVERYONE, *, miss: int | None = None) -> Expect:
    """No data scope: the role decides (403), then the object must exist (``miss``, if it can be missing)."""

    def expect(persona: str, target: Target) -> int | str:
        if persona in SIGNED_OUT:
            return 401
        if ROLE[persona] not in roles:
            return 403
        if target.who is None and miss is not None:
            return miss
        return ok

    return expect


def device(new: int) -> Expect:
    """A device id is the caller's own (200), another user's (403 for push and pull), or new (``new``)."""

    def expect(persona: str, target: Target) -> int | str:
        if persona in SIGNED_OUT:
            return 401
        if target.who is None:
            return new
        return 200 if target.who == persona else 403

    return expect


def own_device_only(persona: str, target: Target) -> int | str:
    """Rejections are read on the device's own user's behalf only; any other id is missing (404)."""
    if persona in SIGNED_OUT:
        return 401
    return 200 if target.who == persona else 404


def create_account_with_owner(persona: str, target: Target) -> int | str:
    """A rep creates accounts for themselves only (403); a leader for people they see (else 422)."""
    if persona in SIGNED_OUT:
        return 401
    if target.who == persona:
        return 201
    if ROLE[persona] == "rep":
        return 403
    return 201 if target.who is not None and sees(persona, target.who) else 422


def beyond_own_subtree(persona: str, target: Target) -> int | str:
    """Handing a visible account to someone (or some unit) outside the leader's subtree: 422; HQ has no outside."""
    if persona in SIGNED_OUT:
        return 401
    if target.who is None or not sees(persona, target.who):
        return 404
    if ROLE[persona] == "rep":
        return 403
    return 200 if ROLE[persona] == "hq_admin" else 422


def unit_in_own_subtree(persona: str, target: Target) -> int | str:
    """An org unit named in a new account must lie in the caller's part of the tree (else 422), reps too."""
    if persona in SIGNED_OUT:
        return 401
    if target.who is None:
        return 422
    return 201 if ROLE[persona] == "hq_admin" or under(target.who, HOME[persona]) else 422


# ---------------------------------------------------------------- request bodies

Body = Callable[[Ctx, str, Target], dict[str, Any]]


def json_body(make: Callable[[Ctx, str, Target], dict[str, Any]]) -> Body:
    return lambda ctx, persona, target: {"json": make(ctx, persona, target)}


def _new_account(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    del persona, target
    code = ctx.code()
    return {"code": code, "name": f"新客户 {code}"}


def _reassign_to(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    if persona not in SIGNED_OUT and ROLE[persona] != "rep":
        new_owner = SUBORDINATE[persona] if target.who == persona else persona
    else:
        new_owner = "rep_a" if persona == "rep_a2" else "rep_a2"
    return {"ownerId": str(ctx.person(new_owner).id)}


def _move_unit(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    del target
    if persona in SIGNED_OUT or ROLE[persona] == "rep":
        return {"orgUnitId": str(ctx.unit("jinan"))}  # not the rep's team: a real move
    return {"orgUnitId": str(ctx.unit(HOME[persona]))}


def _user_create(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    del persona
    n = next(ctx.counter)
    return {
        "username": f"new_person_{n}",
        "displayName": f"New Person {n}",
        "password": "a long enough password",
        "role": "rep",
        "orgUnitId": str(target.ref),
    }


BODIES: dict[str, Body] = {
    "account.create": json_body(_new_account),
    "account.create.owner": json_body(
        lambda ctx, p, t: {**_new_account(ctx, p, t), **({"ownerId": str(t.ref)} if t.ref else {})}
    ),
    "account.create.parent": json_body(lambda ctx, p, t: {**_new_account(ctx, p, t), "parentId": str(t.ref)}),
    "account.create.unit": json_body(lambda ctx, p, t: {**_new_account(ctx, p, t), "orgUnitId": str(t.ref)}),
    "account.patch": json_body(lambda ctx, p, t: {"name": f"改名 {next(ctx.counter)}", "notes": "authz"}),
    "account.patch.owner": json_body(_reassign_to),
    "account.patch.unit": json_body(_move_unit),
    "account.patch.owner.elsewhere": json_body(lambda ctx, p, t: {"ownerId": str(ctx.person("rep_c").id)}),
    "account.patch.unit.elsewhere": json_body(lambda ctx, p, t: {"orgUnitId": str(ctx.unit("team_c"))}),
    "account.patch.code": json_body(lambda ctx, p, t: {"code": ctx.code()}),
    "account.patch.parent": json_body(lambda ctx, p, t: {"parentId": str(t.ref)}),
    "account.merge": json_body(lambda ctx, p, t: {"survivorId": str(t.ref)}),
    "tier": json_body(lambda ctx, p, t: {"tier": "A", "reason": "strategic customer"}),
    "revenue": json_body(lambda ctx, p, t: {"months": [{"month": "2024-01", "amountCents": 123_400}]}),
    "contact.create": json_body(lambda ctx, p, t: {"name": "李娜", "title": "CIO", "phones": ["+86 531 8888 0000"]}),
    "contact.patch": json_body(lambda ctx, p, t: {"title": "CTO"}),
    "holding.create": json_body(lambda ctx, p, t: {"product": "云专线 1G", "quantity": 2, "monthlyFeeCents": 50_000}),
    "holding.patch": json_body(lambda ctx, p, t: {"quantity": 3}),
    "unit.create": json_body(
        lambda ctx, p, t: {"name": f"New team {next(ctx.counter)}", "kind": "team", "parentId": str(t.ref)}
    ),
    "unit.patch": json_body(lambda ctx, p, t: {"name": f"Renamed {next(ctx.counter)}"}),
    "user.create": json_body(_user_create),
    "user.patch": json_body(lambda ctx, p, t: {"phone": "+86 531 0000 0000"}),
    "note.create": json_body(lambda ctx, p, t: {"text": "拜访：客户计划扩容专线"}),
    "sync.push": json_body(lambda ctx, p, t: {"clientId": t.params["clientId"], "mutations": []}),
    "sync.pull": json_body(lambda ctx, p, t: {"clientId": t.params["clientId"], "cursor": None}),
    "sync.rejections": lambda ctx, p, t: {"params": {"clientId": t.params["clientId"]}},
    "import.csv": lambda ctx, p, t: {
        "params": {"kind": t.params["kind"]},
        "content": t.ref.encode(),
        "headers": {"Content-Type": "text/csv"},
    },
}


# ---------------------------------------------------------------- field work: visits, plans, proposals


def _png() -> bytes:
    """A real 8x8 PNG: photos are decoded and re-encoded, so a header alone is refused."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


_PNG = _png()


async def _actor_of(ctx: Ctx, owner: str) -> Actor:
    return await ctx.org.actor(owner)


def _owners(persona: str) -> list[str]:
    """Account owners as elsewhere, less the deactivated rep (who can make nothing; their callers get 401)."""
    return [o for o in _account_owners(persona) if o != "deactivated"]


async def visit_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A new check-in (no location: waiting for review, with a photo) by each owner at their account."""
    del fresh
    targets = []
    for owner in _owners(persona):
        actor = await _actor_of(ctx, owner)
        data = CheckinCreate(id=uuid.uuid4(), account_id=await ctx.account(owner, fresh=False), device_at=utcnow())
        visit, _ = await visit_services.check_in(actor=actor, data=data)
        await visit_services.put_photo(actor=actor, visit_id=visit.id, content=_PNG, content_type="image/png")
        ctx.names[str(visit.id)] = f"visit({owner})"
        targets.append(Target(relation(persona, owner), {"visit_id": visit.id}, who=owner))
    targets.append(Target("nonexistent", {"visit_id": _missing()}))
    return targets


async def plan_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A plan for today, made by HQ for each owner at their account."""
    del fresh
    targets = []
    for owner in _owners(persona):
        data = VisitPlanCreate(
            account_id=await ctx.account(owner, fresh=False), date=business_today(), owner_id=ctx.person(owner).id
        )
        plan = await visit_services.create_plan(actor=ctx.hq_actor, data=data)
        ctx.names[str(plan.id)] = f"plan({owner})"
        targets.append(Target(relation(persona, owner), {"plan_id": plan.id}, who=owner))
    targets.append(Target("nonexistent", {"plan_id": _missing()}))
    return targets


async def proposal_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A location proposed by each owner's accurate check-in at a new account without a pin."""
    del fresh
    targets = []
    for owner in _owners(persona):
        account_id = await ctx.account(owner, fresh=True)
        data = CheckinCreate(
            id=uuid.uuid4(), account_id=account_id, latitude=36.65, longitude=117.12, accuracy_m=8, device_at=utcnow()
        )
        await visit_services.check_in(actor=await _actor_of(ctx, owner), data=data)
        proposals = await visit_services.list_proposals(actor=ctx.hq_actor, page=PageParams(limit=100))
        proposal = next(p for p in proposals.items if p.account_id == account_id)
        targets.append(Target(relation(persona, owner), {"proposal_id": proposal.id}, who=owner))
    targets.append(Target("nonexistent", {"proposal_id": _missing()}))
    return targets


def own_visit(ok: int) -> Expect:
    """Only the person who checked in changes a visit: theirs ``ok``, another's they see 403, else 404."""

    def expect(persona: str, target: Target) -> int | str:
        if persona in SIGNED_OUT:
            return 401
        if target.who is None or not sees(persona, target.who):
            return 404
        return ok if target.who == persona else 403

    return expect


def review_visit(persona: str, target: Target) -> int | str:
    """Leaders review check-ins they see (reps 403 for any id), never their own (403)."""
    if persona in SIGNED_OUT:
        return 401
    if ROLE[persona] not in LEADERS:
        return 403
    if target.who is None or not sees(persona, target.who):
        return 404
    return 403 if target.who == persona else 200


def _checkin_body(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    del ctx, persona
    return {"id": str(uuid.uuid4()), "accountId": str(target.ref), "deviceAt": utcnow().isoformat()}


BODIES.update(
    {
        "checkin": json_body(_checkin_body),
        "checkout": json_body(lambda ctx, p, t: {"deviceAt": utcnow().isoformat()}),
        "visit.log": json_body(lambda ctx, p, t: {"purpose": "authz", "outcome": "ok"}),
        "visit.photo": lambda ctx, p, t: {"content": _PNG, "headers": {"Content-Type": "image/png"}},
        "review": json_body(lambda ctx, p, t: {"decision": "accept", "comment": "ok"}),
        "plan.create": json_body(lambda ctx, p, t: {"accountId": str(t.ref), "date": business_today().isoformat()}),
        "plan.patch": json_body(lambda ctx, p, t: {"purpose": "authz"}),
        "proposal.decide": json_body(lambda ctx, p, t: {"decision": "confirm"}),
        "locate": json_body(lambda ctx, p, t: {"latitude": 36.6, "longitude": 117.0, "reason": "authz check"}),
        "map": lambda ctx, p, t: {"params": {"bbox": "73,18,135,54", "zoom": 5}},
    }
)


# ---------------------------------------------------------------- sales, cases, delivery projects
# Objects are built as HQ by tests/sales/objects.py; each belongs to an account, whose owner decides the scope.


def _sales_owners(persona: str) -> list[str]:
    return [o for o in _account_owners(persona) if o != "deactivated"]


def sales_targets(
    kind: str, key: str, *, state: str | None = None
) -> Callable[[Ctx, str, bool], Awaitable[list[Target]]]:
    """A new ``kind`` (opportunity, quote, case, project) on each owner's account, and a nonexistent one."""

    async def targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
        from tests.sales import objects

        result = []
        for owner in _sales_owners(persona):
            object_id = await objects.make(kind, ctx.hq_actor, await ctx.account(owner, fresh=fresh), state=state)
            ctx.names[str(object_id)] = f"{kind}({owner})"
            result.append(Target(relation(persona, owner), {key: object_id}, who=owner))
        result.append(Target("nonexistent", {key: _missing()}))
        return result

    return targets


async def won_opportunity_ref_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A won opportunity on each owner's account, named in the body (opportunityId), and a nonexistent one."""
    del fresh
    from tests.sales import objects

    result = []
    for owner in _sales_owners(persona):
        won = await objects.make("won_opportunity", ctx.hq_actor, await ctx.account(owner, fresh=False))
        result.append(Target(relation(persona, owner), who=owner, ref=won))
    result.append(Target("nonexistent opportunity", ref=_missing()))
    return result


async def product_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A catalogue product (no data scope: everyone reads the catalogue) and a nonexistent one."""
    del persona, fresh
    from tests.sales import objects

    return [
        Target("product", {"product_id": await objects.product(ctx.hq_actor)}, who="catalogue"),
        Target("nonexistent", {"product_id": _missing()}),
    ]


async def stage_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """An existing funnel stage."""
    del ctx, persona, fresh
    return [Target("stage proposal", {"key": "proposal"}, who="funnel")]


BODIES.update(
    {
        "product.create": json_body(
            lambda ctx, p, t: {"code": ctx.code(), "name": "云专线 1G", "listPriceCents": 120_000, "maxDiscountBp": 500}
        ),
        "product.patch": json_body(lambda ctx, p, t: {"listPriceCents": 99_000}),
        "stage.put": json_body(lambda ctx, p, t: {"name": "Proposal", "probability": 50, "position": 30}),
        "opportunity.create": json_body(lambda ctx, p, t: {"accountId": str(t.ref), "name": "扩容专线"}),
        "opportunity.patch": json_body(lambda ctx, p, t: {"nextStep": "约 CIO 面谈"}),
        "quote.create": json_body(lambda ctx, p, t: {"accountId": str(t.ref), "lines": []}),
        "quote.patch": json_body(lambda ctx, p, t: {"title": f"报价 {next(ctx.counter)}"}),
        "quote.submit": json_body(lambda ctx, p, t: {"action": "submit"}),
        "case.create": json_body(lambda ctx, p, t: {"accountId": str(t.ref), "type": "fault", "title": "专线中断"}),
        "project.create": json_body(lambda ctx, p, t: {"opportunityId": str(t.ref)}),
    }
)


# ---------------------------------------------------------------- approvals: steps of a test-only "memo" subject

_MEMOS = MemoSubject()
# Who decides the manager step of a memo (discount 10%) by each owner: their manager, or the next level up.
STEP_DECIDER = {
    "rep_a": "manager_a",
    "rep_a2": "manager_a",
    "rep_b": "manager_b",
    "rep_c": "manager_c",
    "manager_a": "director",
    "manager_b": "director",
    "director": "hq",
    "hq": "hq",
}


def _memo_owners(persona: str) -> list[str]:
    return [o for o in _account_owners(persona) if o != "deactivated"]


async def step_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The first step of a new memo approval of each owner (own, subordinate's or peer's, other team's)."""
    del fresh
    register_subject(_MEMOS)
    if not await WorkflowDefinition.exists().where(WorkflowDefinition.key == "memo-approval"):
        await workflow_services.put_definition(actor=ctx.hq_actor, key="memo-approval", body=memo_definition())
    targets = []
    for owner in _memo_owners(persona):
        memo = _MEMOS.add(ctx.person(owner).id, discount_bp=1000)
        instance = await workflow_services.start(actor=None, kind="memo", subject_id=memo.id)
        ctx.names[str(instance.steps[0].id)] = f"step({owner})"
        params = {"step_id": instance.steps[0].id, "subjectId": str(memo.id)}
        targets.append(Target(relation(persona, owner), params, who=owner))
    targets.append(Target("nonexistent", {"step_id": _missing(), "subjectId": str(_missing())}))
    return targets


def step_decider(persona: str, target: Target) -> int | str:
    """Whoever sees the memo reads its step (404 otherwise); only its decider decides (others 403), and never
    on their own memo (separation of duties: HQ's own memo waits for another HQ admin)."""
    if persona in SIGNED_OUT:
        return 401
    if target.who is None or not sees(persona, target.who):
        return 404
    return 200 if STEP_DECIDER[target.who] == persona and target.who != persona else 403


async def definition_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The shipped quote-approval definition, and a key nobody defined."""
    del ctx, persona, fresh
    await workflow_services.load_definition_files()
    return [Target("quote-approval", {"key": "quote-approval"}, who="hq"), Target("nonexistent", {"key": "no-such"})]


async def delegation_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A delegation of the persona's own, one of someone else's, and one that does not exist."""
    del fresh
    owner = persona if persona not in SIGNED_OUT else "rep_a"
    other = "rep_c" if owner != "rep_c" else "rep_b"
    targets = []
    for label, who in (("own", owner), (f"{other}'s", other)):
        delegation_id = uuid.uuid4()
        deputy = ctx.person("manager_b" if who != "manager_b" else "manager_a").id
        now = utcnow()
        await WorkflowDelegation.insert(
            WorkflowDelegation(
                id=delegation_id,
                user=ctx.person(who).id,
                delegate=deputy,
                starts_at=now,
                ends_at=now + datetime.timedelta(days=1),
            )
        )
        targets.append(Target(label, {"delegation_id": delegation_id}, who=who))
    targets.append(Target("nonexistent", {"delegation_id": _missing()}))
    return targets


async def existing_definition_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The shipped quote-approval definition (a PUT to a new key creates one: no missing target)."""
    return (await definition_targets(ctx, persona, fresh))[:1]


def own_delegation(persona: str, target: Target) -> int | str:
    """Only the person away ends their delegation; any other id is missing (404)."""
    if persona in SIGNED_OUT:
        return 401
    return 204 if target.who == persona else 404


def _delegation_body(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    del target
    now = utcnow()
    deputy = "director" if persona != "director" else "manager_a"  # a leader above, or in the persona's scope
    return {
        "delegateId": str(ctx.person(deputy).id),
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(days=2)).isoformat(),
    }


BODIES.update(
    {
        "approval.decide": lambda ctx, p, t: {
            "json": {"decision": "approve", "comment": "authz"},
            "headers": {"Idempotency-Key": str(uuid.uuid4())},
        },
        "workflow.history": lambda ctx, p, t: {"params": {"subjectKind": "memo", "subjectId": t.params["subjectId"]}},
        "workflow.definition": json_body(
            lambda ctx, p, t: json.loads((workflow_services.DEFINITIONS_DIR / "quote-approval.json").read_text())
        ),
        "delegation.create": json_body(_delegation_body),
    }
)


# ---------------------------------------------------------------- targets, KPIs and reports


async def target_person_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A month's targets of oneself, a subordinate or peer, other teams' people, nobody."""
    del fresh
    people = ["rep_a", "manager_a", "rep_b", "rep_c"]
    if persona not in SIGNED_OUT:
        people = [persona, *(p for p in people if p != persona)]
    month = {"level": "rep", "month": "2026-12"}
    result = [Target(relation(persona, p), {**month, "subject_id": ctx.person(p).id}, who=p) for p in people]
    result.append(Target("nonexistent", {**month, "subject_id": _missing()}))
    return result


def sets_targets(persona: str, target: Target) -> int | str:
    """Leaders set the targets of people they see, never their own; a rep none (403 before any lookup)."""
    if persona in SIGNED_OUT:
        return 401
    if ROLE[persona] == "rep":
        return 403
    if target.who is None or not sees(persona, target.who):
        return 404
    return 403 if target.who == persona else 200


async def report_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """Two reports and one that does not exist."""
    del ctx, persona, fresh
    return [
        Target("funnel", {"name": "funnel"}, who="-"),
        Target("revenue by region", {"name": "revenue-by-region"}, who="-"),
        Target("nonexistent", {"name": "no-such-report"}),
    ]


BODIES.update({"target.put": json_body(lambda ctx, p, t: {"wonRevenueCents": 100_000, "visitsA": 4})})


# ---------------------------------------------------------------- Web Push (devices and preferences are one's own)


async def push_key_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """The server's public key (a key pair installed as `fieldcrm vapid` would make one)."""
    del ctx, fresh
    from fieldcrm.notifications.subscriptions import use_vapid_keys
    from fieldcrm_push import VapidKeys

    use_vapid_keys(VapidKeys.generate())
    return [Target("server key", who=persona)]


def _browser_subscription() -> dict[str, Any]:
    """A browser's PushSubscription.toJSON() at FCM (never sent to: only registered)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from fieldcrm_push import b64url_encode
    from fieldcrm_push.keys import public_key_bytes

    point = public_key_bytes(ec.generate_private_key(ec.SECP256R1()).public_key())
    return {
        "endpoint": f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}",
        "expirationTime": None,
        "keys": {"p256dh": b64url_encode(point), "auth": b64url_encode(uuid.uuid4().bytes)},
    }


async def push_device_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A push device of the persona's own, one of someone else's, and one that does not exist."""
    del fresh
    from fieldcrm.notifications.tables import PushSubscription

    owner = persona if persona not in SIGNED_OUT else "rep_a"
    other = "rep_b" if owner != "rep_b" else "rep_a"
    targets = []
    for label, who in (("own", owner), (f"{other}'s", other)):
        sub = _browser_subscription()
        device_id = uuid.uuid4()
        await PushSubscription.insert(
            PushSubscription(
                id=device_id,
                user=ctx.person(who).id,
                endpoint=sub["endpoint"],
                p256dh=sub["keys"]["p256dh"],
                auth=sub["keys"]["auth"],
            )
        )
        targets.append(Target(label, {"subscription_id": device_id}, who=who))
    targets.append(Target("nonexistent", {"subscription_id": _missing()}))
    return targets


def public(persona: str, target: Target) -> int | str:
    """Anyone, signed in or not, gets it."""
    del persona, target
    return 200


def own_push_device(persona: str, target: Target) -> int | str:
    """Only the device's own user removes it; any other id is missing (404)."""
    if persona in SIGNED_OUT:
        return 401
    return 204 if target.who == persona else 404


BODIES.update(
    {
        "push.subscribe": json_body(lambda ctx, p, t: _browser_subscription()),
        "push.preferences": json_body(
            lambda ctx, p, t: {"approvals": True, "quietHours": {"start": "22:00", "end": "07:00"}}
        ),
    }
)


# ---------------------------------------------------------------- tasks and the calendar (the assignee's scope)


async def task_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A task HQ gave each owner (own, subordinate's or peer's, other team's), and a nonexistent one."""
    del fresh
    from fieldcrm.tasks import services as task_services
    from fieldcrm.tasks.schemas import TaskCreate

    targets = []
    for owner in _owners(persona):
        data = TaskCreate(title="回访", due_date=business_today(), assignee_id=ctx.person(owner).id)
        task = await task_services.create_task(actor=ctx.hq_actor, data=data)
        ctx.names[str(task.id)] = f"task({owner})"
        targets.append(Target(relation(persona, owner), {"task_id": task.id}, who=owner))
    targets.append(Target("nonexistent", {"task_id": _missing()}))
    return targets


async def feed_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """rep_a's live feed address, one revoked, one of a deactivated person, one unknown, one without .ics."""
    del persona, fresh
    import msgspec

    from fieldcrm.tasks import ics

    live = await ics.rotate_feed(actor=await ctx.org.actor("rep_a"))
    revoked = await ics.rotate_feed(actor=await ctx.org.actor("rep_b"))
    await ics.revoke_feed(actor=await ctx.org.actor("rep_b"))
    deactivated = await ics.rotate_feed(actor=msgspec.structs.replace(ctx.hq_actor, id=ctx.deactivated.id))
    return [
        Target("rep_a's feed", {"name": f"{live.secret}.ics"}, who="rep_a"),
        Target("revoked feed", {"name": f"{revoked.secret}.ics"}),
        Target("deactivated person's feed", {"name": f"{deactivated.secret}.ics"}),
        Target("unknown secret", {"name": f"{uuid.uuid4().hex}.ics"}),
        Target("secret without .ics", {"name": live.secret}),
    ]


def feed_address(persona: str, target: Target) -> int | str:
    """The address is the key: anyone holding a live one gets the feed (no session); anything else 404."""
    del persona
    return 200 if target.who is not None else 404


def _calendar_params(ctx: Ctx, persona: str, target: Target) -> dict[str, Any]:
    del ctx, persona
    today = business_today()
    week = {"from": today.isoformat(), "to": (today + datetime.timedelta(days=6)).isoformat()}
    return {"params": {**week, "userId": str(target.params["user_id"])}}


BODIES.update(
    {
        "task.create": json_body(lambda ctx, p, t: {"title": "回访", "dueDate": business_today().isoformat()}),
        "task.create.assignee": json_body(
            lambda ctx, p, t: {
                "title": "回访",
                "dueDate": business_today().isoformat(),
                **({"assigneeId": str(t.ref)} if t.ref else {}),
            }
        ),
        "task.patch": json_body(lambda ctx, p, t: {"title": f"回访 {next(ctx.counter)}"}),
        "task.complete": json_body(lambda ctx, p, t: {"outcome": "ok"}),
        "task.skip": json_body(lambda ctx, p, t: {"reason": "客户出差"}),
        "calendar": _calendar_params,
    }
)


# ---------------------------------------------------------------- the table

Targets = Callable[[Ctx, str, bool], Awaitable[list[Target]]]


@dataclass(frozen=True)
class Row:
    """One operation (or one variant of it: a PATCH that reassigns is not a PATCH that renames)."""

    method: str
    path: str
    variant: str
    targets: Targets
    expect: Expect
    body: str | None = None  # a key of BODIES
    fresh: bool = False  # new objects for every call (the call removes or moves them)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} [{self.variant}]"


ACC = "/api/accounts/{account_id}"
CONTACT = ACC + "/contacts/{contact_id}"
HOLDING = ACC + "/holdings/{holding_id}"

ROWS: list[Row] = [
    # sessions
    Row("GET", "/api/me", "who am I", no_target, role_only(200)),
    Row("POST", "/api/auth/logout", "end own session", session_targets, role_only(204)),
    # org units: readable by everyone signed in, managed by HQ
    Row("GET", "/api/org-units", "list", no_target, role_only(200)),
    Row(
        "POST",
        "/api/org-units",
        "create under parentId",
        unit_ref_targets,
        role_only(201, HQ_ONLY, miss=422),
        body="unit.create",
    ),
    Row("GET", "/api/org-units/{unit_id}", "read", unit_targets, role_only(200, miss=404)),
    Row(
        "PATCH",
        "/api/org-units/{unit_id}",
        "rename",
        unit_targets,
        role_only(200, HQ_ONLY, miss=404),
        body="unit.patch",
    ),
    Row(
        "DELETE",
        "/api/org-units/{unit_id}",
        "delete empty unit",
        fresh_unit_targets,
        role_only(204, HQ_ONLY, miss=404),
        fresh=True,
    ),
    # users: everyone reads within their scope, HQ manages
    Row("GET", "/api/users", "list", no_target, role_only(200)),
    Row(
        "POST",
        "/api/users",
        "create in orgUnitId",
        unit_ref_targets,
        role_only(201, HQ_ONLY, miss=422),
        body="user.create",
    ),
    Row("GET", "/api/users/{user_id}", "read", user_targets, scoped(200)),
    Row(
        "PATCH",
        "/api/users/{user_id}",
        "change phone",
        user_targets,
        role_only(200, HQ_ONLY, miss=404),
        body="user.patch",
    ),
    # accounts
    Row("GET", "/api/accounts", "list", no_target, role_only(200)),
    Row("POST", "/api/accounts", "create for self", no_target, role_only(201), body="account.create"),
    Row(
        "POST",
        "/api/accounts",
        "create with ownerId",
        owner_ref_targets,
        create_account_with_owner,
        body="account.create.owner",
    ),
    Row(
        "POST",
        "/api/accounts",
        "create with parentId",
        account_ref_targets,
        scoped(201, miss=422),
        body="account.create.parent",
    ),
    Row(
        "POST",
        "/api/accounts",
        "create with orgUnitId",
        unit_ref_targets,
        unit_in_own_subtree,
        body="account.create.unit",
    ),
    Row("GET", ACC, "read", account_targets, scoped(200)),
    Row("PATCH", ACC, "rename", account_targets, scoped(200), body="account.patch"),
    Row(
        "PATCH",
        ACC,
        "reassign ownerId",
        account_targets,
        scoped(200, LEADERS, role_first=False),
        body="account.patch.owner",
        fresh=True,
    ),
    Row(
        "PATCH",
        ACC,
        "reassign to rep_c (outside every subtree but HQ's)",
        account_targets,
        beyond_own_subtree,
        body="account.patch.owner.elsewhere",
        fresh=True,
    ),
    Row(
        "PATCH",
        ACC,
        "move orgUnitId",
        account_targets,
        scoped(200, LEADERS, role_first=False),
        body="account.patch.unit",
        fresh=True,
    ),
    Row(
        "PATCH",
        ACC,
        "move to orgUnitId team_c",
        account_targets,
        beyond_own_subtree,
        body="account.patch.unit.elsewhere",
        fresh=True,
    ),
    Row(
        "PATCH",
        ACC,
        "change code",
        account_targets,
        scoped(200, LEADERS, role_first=False),
        body="account.patch.code",
        fresh=True,
    ),
    Row(
        "PATCH",
        ACC,
        "own account, parentId=target",
        parent_targets,
        scoped(200, miss=422),
        body="account.patch.parent",
        fresh=True,
    ),
    Row("DELETE", ACC, "delete", account_targets, scoped(204, LEADERS), fresh=True),
    Row("POST", ACC + "/merge", "merge into an own account", merge_targets, scoped(200, LEADERS), body="account.merge"),
    Row("GET", ACC + "/overview", "customer 360", account_targets, scoped(200)),
    Row("POST", ACC + "/tier", "override tier", account_targets, scoped(200, HQ_ONLY), body="tier", fresh=True),
    Row("GET", ACC + "/revenue", "read", account_targets, scoped(200)),
    Row("PUT", ACC + "/revenue", "write", account_targets, scoped(200, HQ_ONLY), body="revenue", fresh=True),
    Row("GET", ACC + "/audit", "audit trail", account_targets, scoped(200, LEADERS)),
    # contacts and holdings: anyone who sees the account
    Row("GET", ACC + "/contacts", "list", account_targets, scoped(200)),
    Row("POST", ACC + "/contacts", "create", account_targets, scoped(201), body="contact.create"),
    Row("PATCH", CONTACT, "change", child_targets("contact"), scoped(200), body="contact.patch"),
    Row("DELETE", CONTACT, "delete", child_targets("contact"), scoped(204), fresh=True),
    Row("GET", ACC + "/holdings", "list", account_targets, scoped(200)),
    Row("POST", ACC + "/holdings", "create", account_targets, scoped(201), body="holding.create"),
    Row("PATCH", HOLDING, "change", child_targets("holding"), scoped(200), body="holding.patch"),
    Row("DELETE", HOLDING, "delete", child_targets("holding"), scoped(204), fresh=True),
    # CSV import and export, segmentation
    Row(
        "POST", "/api/imports", "import CSV (text/csv body)", import_targets, role_only(200, HQ_ONLY), body="import.csv"
    ),
    Row("GET", "/api/accounts/export", "export CSV", no_target, role_only(200)),
    # notes and the offline protocol
    Row("GET", ACC + "/notes", "list", account_targets, scoped(200)),
    Row("POST", ACC + "/notes", "add", account_targets, scoped(201), body="note.create"),
    Row("POST", "/api/sync/push", "push to a device", device_targets, device(200), body="sync.push"),
    Row("POST", "/api/sync/pull", "pull to a device", device_targets, device(200), body="sync.pull"),
    Row(
        "GET", "/api/sync/rejections", "a device's rejections", device_targets, own_device_only, body="sync.rejections"
    ),
    # approvals: the inbox is one's own; a step is seen with its subject and decided by its deciders only
    Row("GET", "/api/approvals", "my inbox", no_target, role_only(200)),
    Row("GET", "/api/approvals/{step_id}", "read a step", step_targets, scoped(200)),
    Row(
        "POST",
        "/api/approvals/{step_id}/decision",
        "approve",
        step_targets,
        step_decider,
        body="approval.decide",
        fresh=True,
    ),
    Row("GET", "/api/workflow-instances", "a subject's history", step_targets, scoped(200), body="workflow.history"),
    Row("GET", "/api/workflow-definitions", "list", no_target, role_only(200, HQ_ONLY)),
    Row("GET", "/api/workflow-definitions/{key}", "read", definition_targets, role_only(200, HQ_ONLY, miss=404)),
    Row(
        "PUT",
        "/api/workflow-definitions/{key}",
        "new version",
        existing_definition_targets,
        role_only(200, HQ_ONLY),
        body="workflow.definition",
    ),
    Row("GET", "/api/delegations", "mine", no_target, role_only(200)),
    Row("POST", "/api/delegations", "name a deputy", no_target, role_only(201), body="delegation.create"),
    Row("DELETE", "/api/delegations/{delegation_id}", "end", delegation_targets, own_delegation, fresh=True),
    Row("POST", "/api/segmentation", "run segmentation", no_target, role_only(200, HQ_ONLY)),
    # sales: the catalogue is read by everyone and edited by HQ; the rest is scoped by the account's owner
    Row("GET", "/api/products", "list", no_target, role_only(200)),
    Row("POST", "/api/products", "create", no_target, role_only(201, HQ_ONLY), body="product.create"),
    Row("GET", "/api/products/{product_id}", "read", product_targets, role_only(200, miss=404)),
    Row(
        "PATCH",
        "/api/products/{product_id}",
        "change price",
        product_targets,
        role_only(200, HQ_ONLY, miss=404),
        body="product.patch",
    ),
    Row("GET", "/api/opportunities/stages", "list", no_target, role_only(200)),
    Row("PUT", "/api/opportunities/stages/{key}", "change", stage_targets, role_only(200, HQ_ONLY), body="stage.put"),
    Row("GET", "/api/opportunities/pipeline", "by stage", no_target, role_only(200)),
    Row("GET", "/api/opportunities", "list", no_target, role_only(200)),
    Row("POST", "/api/opportunities", "on accountId", account_ref_targets, scoped(201), body="opportunity.create"),
    Row(
        "GET",
        "/api/opportunities/{opportunity_id}",
        "read",
        sales_targets("opportunity", "opportunity_id"),
        scoped(200),
    ),
    Row(
        "PATCH",
        "/api/opportunities/{opportunity_id}",
        "next step",
        sales_targets("opportunity", "opportunity_id"),
        scoped(200),
        body="opportunity.patch",
    ),
    Row("GET", "/api/quotes", "list", no_target, role_only(200)),
    Row("POST", "/api/quotes", "for accountId", account_ref_targets, scoped(201), body="quote.create"),
    Row("GET", "/api/quotes/{quote_id}", "read", sales_targets("quote", "quote_id"), scoped(200)),
    Row(
        "PATCH",
        "/api/quotes/{quote_id}",
        "retitle a draft",
        sales_targets("quote", "quote_id"),
        scoped(200),
        body="quote.patch",
    ),
    Row(
        "POST",
        "/api/quotes/{quote_id}/transitions",
        "submit a draft",
        sales_targets("quote", "quote_id"),
        scoped(200),
        body="quote.submit",
        fresh=True,
    ),
    Row(
        "POST",
        "/api/quotes/{quote_id}/revisions",
        "revise a rejected quote",
        sales_targets("quote", "quote_id", state="rejected"),
        scoped(201),
        fresh=True,
    ),
    Row("GET", "/api/quotes/{quote_id}/print", "printable page", sales_targets("quote", "quote_id"), scoped(200)),
    # cases and delivery projects
    Row("GET", "/api/cases", "list", no_target, role_only(200)),
    Row("POST", "/api/cases", "on accountId", account_ref_targets, scoped(201), body="case.create"),
    Row("GET", "/api/cases/{case_id}", "read", sales_targets("case", "case_id"), scoped(200)),
    Row("GET", "/api/projects", "search", no_target, role_only(200)),
    Row("POST", "/api/projects", "from opportunityId", won_opportunity_ref_targets, scoped(201), body="project.create"),
    Row("GET", "/api/projects/{project_id}", "read", sales_targets("project", "project_id"), scoped(200)),
    # field work: visits are seen by whoever sees the account, changed only by the person who checked in
    Row("POST", "/api/checkins", "check in at accountId", account_ref_targets, scoped(201), body="checkin"),
    Row("GET", "/api/visits", "list", no_target, role_only(200)),
    Row("GET", "/api/visits/review", "review queue", no_target, role_only(200, LEADERS)),
    Row("GET", "/api/visits/{visit_id}", "read", visit_targets, scoped(200)),
    Row("POST", "/api/visits/{visit_id}/checkout", "check out", visit_targets, own_visit(200), body="checkout"),
    Row("PUT", "/api/visits/{visit_id}/log", "write the log", visit_targets, own_visit(200), body="visit.log"),
    Row("PUT", "/api/visits/{visit_id}/photo", "add a photo", visit_targets, own_visit(200), body="visit.photo"),
    Row("GET", "/api/visits/{visit_id}/photo", "see the photo", visit_targets, scoped(200)),
    Row("POST", "/api/visits/{visit_id}/review", "accept", visit_targets, review_visit, body="review", fresh=True),
    Row("GET", "/api/visit-plans", "list", no_target, role_only(200)),
    Row("GET", "/api/visit-plans/day", "today", no_target, role_only(200)),
    Row("POST", "/api/visit-plans", "plan at accountId", account_ref_targets, scoped(201), body="plan.create"),
    Row("PATCH", "/api/visit-plans/{plan_id}", "re-purpose", plan_targets, scoped(200), body="plan.patch"),
    Row("GET", "/api/location-proposals", "list", no_target, role_only(200, LEADERS)),
    Row(
        "POST",
        "/api/location-proposals/{proposal_id}/decision",
        "confirm",
        proposal_targets,
        scoped(200, LEADERS),
        body="proposal.decide",
        fresh=True,
    ),
    Row("POST", ACC + "/location", "pin the account", account_targets, scoped(200, LEADERS), body="locate", fresh=True),
    Row("GET", "/api/coverage", "shares", no_target, role_only(200)),
    Row("GET", "/api/coverage/neglected", "neglected list", no_target, role_only(200)),
    Row("GET", "/api/coverage/map", "map", no_target, role_only(200), body="map"),
    # targets (set by a leader above, never oneself), KPIs, leaderboards (leaders), reports and exports
    Row("GET", "/api/targets", "list", no_target, role_only(200)),
    Row(
        "PUT",
        "/api/targets/{level}/{subject_id}/{month}",
        "a person's month",
        target_person_targets,
        sets_targets,
        body="target.put",
    ),
    Row("GET", "/api/kpis", "my own", no_target, role_only(200)),
    Row("GET", "/api/kpis/trend", "my own", no_target, role_only(200)),
    Row("GET", "/api/kpis/leaderboard", "my unit", no_target, role_only(200, LEADERS)),
    Row("GET", "/api/kpis/leaderboard/export", "my unit as CSV", no_target, role_only(200, LEADERS)),
    Row("GET", "/api/reports/{name}", "read", report_targets, role_only(200, miss=404)),
    Row("GET", "/api/reports/{name}/export", "as CSV", report_targets, role_only(200, miss=404)),
    # Web Push: the public key is public; devices and preferences are each person's own
    Row("GET", "/api/push/public-key", "read", push_key_targets, public),
    Row("GET", "/api/push/subscriptions", "my devices", no_target, role_only(200)),
    Row("POST", "/api/push/subscriptions", "register this browser", no_target, role_only(201), body="push.subscribe"),
    Row("DELETE", "/api/push/subscriptions/{subscription_id}", "unsubscribe", push_device_targets, own_push_device),
    Row("GET", "/api/push/preferences", "mine", no_target, role_only(200)),
    Row("PUT", "/api/push/preferences", "replace mine", no_target, role_only(200), body="push.preferences"),
    # tasks: seen and changed through the assignee's scope; a rep assigns only themselves, deletes only their own
    Row("GET", "/api/tasks", "list", no_target, role_only(200)),
    Row("GET", "/api/tasks/today", "mine due and overdue", no_target, role_only(200)),
    Row("POST", "/api/tasks", "create for self", no_target, role_only(201), body="task.create"),
    Row(
        "POST",
        "/api/tasks",
        "create with assigneeId",
        owner_ref_targets,
        create_account_with_owner,
        body="task.create.assignee",
    ),
    Row("GET", "/api/tasks/{task_id}", "read", task_targets, scoped(200)),
    Row("PATCH", "/api/tasks/{task_id}", "retitle", task_targets, scoped(200), body="task.patch"),
    Row("DELETE", "/api/tasks/{task_id}", "delete HQ's task", task_targets, scoped(204, LEADERS, role_first=False)),
    Row("POST", "/api/tasks/{task_id}/complete", "done", task_targets, scoped(200), body="task.complete"),
    Row("POST", "/api/tasks/{task_id}/skip", "skip with reason", task_targets, scoped(200), body="task.skip"),
    Row("POST", "/api/tasks/{task_id}/reopen", "reopen", task_targets, scoped(200)),
    # the calendar: one's own or a person one sees; the feed address is its own key
    Row("GET", "/api/calendar", "a week of userId", user_targets, scoped(200), body="calendar"),
    Row("GET", "/api/calendar/feed", "mine exists?", no_target, role_only(200)),
    Row("POST", "/api/calendar/feed", "make or rotate mine", no_target, role_only(201)),
    Row("DELETE", "/api/calendar/feed", "revoke mine", no_target, role_only(204)),
    Row("GET", "/api/calendar/{name}", "the ICS feed by its secret", feed_targets, feed_address),
]

# ---------------------------------------------------------------- integrations, contracts, bills and collections

_svc_names = itertools.count(1)


async def _service_token(ctx: Ctx, scopes: list[str], *, revoked: bool = False) -> dict[str, str]:
    """A bearer header of a new service account with these scopes (its token revoked, if asked)."""
    from fieldcrm.integrations import service_accounts
    from fieldcrm.integrations.schemas import ServiceAccountCreate

    made = await service_accounts.create_service_account(
        actor=ctx.hq_actor, data=ServiceAccountCreate(name=f"svc-{next(_svc_names)}", scopes=scopes)
    )
    if revoked:
        await service_accounts.revoke_token(
            actor=ctx.hq_actor, account_id=made.service_account.id, token_id=made.token.details.id
        )
    return {"Authorization": f"Bearer {made.token.token}"}


def with_services(
    scope: str, targets: Callable[[Ctx, str, bool], Awaitable[list[Target]]]
) -> Callable[[Ctx, str, bool], Awaitable[list[Target]]]:
    """The targets as each persona, plus (once, as HQ's row) the first existing target called by service
    accounts: with ``scope``, without it, and with a revoked token."""

    async def wrapped(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
        result = await targets(ctx, persona, fresh)
        if persona != "hq":
            return result
        base = next((t for t in result if t.who is not None), result[0])
        others = [s for s in ("accounts:read", "billing:write", "billing:read") if s != scope][:1]
        for label, who, headers in (
            (f"service account with {scope}", "svc+", await _service_token(ctx, [scope])),
            (f"service account with {others[0]} only", "svc-", await _service_token(ctx, others)),
            (f"revoked token with {scope}", "svc-revoked", await _service_token(ctx, [scope], revoked=True)),
        ):
            result.append(Target(label, base.params, who=who, ref=base.ref, headers=headers))
        return result

    return wrapped


def service_or(expect: Expect, ok: int) -> Expect:
    """A service account's call: ``ok`` with the scope, 403 without, 401 with a revoked token; people: ``expect``."""

    def wrapped(persona: str, target: Target) -> int | str:
        if target.who == "svc+":
            return ok
        if target.who == "svc-":
            return 403
        if target.who == "svc-revoked":
            return 401
        return expect(persona, target)

    return wrapped


async def service_account_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A service account HQ made, and a nonexistent one."""
    del persona, fresh
    from fieldcrm.integrations import service_accounts
    from fieldcrm.integrations.schemas import ServiceAccountCreate

    made = await service_accounts.create_service_account(
        actor=ctx.hq_actor, data=ServiceAccountCreate(name=f"svc-{next(_svc_names)}", scopes=["accounts:read"])
    )
    return [
        Target(
            "a service account",
            {"account_id": made.service_account.id, "token_id": made.token.details.id},
            who="hq",
        ),
        Target("nonexistent", {"account_id": _missing(), "token_id": _missing()}),
    ]


async def batch_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """An applied batch and one never sent."""
    del persona, fresh
    from fieldcrm.integrations import batches

    key = f"matrix-{next(ctx.counter)}"
    await batches.apply_batch(actor=ctx.hq_actor, batch_id=key, body={"bills": []})
    return [Target("an applied batch", {"batch_id": key}, who="hq"), Target("never sent", {"batch_id": "none-such"})]


async def webhook_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A webhook HQ registered, and a nonexistent one."""
    del persona, fresh
    from fieldcrm.integrations import webhooks
    from fieldcrm.integrations.schemas import WebhookCreate

    hook = await webhooks.create_webhook(
        actor=ctx.hq_actor,
        data=WebhookCreate(url="https://93.184.216.34/hook", secret="matrix-secret-0123456789", events=["case.opened"]),
    )
    return [Target("a webhook", {"webhook_id": hook.id}, who="hq"), Target("nonexistent", {"webhook_id": _missing()})]


def contract_targets(*, signed: bool = False, document: bool = False) -> Targets:
    """A contract on each owner's account (dated, ready to sign; or signed), and a nonexistent one."""

    async def targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
        from fieldcrm.contracts import documents, services
        from fieldcrm.contracts.schemas import ContractCreate, ContractTransition

        result = []
        for owner in _sales_owners(persona):
            account_id = await ctx.account(owner, fresh=fresh)
            data = ContractCreate(
                account_id=account_id, start_on=datetime.date(2027, 1, 1), end_on=datetime.date(2027, 12, 31)
            )
            contract = await services.create_contract(actor=ctx.hq_actor, data=data)
            if signed:
                sign = ContractTransition(action="sign", signatories=["王总"])
                await services.transition(actor=ctx.hq_actor, contract_id=contract.id, data=sign)
            params: dict[str, Any] = {"contract_id": contract.id}
            if document:
                with_doc = await documents.add_document(
                    actor=ctx.hq_actor, contract_id=contract.id, content=_PDF, filename="c.pdf"
                )
                params["document_id"] = with_doc.documents[0].id
            ctx.names[str(contract.id)] = f"contract({owner})"
            result.append(Target(relation(persona, owner), params, who=owner))
        result.append(Target("nonexistent", {"contract_id": _missing(), "document_id": _missing()}))
        return result

    return targets


_PDF = b"%PDF-1.4\n" + bytes(64)
_BATCH_PATH = "/api/integrations/billing/batches/{batch_id}"


async def batch_path_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    del ctx, persona, fresh
    return [Target("a batch id", {"batch_id": "matrix-put"}, who="hq")]


BODIES.update(
    {
        "service_account.create": json_body(
            lambda ctx, p, t: {"name": f"svc-{next(_svc_names)}", "scopes": ["billing:write"]}
        ),
        "service_account.patch": json_body(lambda ctx, p, t: {"scopes": ["accounts:read", "billing:read"]}),
        "token.create": json_body(lambda ctx, p, t: {"label": "rotation"}),
        "batch.put": json_body(lambda ctx, p, t: {"bills": [], "revenue": []}),
        "webhook.create": json_body(
            lambda ctx, p, t: {
                "url": "https://93.184.216.34/hook",
                "secret": "matrix-secret-0123456789",
                "events": ["contract.signed"],
            }
        ),
        "webhook.patch": json_body(lambda ctx, p, t: {"description": f"BOSS {next(ctx.counter)}"}),
        "contract.create": json_body(lambda ctx, p, t: {"accountId": str(t.ref), "title": "年度合同"}),
        "contract.patch": json_body(lambda ctx, p, t: {"title": f"年度合同 {next(ctx.counter)}"}),
        "contract.sign": json_body(lambda ctx, p, t: {"action": "sign", "signatories": ["王总"]}),
        "contract.tariffs": json_body(lambda ctx, p, t: {"tariffs": []}),
        "contract.document": lambda ctx, p, t: {"content": _PDF, "headers": {"Content-Type": "application/pdf"}},
        "collection.create": json_body(
            lambda ctx, p, t: {"accountId": str(t.ref), "kind": "dispute", "reason": "金额有误"}
        ),
    }
)

SA = "/api/integrations/service-accounts"
CON = "/api/contracts/{contract_id}"
ROWS.extend(
    [
        # service accounts and webhooks: HQ only
        Row("GET", SA, "list", no_target, role_only(200, HQ_ONLY)),
        Row("POST", SA, "create", no_target, role_only(201, HQ_ONLY), body="service_account.create"),
        Row("GET", SA + "/{account_id}", "read", service_account_targets, role_only(200, HQ_ONLY, miss=404)),
        Row(
            "PATCH",
            SA + "/{account_id}",
            "change scopes",
            service_account_targets,
            role_only(200, HQ_ONLY, miss=404),
            body="service_account.patch",
        ),
        Row(
            "POST",
            SA + "/{account_id}/tokens",
            "issue a token",
            service_account_targets,
            role_only(201, HQ_ONLY, miss=404),
            body="token.create",
        ),
        Row(
            "DELETE",
            SA + "/{account_id}/tokens/{token_id}",
            "revoke a token",
            service_account_targets,
            role_only(204, HQ_ONLY, miss=404),
            fresh=True,
        ),
        # billing batches: billing:write for service accounts, HQ for people
        Row(
            "PUT",
            _BATCH_PATH,
            "apply (people and service accounts)",
            with_services("billing:write", batch_path_targets),
            service_or(role_only(200, HQ_ONLY), 200),
            body="batch.put",
        ),
        Row(
            "GET",
            _BATCH_PATH,
            "its result",
            with_services("billing:write", batch_targets),
            service_or(role_only(200, HQ_ONLY, miss=404), 200),
        ),
        Row("GET", "/api/webhooks", "list", no_target, role_only(200, HQ_ONLY)),
        Row("POST", "/api/webhooks", "register", no_target, role_only(201, HQ_ONLY), body="webhook.create"),
        Row("GET", "/api/webhooks/{webhook_id}", "read", webhook_targets, role_only(200, HQ_ONLY, miss=404)),
        Row(
            "PATCH",
            "/api/webhooks/{webhook_id}",
            "describe",
            webhook_targets,
            role_only(200, HQ_ONLY, miss=404),
            body="webhook.patch",
        ),
        Row("DELETE", "/api/webhooks/{webhook_id}", "remove", webhook_targets, role_only(204, HQ_ONLY, miss=404)),
        Row(
            "GET",
            "/api/webhooks/{webhook_id}/deliveries",
            "deliveries",
            webhook_targets,
            role_only(200, HQ_ONLY, miss=404),
        ),
        # service accounts reach people's endpoints only through their scopes
        Row(
            "GET",
            "/api/accounts",
            "list (service accounts)",
            with_services("accounts:read", no_target),
            service_or(role_only(200), 200),
        ),
        # contracts: the account's scope; signing and tariffs of signed contracts are for leaders
        Row("GET", "/api/contracts", "list", no_target, role_only(200)),
        Row("POST", "/api/contracts", "for accountId", account_ref_targets, scoped(201), body="contract.create"),
        Row("GET", CON, "read", contract_targets(), scoped(200)),
        Row("PATCH", CON, "edit the draft", contract_targets(), scoped(200), body="contract.patch"),
        Row(
            "POST",
            CON + "/transitions",
            "sign",
            contract_targets(),
            scoped(200, LEADERS, role_first=False),
            body="contract.sign",
            fresh=True,
        ),
        Row("PUT", CON + "/tariffs", "of a draft", contract_targets(), scoped(200), body="contract.tariffs"),
        Row("POST", CON + "/documents", "upload a PDF", contract_targets(), scoped(201), body="contract.document"),
        Row("GET", CON + "/documents/{document_id}", "download", contract_targets(document=True), scoped(200)),
        Row("GET", ACC + "/commercial", "for the 360", account_targets, scoped(200)),
        # bills, payments, arrears, collections: lists in scope
        Row("GET", "/api/bills", "list", no_target, role_only(200)),
        Row(
            "GET",
            "/api/bills",
            "list (service accounts)",
            with_services("billing:read", no_target),
            service_or(role_only(200), 200),
        ),
        Row("GET", "/api/bills/arrears", "arrears", no_target, role_only(200)),
        Row("GET", "/api/payments", "list", no_target, role_only(200)),
        Row("GET", "/api/collections", "list", no_target, role_only(200)),
        Row("POST", "/api/collections", "on accountId", account_ref_targets, scoped(201), body="collection.create"),
    ]
)

# retention: risks and episodes in the caller's scope; configuration and strategies read by everyone, edited by HQ
_STRATEGY = {"name": "挽留", "conditions": {"bands": ["high"]}, "actions": [{"title": "拜访 {account}"}]}


async def strategy_targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
    """A strategy HQ wrote, and a nonexistent one."""
    del persona, fresh
    from fieldcrm.retention import strategies
    from fieldcrm.retention.schemas import StrategyAction, StrategyInput

    data = StrategyInput(name="挽留", actions=[StrategyAction(title="拜访 {account}")])
    strategy = await strategies.create_strategy(actor=ctx.hq_actor, data=data)
    return [
        Target("hq's", {"strategy_id": strategy.strategy_id}, who="hq"),
        Target("nonexistent", {"strategy_id": _missing()}),
    ]


def episode_targets(*, proposed: bool = False) -> Targets:
    """An open episode (or one whose close is proposed) on a new account of each owner, and a nonexistent one."""

    async def targets(ctx: Ctx, persona: str, fresh: bool) -> list[Target]:
        del fresh
        from fieldcrm.retention import episodes

        result = []
        for owner in _owners(persona):
            account_id = await ctx.account(owner, fresh=True)
            episode = await episodes.open_episode(actor=ctx.hq_actor, account_id=account_id)
            if proposed:
                # HQ's proposal would close it at once: write the proposal as the account manager does
                from fieldcrm.retention.tables import Episode as EpisodeRow

                await EpisodeRow.update({EpisodeRow.state: "closing", EpisodeRow.proposed_outcome: "lost"}).where(
                    EpisodeRow.id == episode.id
                )
            result.append(Target(relation(persona, owner), {"episode_id": episode.id}, who=owner))
        result.append(Target("nonexistent", {"episode_id": _missing()}))
        return result

    return targets


BODIES.update(
    {
        "retention.config": json_body(lambda ctx, p, t: {"thresholds": {"watch": 30, "high": 60}}),
        "retention.strategy": json_body(lambda ctx, p, t: _STRATEGY),
        "retention.open": json_body(lambda ctx, p, t: {"accountId": str(t.ref)}),
        "retention.close": json_body(lambda ctx, p, t: {"outcome": "lost"}),
    }
)
EPI = "/api/retention/episodes/{episode_id}"
ROWS.extend(
    [
        Row("GET", "/api/retention/risks", "list", no_target, role_only(200)),
        Row("GET", "/api/retention/config", "read", no_target, role_only(200)),
        Row("PUT", "/api/retention/config", "new version", no_target, role_only(200, HQ_ONLY), body="retention.config"),
        Row("GET", "/api/retention/outcomes", "per strategy", no_target, role_only(200)),
        Row("GET", "/api/retention/strategies", "list", no_target, role_only(200)),
        Row(
            "POST", "/api/retention/strategies", "create", no_target, role_only(201, HQ_ONLY), body="retention.strategy"
        ),
        Row(
            "PUT",
            "/api/retention/strategies/{strategy_id}",
            "new version",
            strategy_targets,
            role_only(200, HQ_ONLY, miss=404),
            body="retention.strategy",
        ),
        Row("GET", "/api/retention/episodes", "list", no_target, role_only(200)),
        Row(
            "POST",
            "/api/retention/episodes",
            "open by hand for accountId",
            account_ref_targets,
            scoped(201, LEADERS),
            body="retention.open",
            fresh=True,
        ),
        Row("GET", EPI, "read", episode_targets(), scoped(200)),
        Row("POST", EPI + "/close", "propose or close", episode_targets(), scoped(200), body="retention.close"),
        Row("POST", EPI + "/confirm", "confirm", episode_targets(proposed=True), scoped(200, LEADERS)),
    ]
)

# Operations in the schema that the matrix leaves out, each with its reason.
EXCLUDED: dict[tuple[str, str], str] = {
    ("GET", "/health"): "liveness probe: public on purpose, returns no data (tests/api/test_smoke.py)",
    ("POST", "/api/auth/login"): "the way in: public by design, there is no session yet to authorize",
}
EXCLUDED_PREFIXES: dict[str, str] = {
    "/schema": "the OpenAPI document and its viewers: public API documentation, no data",
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in an OpenAPI document."""
    return {(m.upper(), path) for path, item in schema.get("paths", {}).items() for m in item if m in HTTP_METHODS}


def excluded(op: tuple[str, str]) -> bool:
    return op in EXCLUDED or any(op[1].startswith(prefix) for prefix in EXCLUDED_PREFIXES)


# The schema as the code stands decides which rows run (rows for endpoints not there yet do not).
SCHEMA = create_app().openapi_schema.to_schema()
PRESENT = operations(SCHEMA)
LIVE_ROWS = [row for row in ROWS if row.key in PRESENT]


# ---------------------------------------------------------------- running a row


def _snippet(response: httpx.Response) -> str:
    """The answer's problem detail, or the start of its body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        return f"{body.get('title')}: {body['detail']}"
    text = response.text.replace("\n", " ")
    return text[:160] + ("…" if len(text) > 160 else "")


async def run_row(ctx: Ctx, row: Row) -> tuple[int, list[str]]:
    """Call the row's operation as every persona on every target; returns the count and the mismatches."""
    checked, mismatches = 0, []
    for persona in PERSONAS:
        for target in await row.targets(ctx, persona, row.fresh):
            url = row.path.format(**target.params)
            kwargs = BODIES[row.body](ctx, persona, target) if row.body else {}
            headers = {**(target.headers if target.headers is not None else ctx.headers(persona))}
            headers.update(kwargs.pop("headers", {}))
            response = await ctx.client.request(row.method, url, headers=headers, **kwargs)
            expected = row.expect(persona, target)
            checked += 1
            if response.status_code != expected:
                sent = kwargs["json"] if "json" in kwargs else kwargs.get("content", b"").decode() or None
                mismatches.append(
                    f"{persona} {row.method} {row.path} target={target.label} expected {expected} "
                    + ctx.readable(f"got {response.status_code} ({row.method} {url} sent {sent}; {_snippet(response)})")
                )
    return checked, mismatches


@pytest.fixture
async def ctx(client: httpx.AsyncClient) -> Ctx:
    return await build_ctx(client)


@pytest.mark.parametrize("row", LIVE_ROWS, ids=[row.id for row in LIVE_ROWS])
async def test_matrix(ctx: Ctx, row: Row) -> None:
    checked, mismatches = await run_row(ctx, row)
    assert checked > 0
    assert not mismatches, f"{len(mismatches)} of {checked} calls answered against the rules:\n" + "\n".join(mismatches)


async def test_every_operation_has_a_row(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    served = operations(r.json())
    assert served == PRESENT, "the schema served differs from the one the rows were chosen from"
    covered = {row.key for row in ROWS}
    missing = sorted(op for op in served if not excluded(op) and op not in covered)
    assert not missing, (
        "operations without a row in tests/authz/test_matrix.py ROWS (add one: personas x targets x expected "
        "status):\n" + "\n".join(f"{method} {path}" for method, path in missing)
    )
    stale = sorted(op for op in EXCLUDED if op not in served)
    assert not stale, f"EXCLUDED names operations the schema no longer has: {stale}"


# ---------------------------------------------------------------- lists, search and export hold only what is in scope

SEARCH = "钢铁"
VIEWERS = ("rep_a", "rep_a2", "rep_b", "rep_c", "manager_a", "manager_b", "manager_c", "director", "hq")


@dataclass
class Lists:
    """Reads list endpoints to the last page and compares the ids with the expected set."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]
    problems: list[str] = field(default_factory=list)

    async def all_pages(self, who: str, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a list endpoint, page by page (small pages, following nextCursor)."""
        headers = self.headers[who]
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(200):
            page_params = {**params, "limit": 3, **({"cursor": cursor} if cursor else {})}
            r = await self.client.get(url, params=page_params, headers=headers)
            if r.status_code != 200:
                self.problems.append(f"{who} GET {url} {page_params} expected 200 got {r.status_code} ({_snippet(r)})")
                return items
            body = r.json()
            items.extend(body["items"])
            cursor = body["nextCursor"]
            if cursor is None:
                if body["total"] != len(items):
                    self.problems.append(f"{who} GET {url} {params}: total {body['total']}, {len(items)} in pages")
                return items
        self.problems.append(f"{who} GET {url} {params}: more than 200 pages")
        return items

    def compare(self, who: str, what: str, got: list[Any], expected: set[Any], names: dict[Any, str]) -> None:
        """Report rows out of scope, rows in scope missing, and rows that came twice."""
        if len(got) != len(set(got)):
            self.problems.append(f"{who} {what}: a row came twice: {sorted(names.get(g, str(g)) for g in got)}")
        extra, lacking = set(got) - expected, expected - set(got)
        if extra:
            self.problems.append(f"{who} {what}: OUT OF SCOPE rows returned: {sorted(names.get(e, e) for e in extra)}")
        if lacking:
            self.problems.append(f"{who} {what}: rows in scope missing: {sorted(names.get(e, e) for e in lacking)}")

    async def check(
        self, who: str, url: str, params: dict[str, Any], expected: set[Any], names: dict[Any, str]
    ) -> None:
        """The ids of all pages equal ``expected``."""
        items = await self.all_pages(who, url, params)
        query = "&".join(f"{k}={names.get(v, v)}" for k, v in params.items())
        got = [uuid.UUID(i["id"]) for i in items]
        self.compare(who, f"GET {url}{'?' + query if query else ''}", got, expected, names)

    async def lists(self, who: str, url: str, item_id: uuid.UUID) -> bool:
        """Whether the list holds the item."""
        return str(item_id) in {i["id"] for i in await self.all_pages(who, url, {})}


def _lists(ctx: Ctx) -> Lists:
    return Lists(ctx.client, {p: ctx.org.people[p].headers for p in PEOPLE})


async def _check_export(ctx: Ctx, lists: Lists, viewer: str, accounts: dict[uuid.UUID, dict[str, Any]]) -> None:
    """The CSV export's code column: exactly the visible accounts (and with a search, the visible matches)."""
    names = {k: f"{v['owner']}:{v['code']}" for k, v in accounts.items()}
    by_code = {v["code"]: k for k, v in accounts.items()}
    visible = {k for k, v in accounts.items() if sees(viewer, v["owner"])}
    for params, expected in (({}, visible), ({"q": SEARCH}, {k for k in visible if accounts[k]["match"]})):
        r = await ctx.client.get("/api/accounts/export", params=params, headers=lists.headers[viewer])
        if r.status_code != 200:
            lists.problems.append(f"{viewer} GET /api/accounts/export {params} expected 200 got {r.status_code}")
            continue
        rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        column = next((c for c in (rows[0] if rows else {}) if c and c.strip().lower() == "code"), None)
        if rows and column is None:
            lists.problems.append(f"{viewer} GET /api/accounts/export: no code column in {list(rows[0])}")
            continue
        codes = [row[column] for row in rows] if column else []
        if unknown := [c for c in codes if c not in by_code]:
            lists.problems.append(f"{viewer} GET /api/accounts/export {params}: codes nobody made: {unknown}")
        got = [by_code[c] for c in codes if c in by_code]
        lists.compare(viewer, f"GET /api/accounts/export {params or ''}", got, expected, names)


async def test_lists_search_and_export_hold_exactly_the_scope(ctx: Ctx) -> None:
    """For every persona: GET /api/accounts (all pages, with a search, with filters pointing elsewhere), the
    CSV export, GET /api/users: the ids returned are exactly the ones in scope."""
    org, lists = ctx.org, _lists(ctx)
    accounts: dict[uuid.UUID, dict[str, Any]] = {}  # id -> owner, code, matches the search
    for owner in PEOPLE:
        for n, name in enumerate((f"{SEARCH}集团 {owner}", f"山东{SEARCH} {owner}", f"Other {owner}", f"Gone {owner}")):
            code = f"L{owner.upper()}{n}".replace("_", "")
            data = AccountCreate(code=code, name=name, owner_id=org.people[owner].id)
            account = await account_services.create_account(actor=ctx.hq_actor, data=data)
            accounts[account.id] = {"owner": owner, "code": code, "match": SEARCH in name}
            if name.startswith("Gone"):  # deleted: nobody may list it
                await account_services.delete_account(actor=ctx.hq_actor, account_id=account.id)
                del accounts[account.id]
            elif name.startswith("Other") and owner in ("rep_b", "rep_c"):  # found through a contact's name
                await account_services.create_contact(
                    actor=ctx.hq_actor, account_id=account.id, data=ContactCreate(name=f"{SEARCH}王")
                )
                accounts[account.id]["match"] = True
    gone = await account_services.get_account(actor=ctx.hq_actor, account_id=ctx.deactivated_account)
    accounts[ctx.deactivated_account] = {"owner": "deactivated", "code": gone.code, "match": False}
    names: dict[Any, str] = {k: f"{v['owner']}:{v['code']}" for k, v in accounts.items()}
    people = {**{p: org.people[p].id for p in PEOPLE}, "deactivated": ctx.deactivated.id}
    user_names: dict[Any, str] = {v: k for k, v in people.items()}
    for name in (*PEOPLE, "deactivated"):
        names[people[name]] = user_names[people[name]] = name
    for unit in ("team_c", "jinan"):
        names[org.units[unit]] = user_names[org.units[unit]] = unit

    for viewer in VIEWERS:
        visible = {k for k, v in accounts.items() if sees(viewer, v["owner"])}
        await lists.check(viewer, "/api/accounts", {}, visible, names)
        await lists.check(viewer, "/api/accounts", {"q": SEARCH}, {k for k in visible if accounts[k]["match"]}, names)
        for other in ("rep_c", "manager_b"):
            expected = {k for k in visible if accounts[k]["owner"] == other}
            await lists.check(viewer, "/api/accounts", {"ownerId": people[other]}, expected, names)
        for unit in ("team_c", "jinan"):
            expected = {k for k in visible if under(HOME[accounts[k]["owner"]], unit)}
            await lists.check(viewer, "/api/accounts", {"orgUnitId": org.units[unit]}, expected, names)
        if ("GET", "/api/accounts/export") in PRESENT:
            await _check_export(ctx, lists, viewer, accounts)

        users = {uid for person, uid in people.items() if sees(viewer, person)}
        await lists.check(viewer, "/api/users", {}, users, user_names)
        reps = {u for u in users if ROLE[user_names[u]] == "rep"}
        await lists.check(viewer, "/api/users", {"q": "rep"}, reps, user_names)
        expected = {u for u in users if HOME[user_names[u]] == "team_c"}
        await lists.check(viewer, "/api/users", {"orgUnitId": org.units["team_c"]}, expected, user_names)
    assert not lists.problems, "\n".join(lists.problems)


async def test_the_customer_360_names_no_group_or_member_out_of_scope(ctx: Ctx) -> None:
    """A group owned in Hubei (rep_c) with a member company owned in team A (rep_a): each side's 360 view
    names the other only to those who see it."""
    group = await ctx.account("rep_c", fresh=True)
    member = await ctx.account("rep_a", fresh=True)
    await account_services.update_account(actor=ctx.hq_actor, account_id=member, data=AccountPatch(parent_id=group))
    problems: list[str] = []
    for viewer in VIEWERS:
        headers = ctx.org.people[viewer].headers
        if sees(viewer, "rep_a"):
            body = (await ctx.client.get(f"/api/accounts/{member}/overview", headers=headers)).json()
            parent = (body.get("parent") or {}).get("id")
            expected = str(group) if sees(viewer, "rep_c") else None
            if parent != expected:
                problems.append(f"{viewer} GET /api/accounts/{{member}}/overview parent: expected {expected}, {parent}")
        if sees(viewer, "rep_c"):
            body = (await ctx.client.get(f"/api/accounts/{group}/overview", headers=headers)).json()
            members = sorted(m["id"] for m in body.get("members", []))
            expected_members = [str(member)] if sees(viewer, "rep_a") else []
            if members != expected_members or body.get("memberCount") != len(expected_members):
                problems.append(
                    f"{viewer} GET /api/accounts/{{group}}/overview members expected {expected_members} got {members} "
                    f"(memberCount {body.get('memberCount')})"
                )
    assert not problems, ctx.readable("\n".join(problems))


# ---------------------------------------------------------------- changes of scope take effect on the next request


async def _expect_statuses(ctx: Ctx, lists: Lists, when: str, url: str, expected: dict[str, int]) -> None:
    for persona, status in expected.items():
        got = (await ctx.client.get(url, headers=ctx.headers(persona))).status_code
        if got != status:
            lists.problems.append(f"{when}: {persona} GET {url} expected {status} got {got}")


async def _expect_listed(lists: Lists, when: str, url: str, item_id: uuid.UUID, expected: dict[str, bool]) -> None:
    for persona, present in expected.items():
        if await lists.lists(persona, url, item_id) != present:
            lists.problems.append(f"{when}: {persona} GET {url} {'lacks' if present else 'still lists'} {item_id}")


async def test_moving_a_rep_to_another_team_moves_their_accounts_at_once(ctx: Ctx) -> None:
    org, lists = ctx.org, _lists(ctx)
    account = await ctx.account("rep_a", fresh=True)
    await ctx.child("contact", account, fresh=True)
    before = {"manager_a": 200, "manager_b": 404, "director": 200, "rep_a": 200, "manager_c": 404, "hq": 200}
    for url in (f"/api/accounts/{account}", f"/api/users/{org.rep_a.id}"):
        await _expect_statuses(ctx, lists, "before the move", url, before)

    r = await ctx.client.patch(
        f"/api/users/{org.rep_a.id}", json={"orgUnitId": str(org.units["team_b"])}, headers=org.hq.headers
    )
    assert r.status_code == 200, r.text

    when = "after HQ moved rep_a to team B"
    after = {"manager_a": 404, "manager_b": 200, "director": 200, "rep_a": 200, "manager_c": 404, "hq": 200}
    for url in (
        f"/api/accounts/{account}",
        f"/api/accounts/{account}/overview",
        f"/api/accounts/{account}/contacts",
        f"/api/users/{org.rep_a.id}",
    ):
        await _expect_statuses(ctx, lists, when, url, after)
    await _expect_listed(lists, when, "/api/accounts", account, {"manager_a": False, "manager_b": True, "rep_a": True})
    await _expect_listed(lists, when, "/api/users", org.rep_a.id, {"manager_a": False, "manager_b": True})
    assert not lists.problems, "\n".join(lists.problems)


async def test_reassigning_an_account_takes_effect_at_once(ctx: Ctx) -> None:
    org, lists = ctx.org, _lists(ctx)
    account = await ctx.account("rep_a", fresh=True)
    await _expect_statuses(ctx, lists, "before", f"/api/accounts/{account}", {"rep_a": 200, "rep_a2": 404})

    r = await ctx.client.patch(
        f"/api/accounts/{account}", json={"ownerId": str(org.rep_a2.id)}, headers=org.manager_a.headers
    )
    assert r.status_code == 200, r.text

    when = "after manager_a gave rep_a's account to rep_a2"
    for url in (
        f"/api/accounts/{account}",
        f"/api/accounts/{account}/overview",
        f"/api/accounts/{account}/contacts",
        f"/api/accounts/{account}/holdings",
        f"/api/accounts/{account}/revenue",
    ):
        await _expect_statuses(ctx, lists, when, url, {"rep_a": 404, "rep_a2": 200, "manager_a": 200})
    await _expect_listed(lists, when, "/api/accounts", account, {"rep_a": False, "rep_a2": True, "manager_a": True})
    r = await ctx.client.patch(f"/api/accounts/{account}", json={"name": "偷改"}, headers=org.rep_a.headers)
    if r.status_code != 404:
        lists.problems.append(f"{when}: rep_a PATCH /api/accounts/{account} expected 404 got {r.status_code}")
    assert not lists.problems, "\n".join(lists.problems)
