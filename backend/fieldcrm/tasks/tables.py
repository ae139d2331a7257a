"""Tables of tasks: the tasks themselves and each person's calendar feed secret."""

from piccolo.columns import UUID, BigInt, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from fieldcrm.accounts.tables import Account
from fieldcrm.cases.tables import Case
from fieldcrm.lib.tables import created_column, deleted_column, pk, updated_column
from fieldcrm.org.tables import User
from fieldcrm.sales.tables import Opportunity, Quote


class Task(Table, tablename="tasks"):
    """Something a person has to do by a day; synced to their devices (soft delete, sync version).

    Only ``fieldcrm.tasks.services`` writes this table; other domains create tasks through it with a
    ``source`` and a ``source_key`` that makes their call idempotent (unique together, by migration).
    """

    id = pk()  # made on the device for offline creates
    title = Varchar(length=200)
    description = Text(default="")
    # A task outlives the records it points at: a purged account or a removed quote only clears the link.
    account = ForeignKey(Account, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    opportunity = ForeignKey(Opportunity, null=True, default=None, on_delete=OnDelete.set_null)
    quote = ForeignKey(Quote, null=True, default=None, on_delete=OnDelete.set_null)
    case = ForeignKey(Case, null=True, default=None, on_delete=OnDelete.set_null)
    contract_id = UUID(null=True, default=None)  # the contracts domain will own the table it points at
    assignee = ForeignKey(User, on_delete=OnDelete.restrict)  # people are deactivated, never deleted
    previous_assignee = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    creator = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)  # None: made by the system
    due_date = Date()
    due_time = Varchar(length=5, null=True, default=None)  # HH:MM in the business time zone, or all day
    remind_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    priority = Integer(default=1)  # 0 low, 1 normal, 2 high, 3 urgent: sorts as a number
    kind = Varchar(length=16, default="other")
    source = Varchar(length=16, default="manual")
    source_key = Varchar(length=120, null=True, default=None)
    state = Varchar(length=8, default="open")  # open | done | skipped
    completed_at = Timestamptz(null=True, default=None)
    outcome = Text(default="")
    skip_reason = Text(default="")
    recurrence = Varchar(length=8, default="none")  # none | weekly | monthly
    recurrence_of = UUID(null=True, default=None)  # the occurrence whose completion made this one
    version = Integer(default=1)
    # The version at which each guarded field last changed: a stale offline edit conflicts only if it moved since.
    due_version = Integer(default=1)
    assignee_version = Integer(default=1)
    state_version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers; never set by services
    created_at = created_column()
    updated_at = updated_column()
    deleted_at = deleted_column()


class CalendarFeed(Table, tablename="calendar_feeds"):
    """A person's secret iCalendar feed address, kept only as a hash (the secret is shown once)."""

    id = pk()
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    secret_hash = Varchar(length=64, unique=True, secret=True)  # sha256 hex of the secret in the URL
    created_at = created_column()
    last_used_at = Timestamptz(null=True, default=None)


class TaskScopeChange(Table, tablename="task_scope_changes"):
    """A task whose visibility may have changed: reassigned, or its assignee (or their unit) moved in the tree.

    Written by triggers (migrations/tasks), stamped with the sync version of the change, so a pull can
    send the task to the devices that now see it and a delete to those that no longer do.
    """

    task_id = UUID(index=True)
    version = BigInt(index=True)
    # Who had it before a reassignment; NULL when the assignee stayed and their unit moved: concerns everyone.
    old_assignee = UUID(null=True, default=None)
