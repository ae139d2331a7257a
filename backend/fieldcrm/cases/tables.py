"""Cases (complaints, faults, service requests) and delivery projects: work orders run on the workflow engine."""

from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from fieldcrm.accounts.tables import Account
from fieldcrm.lib.tables import created_column, pk, updated_column
from fieldcrm.org.tables import User
from fieldcrm.sales.tables import Opportunity


class Case(Table, tablename="cases"):
    """A complaint, fault or service request of an account; its steps run on the workflow engine."""

    id = pk()
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)  # who handles it: the account manager
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    type = Varchar(length=16, index=True)  # complaint | fault | service_request
    priority = Varchar(length=8, index=True)  # urgent | high | normal | low
    title = Varchar(length=200)
    description = Text(default="")
    state = Varchar(length=16, default="open", index=True)  # open | in_progress | resolved | cancelled
    last_step = Varchar(length=64, default="")  # the step done last (the engine holds the open ones)
    due_at = Timestamptz(index=True)  # resolution due by the priority's SLA
    resolved_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers (its steps too)
    created_at = created_column()
    updated_at = updated_column()


class Project(Table, tablename="delivery_projects"):
    """Delivery of a won opportunity: demand confirmed, resource survey, installation, customer acceptance."""

    id = pk()
    name = Varchar(length=200, index=True)
    search_text = Text(default="")  # folded name and account name
    account = ForeignKey(Account, on_delete=OnDelete.restrict, index=True)
    opportunity = ForeignKey(Opportunity, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)  # the account manager
    start_date = Date(index=True)
    state = Varchar(length=16, default="active", index=True)  # active | completed | cancelled
    last_step = Varchar(length=64, default="")  # the step done last (the engine holds the open ones)
    notes = Text(default="")
    completed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    sync_version = BigInt(default=0, index=True)  # stamped by the sync triggers (its steps too)
    created_at = created_column()
    updated_at = updated_column()
