"""The caller behind a service-account token: an Actor for every service, but never a person.

Its ``id`` is the service account's id (no user has it), its role is the least a role can be, and
what it may do comes only from its scopes (``Actor.service_scopes``), decided in ``fieldcrm.org.scope``
with people's permissions.
"""

import uuid

from fieldcrm.org.schemas import Actor

# The scopes HQ can give a service account, and what each lets it do.
SCOPES: dict[str, str] = {
    "billing:write": "send billing batches (bills, payments, holdings, monthly revenue)",
    "billing:read": "read bills, payments and arrears",
    "accounts:read": "read accounts, their contacts, holdings and contracts",
    "accounts:write": "change accounts, their contacts and holdings",
    "contracts:read": "read contracts and agreed tariffs",
}
SERVICE_SESSION = "service:"  # session_id of a service actor: this prefix and the token's id
_NOBODY = uuid.UUID(int=0)


def service_actor(*, account_id: uuid.UUID, name: str, token_id: uuid.UUID, scopes: frozenset[str]) -> Actor:
    """The actor of a service account calling with one of its tokens."""
    return Actor(
        id=account_id,
        username=f"service:{name}",
        display_name=f"{name} (service account)",
        role="rep",  # the least a role allows, for any code that looks at roles; scopes decide (org/scope.py)
        org_unit_id=_NOBODY,
        org_path="\x00",  # a prefix of no org unit's path
        locale="en",
        session_id=f"{SERVICE_SESSION}{token_id}",
        service_scopes=scopes,
    )


def is_service(actor: Actor | None) -> bool:
    """Whether the caller is a service account rather than a person."""
    return actor is not None and actor.service_scopes is not None
