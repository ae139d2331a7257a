"""Factories: a small org tree with one person per persona, and accounts built through the services."""

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from fieldcrm.accounts import services as account_services
from fieldcrm.accounts.schemas import AccountCreate, ContactCreate, HoldingCreate
from fieldcrm.org import services as org_services
from fieldcrm.org.schemas import Actor, OrgUnitCreate, UserCreate

PASSWORD = "correct horse battery"
_codes = itertools.count(1)


@dataclass
class Person:
    """A user the tests act as."""

    id: uuid.UUID
    username: str
    role: str
    unit_id: uuid.UUID
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Org:
    """HQ > province > city > team A, team B; another province with team C."""

    units: dict[str, uuid.UUID] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None

    async def actor(self, name: str) -> Actor:
        actor = await org_services.authenticate(self.people[name].token, via_cookie=False)
        assert actor is not None
        return actor


async def make_unit(name: str, kind: str, parent: uuid.UUID | None, **extra: Any) -> uuid.UUID:
    unit = await org_services.create_unit(
        actor=None, data=OrgUnitCreate(name=name, kind=kind, parent_id=parent, **extra)
    )  # type: ignore[arg-type]
    return unit.id


async def make_user(username: str, role: str, unit: uuid.UUID, *, password: str = PASSWORD) -> Person:
    user = await org_services.create_user(
        actor=None,
        data=UserCreate(
            username=username,
            display_name=username.replace("_", " ").title(),
            password=password,
            role=role,
            org_unit_id=unit,
        ),  # type: ignore[arg-type]
    )
    return Person(id=user.id, username=username, role=role, unit_id=unit)


async def login(person: Person) -> Person:
    response, _ = await org_services.login(
        username=person.username, password=PASSWORD, ip="10.0.0.1", user_agent="tests", old_token=None
    )
    person.token = response.token
    return person


async def build_org() -> Org:
    org = Org()
    u = org.units
    u["hq"] = await make_unit("总部 HQ", "hq", None)
    u["north"] = await make_unit("山东省 Shandong", "province", u["hq"])
    u["south"] = await make_unit("湖北省 Hubei", "province", u["hq"])
    u["jinan"] = await make_unit("济南 Jinan", "city", u["north"], latitude=36.65, longitude=117.12)
    u["team_a"] = await make_unit("Jinan Team A", "team", u["jinan"])
    u["team_b"] = await make_unit("Jinan Team B", "team", u["jinan"])
    u["wuhan"] = await make_unit("武汉 Wuhan", "city", u["south"])
    u["team_c"] = await make_unit("Wuhan Team C", "team", u["wuhan"])
    specs = [
        ("hq", "hq_admin", "hq"),
        ("director", "director", "north"),
        ("manager_a", "manager", "team_a"),
        ("manager_b", "manager", "team_b"),
        ("rep_a", "rep", "team_a"),
        ("rep_a2", "rep", "team_a"),
        ("rep_b", "rep", "team_b"),
        ("rep_c", "rep", "team_c"),
        ("manager_c", "manager", "team_c"),
    ]
    for username, role, unit in specs:
        org.people[username] = await login(await make_user(username, role, u[unit]))
    return org


async def make_account(org: Org, owner: str = "rep_a", **fields: Any) -> uuid.UUID:
    """An account owned by ``owner``, created by HQ."""
    hq = await org.actor("hq")
    code = fields.pop("code", f"ACC{next(_codes):06d}")
    data = AccountCreate(code=code, name=fields.pop("name", f"客户 {code}"), owner_id=org.people[owner].id, **fields)
    account = await account_services.create_account(actor=hq, data=data)
    return account.id


async def make_contact(org: Org, account_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    hq = await org.actor("hq")
    contact = await account_services.create_contact(
        actor=hq, account_id=account_id, data=ContactCreate(name=fields.pop("name", "张伟"), **fields)
    )
    return contact.id


async def make_holding(org: Org, account_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    hq = await org.actor("hq")
    holding = await account_services.create_holding(
        actor=hq, account_id=account_id, data=HoldingCreate(product=fields.pop("product", "专线 100M"), **fields)
    )
    return holding.id
