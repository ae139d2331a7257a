"""Risk band changes on the account 360 timeline (``data.messageKey``: ``timeline.retention.band``)."""

import uuid

from fieldcrm.accounts import timeline
from fieldcrm.accounts.schemas import TimelineItem
from fieldcrm.retention.tables import RiskBandChange


async def source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    """The account's newest band changes (one statement); the app renders the message key in the reader's language."""
    rows = await (
        RiskBandChange.select()
        .where(RiskBandChange.account == account_id)
        .order_by(RiskBandChange.at, ascending=False)
        .limit(limit)
    )
    return [
        TimelineItem(
            at=r["at"],
            kind="retention.band",
            title="",
            ref_id=r["id"],
            actor_name="",
            data={
                "messageKey": "timeline.retention.band",
                "from": r["from_band"] or "none",
                "to": r["to_band"],
                "score": r["score"],
                "configVersion": r["config_version"],
            },
        )
        for r in rows
    ]


timeline.register("retention", source, covers=("risk_score",))
