"""HTTP doors of contracts, agreed tariffs and documents; bills, payments, arrears and collections."""

import datetime
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, patch, post, put
from litestar.datastructures import CacheControlHeader
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter, QueryParameter
from litestar.response import File

from fieldcrm.contracts import documents, receivables, services
from fieldcrm.contracts.schemas import (
    AccountCommercial,
    ArrearsPage,
    BillPage,
    Collection,
    CollectionCreate,
    CollectionPage,
    Contract,
    ContractCreate,
    ContractPage,
    ContractPatch,
    ContractTransition,
    PaymentPage,
    Status,
    TariffsPut,
)
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor

AccountId = Annotated[uuid.UUID | None, QueryParameter(name="accountId")]


class ContractController(Controller):
    """Contracts of the accounts the caller sees."""

    path = "/contracts"
    tags = ["contracts"]

    @get("/")
    async def list_contracts(
        self,
        actor: Actor,
        page: PageParams,
        account_id: AccountId = None,
        status: Status | None = None,
        ending_before: Annotated[datetime.date | None, QueryParameter(name="endingBefore")] = None,
    ) -> ContractPage:
        """Contracts by end date (renewals due first)."""
        return await services.list_contracts(
            actor=actor, page=page, account_id=account_id, status=status, ending_before=ending_before
        )

    @post("/")
    async def create_contract(self, actor: Actor, data: ContractCreate) -> Contract:
        """Draft a contract (an accepted quote drafts its own)."""
        return await services.create_contract(actor=actor, data=data)

    @get("/{contract_id:uuid}")
    async def get_contract(self, actor: Actor, contract_id: uuid.UUID) -> Contract:
        """One contract with its lines, agreed tariffs and documents."""
        return await services.get_contract(actor=actor, contract_id=contract_id)

    @patch("/{contract_id:uuid}")
    async def update_contract(self, actor: Actor, contract_id: uuid.UUID, data: ContractPatch) -> Contract:
        """Change a draft."""
        return await services.update_contract(actor=actor, contract_id=contract_id, data=data)

    @post("/{contract_id:uuid}/transitions", status_code=200)
    async def transition(
        self,
        actor: Actor,
        contract_id: uuid.UUID,
        data: Annotated[
            ContractTransition,
            Body(
                examples=[
                    Example(
                        summary="sign",
                        value={"action": "sign", "signedOn": "2026-12-20", "signatories": ["王总", "李经理"]},
                    ),
                    Example(summary="renew", value={"action": "renew"}),
                ]
            ),
        ],
    ) -> Contract:
        """Sign, activate, renew, end or terminate (409 names the moves allowed now)."""
        return await services.transition(actor=actor, contract_id=contract_id, data=data)

    @put("/{contract_id:uuid}/tariffs")
    async def put_tariffs(self, actor: Actor, contract_id: uuid.UUID, data: TariffsPut) -> Contract:
        """Replace the agreed tariffs (an amendment once signed)."""
        return await services.put_tariffs(actor=actor, contract_id=contract_id, data=data)

    @post(
        "/{contract_id:uuid}/documents",
        request_max_body_size=documents.DOCUMENT_MAX_BYTES + 1,
        description="The raw file as the body: a PDF, PNG or JPEG (checked by its content), at most 20 MB.",
    )
    async def add_document(
        self,
        actor: Actor,
        contract_id: uuid.UUID,
        request: Request[Any, Any, Any],
        filename: Annotated[str, Parameter(max_length=200)] = "document",
    ) -> Contract:
        """Attach a signed scan or PDF."""
        content = await request.body()
        return await documents.add_document(actor=actor, contract_id=contract_id, content=content, filename=filename)

    @get(
        "/{contract_id:uuid}/documents/{document_id:uuid}",
        cache_control=CacheControlHeader(private=True, max_age=86_400),
    )
    async def get_document(self, actor: Actor, contract_id: uuid.UUID, document_id: uuid.UUID) -> File:
        """A document of the contract."""
        path, media_type, name = await documents.document(actor=actor, contract_id=contract_id, document_id=document_id)
        return File(path, media_type=media_type, filename=name, content_disposition_type="inline")


class CommercialController(Controller):
    """What the customer 360 shows of contracts and money."""

    path = "/accounts/{account_id:uuid}/commercial"
    tags = ["contracts"]

    @get("/")
    async def commercial(self, actor: Actor, account_id: uuid.UUID) -> AccountCommercial:
        """Live contracts, the next renewal, agreed tariffs in force, money owed."""
        return await services.account_commercial(actor=actor, account_id=account_id)


class BillController(Controller):
    """Bills and arrears of the accounts the caller sees (fed by billing batches)."""

    path = "/bills"
    tags = ["contracts"]

    @get("/")
    async def list_bills(
        self,
        actor: Actor,
        page: PageParams,
        account_id: AccountId = None,
        status: Literal["open", "partial", "paid", "void"] | None = None,
        unpaid: bool | None = None,
    ) -> BillPage:
        """Bills, the latest due first."""
        return await receivables.list_bills(actor=actor, page=page, account_id=account_id, status=status, unpaid=unpaid)

    @get("/arrears")
    async def arrears(
        self,
        actor: Actor,
        page: PageParams,
        min_days: Annotated[int, QueryParameter(name="minDays", ge=0, le=3650)] = 1,
        owner_id: Annotated[uuid.UUID | None, QueryParameter(name="ownerId")] = None,
        totals: Annotated[bool, Parameter(description="also the aging of the whole scope")] = False,
    ) -> ArrearsPage:
        """Accounts with unpaid bills, aged in the business time zone, the most overdue first."""
        return await receivables.arrears(actor=actor, page=page, min_days=min_days, owner_id=owner_id, totals=totals)


class PaymentController(Controller):
    """Payments of the accounts the caller sees."""

    path = "/payments"
    tags = ["contracts"]

    @get("/")
    async def list_payments(self, actor: Actor, page: PageParams, account_id: AccountId = None) -> PaymentPage:
        """Payments, the latest first."""
        return await receivables.list_payments(actor=actor, page=page, account_id=account_id)


class CollectionController(Controller):
    """Collection contacts: promises to pay, disputes, notes."""

    path = "/collections"
    tags = ["contracts"]

    @get("/")
    async def list_collections(
        self,
        actor: Actor,
        page: PageParams,
        account_id: AccountId = None,
        kind: Literal["promise", "dispute", "note"] | None = None,
    ) -> CollectionPage:
        """Collection contacts, newest first."""
        return await receivables.list_collections(actor=actor, page=page, account_id=account_id, kind=kind)

    @post("/")
    async def record_collection(
        self,
        actor: Actor,
        data: Annotated[
            CollectionCreate,
            Body(
                examples=[
                    Example(
                        summary="a promise to pay",
                        value={
                            "accountId": "0b7f4d7e-5c3a-4f4e-8a51-2d6b8f1c9e03",
                            "kind": "promise",
                            "promisedOn": "2026-12-20",
                            "promisedCents": 500000,
                        },
                    ),
                    Example(
                        summary="a dispute",
                        value={
                            "accountId": "0b7f4d7e-5c3a-4f4e-8a51-2d6b8f1c9e03",
                            "kind": "dispute",
                            "reason": "the November bill counts a line twice",
                        },
                    ),
                ]
            ),
        ],
    ) -> Collection:
        """Record a collection contact (offline: the sync mutation collection.record)."""
        return await receivables.record_collection(actor=actor, data=data)


CONTROLLERS = [
    ContractController,
    CommercialController,
    BillController,
    PaymentController,
    CollectionController,
]
