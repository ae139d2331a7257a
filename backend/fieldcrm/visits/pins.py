"""A pin from the phone's fix for an account made on the phone: a location proposal a leader decides.

A rep who creates a prospect standing at its door sends the phone's fix with it. Like an accurate
check-in at an account without a location, the fix does not become the account's location (a check-in
is verified against it, so only a leader sets it): it becomes a pending proposal, confirmed or rejected
in the leader's proposal queue (``GET /api/location-proposals``). Such a proposal has no visit.
"""

import uuid

from fieldcrm.lib.tables import new_id
from fieldcrm.org.schemas import Actor
from fieldcrm.settings import get_settings
from fieldcrm.visits.tables import LocationProposal as ProposalRow


async def propose_pin(
    *, actor: Actor, account_id: uuid.UUID, latitude: float, longitude: float, accuracy_m: float | None
) -> bool:
    """Propose the fix as the account's location (inside the caller's transaction); False when not good enough.

    A fix less accurate than ``FIELDCRM_CHECKIN_PROPOSE_ACCURACY_M``, or an account with a pending
    proposal already, proposes nothing.
    """
    accuracy = accuracy_m if accuracy_m is not None else float("inf")
    if accuracy > get_settings().checkin_propose_accuracy_m:
        return False
    if await ProposalRow.exists().where(ProposalRow.account == account_id, ProposalRow.status == "pending"):
        return False
    await ProposalRow.insert(
        ProposalRow(
            id=new_id(),
            account=account_id,
            visit=None,
            proposed_by=actor.id,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy,
        )
    )
    return True
