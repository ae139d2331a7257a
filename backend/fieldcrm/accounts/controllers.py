"""HTTP doors of key accounts: accounts, the 360 view, contacts, holdings, revenue, audit trail."""

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import Parameter, QueryParameter

from fieldcrm.accounts import duplicates, services
from fieldcrm.accounts.duplicates import MergeRequest, MergeResult
from fieldcrm.accounts.io_controllers import IO_CONTROLLERS
from fieldcrm.accounts.schemas import (
    Account,
    AccountCreate,
    AccountPage,
    AccountPatch,
    Contact,
    ContactCreate,
    ContactPage,
    ContactPatch,
    Holding,
    HoldingCreate,
    HoldingPage,
    HoldingPatch,
    Note,
    NoteCreate,
    NotePage,
    Overview,
    RevenueMonth,
    RevenuePut,
    Status,
    Tier,
    TierOverride,
)
from fieldcrm.audit.schemas import AuditPage
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor

Query = Annotated[str | None, Parameter(max_length=100, description="Search in name, code and contact names")]
Days = Annotated[int | None, QueryParameter(name="contractsEndingWithinDays", ge=0, le=3660)]


class AccountController(Controller):
    """Key accounts, within the caller's data scope."""

    path = "/accounts"
    tags = ["accounts"]

    @get("/")
    async def list_accounts(
        self,
        actor: Actor,
        page: PageParams,
        q: Query = None,
        tier: Tier | None = None,
        status: Status | None = None,
        owner_id: Annotated[uuid.UUID | None, QueryParameter(name="ownerId")] = None,
        org_unit_id: Annotated[uuid.UUID | None, QueryParameter(name="orgUnitId")] = None,
        city: Annotated[str | None, Parameter(max_length=64)] = None,
        parent_id: Annotated[uuid.UUID | None, QueryParameter(name="parentId")] = None,
        contracts_ending_within_days: Days = None,
        sort: Annotated[
            str, Parameter(description="name, code, revenue, updated or tier; prefix - to reverse")
        ] = "name",
    ) -> AccountPage:
        """Search, filter, sort and page the accounts the caller sees."""
        return await services.list_accounts(
            actor=actor,
            page=page,
            sort=sort,
            q=q,
            tier=tier,
            status=status,
            owner_id=owner_id,
            org_unit_id=org_unit_id,
            city=city,
            parent_id=parent_id,
            contracts_ending_within_days=contracts_ending_within_days,
        )

    @post("/")
    async def create_account(self, actor: Actor, data: AccountCreate) -> Account:
        """Add an account."""
        return await services.create_account(actor=actor, data=data)

    @get("/{account_id:uuid}")
    async def get_account(self, actor: Actor, account_id: uuid.UUID) -> Account:
        """One account."""
        return await services.get_account(actor=actor, account_id=account_id)

    @patch("/{account_id:uuid}")
    async def update_account(self, actor: Actor, account_id: uuid.UUID, data: AccountPatch) -> Account:
        """Change an account (reassigning needs a manager)."""
        return await services.update_account(actor=actor, account_id=account_id, data=data)

    @delete("/{account_id:uuid}")
    async def delete_account(self, actor: Actor, account_id: uuid.UUID) -> None:
        """Delete an account (managers)."""
        await services.delete_account(actor=actor, account_id=account_id)

    @get("/{account_id:uuid}/overview")
    async def overview(self, actor: Actor, account_id: uuid.UUID) -> Overview:
        """The customer 360."""
        return await services.overview(actor=actor, account_id=account_id)

    @post("/{account_id:uuid}/merge", status_code=200)
    async def merge_account(self, actor: Actor, account_id: uuid.UUID, data: MergeRequest) -> MergeResult:
        """Merge a duplicate into the survivor (leaders): its contacts, visits, deals and cases move, it is deleted."""
        return await duplicates.merge(actor=actor, account_id=account_id, data=data)

    @post("/{account_id:uuid}/tier", status_code=200)
    async def override_tier(self, actor: Actor, account_id: uuid.UUID, data: TierOverride) -> Account:
        """Override the computed tier (HQ), or clear the override with tier null."""
        return await services.override_tier(actor=actor, account_id=account_id, data=data)

    @get("/{account_id:uuid}/revenue")
    async def get_revenue(
        self, actor: Actor, account_id: uuid.UUID, months: Annotated[int, Parameter(ge=1, le=60)] = 12
    ) -> list[RevenueMonth]:
        """Monthly revenue, zeros filled."""
        return await services.get_revenue(actor=actor, account_id=account_id, months=months)

    @put("/{account_id:uuid}/revenue")
    async def put_revenue(self, actor: Actor, account_id: uuid.UUID, data: RevenuePut) -> list[RevenueMonth]:
        """Set monthly revenue (HQ)."""
        return await services.put_revenue(actor=actor, account_id=account_id, data=data)

    @get("/{account_id:uuid}/audit")
    async def audit_trail(self, actor: Actor, account_id: uuid.UUID, page: PageParams) -> AuditPage:
        """Who changed what on this account, its contacts and holdings (managers and HQ)."""
        return await services.audit_trail(actor=actor, account_id=account_id, page=page)


