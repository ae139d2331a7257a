"""Who may do what, and which accounts each person sees: the one place that decides.

Role permissions say which operations a role may attempt at all; the data scope says on which
accounts. A rep sees the accounts they own, a manager or director every account owned by
someone in their org subtree, HQ everything. Scope is resolved at query time from the owner's
current org unit, so a reassignment or a move takes effect on the next request.
"""

from typing import Any

from fieldcrm.lib.errors import Forbidden
from fieldcrm.org.schemas import Actor, Role
from fieldcrm.org.tables import OrgUnit, User

ALL_ROLES: frozenset[Role] = frozenset({"rep", "manager", "director", "hq_admin"})
LEADERS: frozenset[Role] = frozenset({"manager", "director", "hq_admin"})
HQ: frozenset[Role] = frozenset({"hq_admin"})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "org.manage": HQ,
    "users.manage": HQ,
    "users.read": ALL_ROLES,
    "accounts.read": ALL_ROLES,
    "accounts.create": ALL_ROLES,
    "accounts.update": ALL_ROLES,
    "accounts.reassign": LEADERS,
    "accounts.locate": LEADERS,
    "accounts.delete": LEADERS,
    "accounts.merge": LEADERS,
    "accounts.tier_override": HQ,
    "accounts.export": ALL_ROLES,
    "accounts.import": HQ,
    "segmentation.run": HQ,
    "revenue.write": HQ,
    "audit.read": LEADERS,
    "visits.read": ALL_ROLES,
    "visits.checkin": ALL_ROLES,
    "visits.plan": ALL_ROLES,
    "visits.plan_for_others": LEADERS,
    "visits.review": LEADERS,
    "coverage.read": ALL_ROLES,
    "sales.read": ALL_ROLES,
    "catalogue.manage": HQ,
    "stages.manage": HQ,
    "opportunities.write": ALL_ROLES,
    "quotes.write": ALL_ROLES,
    "cases.write": ALL_ROLES,
    "projects.write": ALL_ROLES,
    "workflow.definitions": HQ,
    "workflow.history": ALL_ROLES,  # the instance's owner scope, HQ and its deciders: checked in the service
    "approvals.read": ALL_ROLES,
    "approvals.decide": ALL_ROLES,  # the step's decider list is the real check
    "delegations.manage": ALL_ROLES,
    "push.subscribe": ALL_ROLES,  # own devices and preferences only: checked in the service
    "tasks.read": ALL_ROLES,  # the assignee's scope, as accounts
    "tasks.write": ALL_ROLES,
    "tasks.assign": LEADERS,  # give a task to someone else in one's subtree (a rep only to themselves)
    "calendar.read": ALL_ROLES,  # one's own, or a person in one's subtree
    "targets.read": ALL_ROLES,  # own targets (a rep), the subtree's people and units (leaders)
    "targets.set": LEADERS,  # for people and units below oneself, never one's own
    "kpis.read": ALL_ROLES,  # a rep their own
    "kpis.teams": LEADERS,  # teams, regions, leaderboards in one's subtree
    "reports.read": ALL_ROLES,
    "reports.export": ALL_ROLES,
    "integrations.manage": HQ,  # service accounts, their tokens, webhooks
    "billing.write": HQ,  # billing batches (people at HQ may replay one by hand)
    "billing.read": ALL_ROLES,  # bills, payments, arrears in the caller's scope
    "collections.write": ALL_ROLES,
    "contracts.read": ALL_ROLES,
    "contracts.write": ALL_ROLES,
    "contracts.sign": LEADERS,
    "retention.read": ALL_ROLES,  # risks of the accounts in one's scope
    "retention.manage": HQ,  # scoring configuration, strategies, scoring and matching runs
    "retention.open": LEADERS,  # open a retention episode by hand, confirm its close
}

# What a service account's scopes let it do: the same permission names as people's roles. A service
# account never has a role: what is not listed here (signing in, approvals, owning accounts) it cannot do.
SERVICE_SCOPES: dict[str, frozenset[str]] = {
    "billing:write": frozenset({"billing.write"}),
    "billing:read": frozenset({"billing.read"}),
    "accounts:read": frozenset({"accounts.read", "sales.read", "contracts.read"}),
    "accounts:write": frozenset({"accounts.read", "accounts.update"}),
    "contracts:read": frozenset({"contracts.read"}),
}


def can(actor: Actor, permission: str) -> bool:
    """Whether the actor's role (a service account: its scopes) allows the operation (scope is checked separately)."""
    if actor.service_scopes is not None:
        return any(permission in SERVICE_SCOPES.get(s, frozenset()) for s in actor.service_scopes)
    return actor.role in PERMISSIONS[permission]


def require(actor: Actor, permission: str) -> None:
    """Raise Forbidden unless the actor's role allows the operation."""
    if not can(actor, permission):
        if actor.service_scopes is not None:
            needed = sorted(s for s, p in SERVICE_SCOPES.items() if permission in p)
            msg = f"this service account's token lacks the scope for this ({' or '.join(needed) or permission})"
            raise Forbidden(msg, extra={"code": "scope"})
        msg = f"your role ({actor.role}) may not do this ({permission})"
        raise Forbidden(msg)


def permissions_of(actor: Actor) -> list[str]:
    """Every permission the actor's role has, for the PWA to shape its screens."""
    return sorted(p for p in PERMISSIONS if can(actor, p))


def sees_everything(actor: Actor) -> bool:
    """HQ sees every account and every user; a service account every account (its scopes limit what it does)."""
    return actor.role == "hq_admin" or actor.service_scopes is not None


def _users_in_subtree(actor: Actor) -> Any:
    return User.select(User.id).where(
        User.org_unit.is_in(OrgUnit.select(OrgUnit.id).where(OrgUnit.path.like(actor.org_path + "%")))
    )


def owner_filter(actor: Actor, owner_column: Any) -> Any | None:
    """A WHERE clause on an owner column (e.g. ``Account.owner``) limiting rows to the actor's scope.

    None means no limit (HQ). Every read, write, search, export and sync of account-owned
    data goes through this function.
    """
    if sees_everything(actor):
        return None
    if actor.role == "rep":
        return owner_column == actor.id
    return owner_column.is_in(_users_in_subtree(actor))


def owner_sql(actor: Actor, owner_column: str) -> tuple[str, list[Any]]:
    """The same rule as ``owner_filter`` as a raw SQL condition with its arguments (Piccolo ``{}`` placeholders).

    For the aggregate queries (coverage, the map) that Piccolo's builder cannot express.
    """
    if sees_everything(actor):
        return "1 = 1", []
    if actor.role == "rep":
        return f"{owner_column} = {{}}", [actor.id]
    return (
        f"{owner_column} IN (SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit WHERE o.path LIKE {{}})",  # noqa: S608 - the column name is the caller's constant
        [actor.org_path + "%"],
    )


def user_filter(actor: Actor) -> Any | None:
    """Which users the actor sees: themselves (rep), their subtree (manager, director), all (HQ)."""
    if sees_everything(actor):
        return None
    if actor.role == "rep":
        return User.id == actor.id
    return User.org_unit.is_in(OrgUnit.select(OrgUnit.id).where(OrgUnit.path.like(actor.org_path + "%")))


def unit_in_subtree(actor: Actor, unit_path: str) -> bool:
    """Whether an org unit (by its path) lies in the actor's subtree."""
    return sees_everything(actor) or unit_path.startswith(actor.org_path)
