"""The contract calendar, run by the worker: start, renewal window (tasks), end or automatic renewal.

- signed and its start date has come: active;
- active and within N days of its end (N per account tier, ``FIELDCRM_RENEWAL_DAYS``): expiring, with a
  renewal task for the account's owner (once per contract, through the tasks service);
- past its end and not renewed: ended, or with auto-renew a successor for the next term (signed) and renewed.
"""

import datetime
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.contracts import messages, services
from fieldcrm.contracts.config import contract_settings
from fieldcrm.contracts.receivables import business_today
from fieldcrm.contracts.tables import Contract as ContractRow
from fieldcrm.lib.db import as_date, as_uuid, write_transaction
from fieldcrm.lib.tables import utcnow
from fieldcrm.org.tables import User
from fieldcrm.tasks import services as tasks
from fieldcrm.tasks.schemas import TaskCreate

_COLUMNS = (
    *ContractRow.all_columns(),
    ContractRow.account.name.as_alias("account_name"),
    ContractRow.account.owner.as_alias("owner"),
    ContractRow.account.tier.as_alias("tier"),
)


async def _set(row: dict[str, Any], status: str, now: datetime.datetime, **extra: Any) -> None:
    values: dict[Any, Any] = {
        ContractRow.status: status,
        ContractRow.updated_at: now,
        ContractRow.version: ContractRow.version + 1,
    }
    values |= {getattr(ContractRow, k): v for k, v in extra.items()}
    await ContractRow.update(values).where(ContractRow.id == row["id"], ContractRow.status == row["status"])
    await audit.record(
        actor=None,
        entity="contract",
        entity_id=as_uuid(row["id"]),
        account_id=as_uuid(row["account"]),
        action=status,
        changes={"status": [row["status"], status]},
    )


async def _renewal_task(row: dict[str, Any], today: datetime.date) -> None:
    owner = await User.select(User.locale).where(User.id == row["owner"]).first()
    end = as_date(row["end_on"])
    due = max(today, end - datetime.timedelta(days=row["notice_days"]))
    title = messages.text(
        "task.renewal",
        owner["locale"] if owner else "zh-CN",
        {"number": row["number"], "account": row["account_name"], "end": end.isoformat()},
    )
    await tasks.create_task(
        actor=None,
        data=TaskCreate(
            title=title[:200],
            due_date=due,
            account_id=as_uuid(row["account"]),
            contract_id=as_uuid(row["id"]),
            assignee_id=as_uuid(row["owner"]),
            kind="follow_up",
            priority="high",
        ),
        source="contract",
        source_key=f"renewal:{row['id']}",
    )


async def run_calendar(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Move contracts along the calendar; returns how many moved each way."""
    now = now or utcnow()
    today = business_today(now)
    settings = contract_settings()
    done = {"activated": 0, "expiring": 0, "ended": 0, "renewed": 0}
    rows = await ContractRow.select(*_COLUMNS).where(ContractRow.status.is_in(["signed", "active", "expiring"]))
    for found in rows:
        row = dict(found)
        start = as_date(row["start_on"]) if row["start_on"] is not None else None
        end = as_date(row["end_on"]) if row["end_on"] is not None else None
        async with write_transaction():
            status = row["status"]
            if status == "signed" and start is not None and start <= today:
                await _set(row, "active", now)
                row["status"] = "active"
                status = "active"
                done["activated"] += 1
            if end is not None and end < today and status in {"active", "expiring"}:
                if row["auto_renew"]:
                    successor = await services.renew_automatically(row, now=now)
                    await _set(row, "renewed", now, renewed_by=successor)
                    done["renewed"] += 1
                else:
                    await _set(row, "ended", now)
                    done["ended"] += 1
                continue
            window = datetime.timedelta(days=settings.renewal_days_for(row["tier"]))
            if status == "active" and end is not None and today >= end - window:
                await _set(row, "expiring", now, renewal_opened_at=now)
                await _renewal_task(row, today)
                done["expiring"] += 1
    return done