class ContactController(Controller):
    """Contacts of an account."""

    path = "/accounts/{account_id:uuid}/contacts"
    tags = ["accounts"]

    @get("/")
    async def list_contacts(self, actor: Actor, account_id: uuid.UUID, page: PageParams) -> ContactPage:
        """Contacts of an account."""
        return await services.list_contacts(actor=actor, account_id=account_id, page=page)

    @post("/")
    async def create_contact(self, actor: Actor, account_id: uuid.UUID, data: ContactCreate) -> Contact:
        """Add a contact."""
        return await services.create_contact(actor=actor, account_id=account_id, data=data)

    @patch("/{contact_id:uuid}")
    async def update_contact(
        self, actor: Actor, account_id: uuid.UUID, contact_id: uuid.UUID, data: ContactPatch
    ) -> Contact:
        """Change a contact."""
        return await services.update_contact(actor=actor, account_id=account_id, contact_id=contact_id, data=data)

    @delete("/{contact_id:uuid}")
    async def delete_contact(self, actor: Actor, account_id: uuid.UUID, contact_id: uuid.UUID) -> None:
        """Remove a contact."""
        await services.delete_contact(actor=actor, account_id=account_id, contact_id=contact_id)


class HoldingController(Controller):
    """Products and services an account holds."""

    path = "/accounts/{account_id:uuid}/holdings"
    tags = ["accounts"]

    @get("/")
    async def list_holdings(
        self,
        actor: Actor,
        account_id: uuid.UUID,
        page: PageParams,
        ending_within_days: Annotated[int | None, QueryParameter(name="endingWithinDays", ge=0, le=3660)] = None,
    ) -> HoldingPage:
        """Holdings, soonest contract end first."""
        return await services.list_holdings(
            actor=actor, account_id=account_id, page=page, ending_within_days=ending_within_days
        )

    @post("/")
    async def create_holding(self, actor: Actor, account_id: uuid.UUID, data: HoldingCreate) -> Holding:
        """Add a holding."""
        return await services.create_holding(actor=actor, account_id=account_id, data=data)

    @patch("/{holding_id:uuid}")
    async def update_holding(
        self, actor: Actor, account_id: uuid.UUID, holding_id: uuid.UUID, data: HoldingPatch
    ) -> Holding:
        """Change a holding."""
        return await services.update_holding(actor=actor, account_id=account_id, holding_id=holding_id, data=data)

    @delete("/{holding_id:uuid}")
    async def delete_holding(self, actor: Actor, account_id: uuid.UUID, holding_id: uuid.UUID) -> None:
        """Remove a holding."""
        await services.delete_holding(actor=actor, account_id=account_id, holding_id=holding_id)


class NoteController(Controller):
    """Notes on an account."""

    path = "/accounts/{account_id:uuid}/notes"
    tags = ["accounts"]

    @get("/")
    async def list_notes(self, actor: Actor, account_id: uuid.UUID, page: PageParams) -> NotePage:
        """Notes, newest first."""
        return await services.list_notes(actor=actor, account_id=account_id, page=page)

    @post("/")
    async def create_note(self, actor: Actor, account_id: uuid.UUID, data: NoteCreate) -> Note:
        """Add a note."""
        return await services.create_note(actor=actor, account_id=account_id, data=data)


CONTROLLERS = [AccountController, ContactController, HoldingController, NoteController, *IO_CONTROLLERS]
