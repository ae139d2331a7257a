"""HTTP doors of CSV import and export, and of the tier segmentation."""

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter, QueryParameter
from litestar.response import Stream

from fieldcrm.accounts import imports, segmentation
from fieldcrm.accounts.imports import Encoding, ImportKind, ImportReport
from fieldcrm.accounts.schemas import Status, Tier
from fieldcrm.accounts.segmentation import SegmentationResult
from fieldcrm.lib.errors import InvalidInput
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.settings import get_settings

Query = Annotated[str | None, Parameter(max_length=100, description="Search in name, code and contact names")]
Days = Annotated[int | None, QueryParameter(name="contractsEndingWithinDays", ge=0, le=3660)]
ExportEncoding = Annotated[Literal["utf-8", "gbk"], Parameter(description="utf-8 (with a BOM, for Excel) or gbk")]


async def _csv_body(request: Request[Any, Any, Any]) -> bytes:
    """The CSV: the raw body (text/csv), or the ``file`` field of a multipart form."""
    content_type, _ = request.content_type
    if content_type != "multipart/form-data":
        return await request.body()
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        msg = "send the CSV as the request body, or as a multipart form field named file"
        raise InvalidInput(msg, field="file")
    return await upload.read()


class ImportController(Controller):
    """CSV imports (HQ)."""

    path = "/imports"
    tags = ["accounts"]

    @post(
        "/",
        status_code=200,
        request_max_body_size=get_settings().import_max_body_bytes,
        description="Send the CSV as the body (Content-Type text/csv) or as the multipart field `file`. "
        "422 with the report under `report` when rows fail and nothing was applied.",
    )
    async def import_csv(
        self,
        actor: Actor,
        request: Request[Any, Any, Any],
        kind: ImportKind,
        dry_run: Annotated[bool, QueryParameter(name="dryRun")] = False,
        skip_invalid: Annotated[bool, QueryParameter(name="skipInvalid")] = False,
        encoding: Encoding = "auto",
    ) -> ImportReport:
        """Import accounts, contacts, holdings or revenue from CSV (UTF-8 or GBK, English or Chinese headers)."""
        scope.require(actor, "accounts.import")  # before reading up to 50 MB from someone who may not import
        data = await _csv_body(request)
        return await imports.import_csv(
            actor=actor, kind=kind, data=data, dry_run=dry_run, skip_invalid=skip_invalid, encoding=encoding
        )


class AccountExportController(Controller):
    """The account list as a CSV download."""

    path = "/accounts/export"
    tags = ["accounts"]

    @get("/", media_type="text/csv")
    async def export_accounts(
        self,
        actor: Actor,
        q: Query = None,
        tier: Tier | None = None,
        status: Status | None = None,
        owner_id: Annotated[uuid.UUID | None, QueryParameter(name="ownerId")] = None,
        org_unit_id: Annotated[uuid.UUID | None, QueryParameter(name="orgUnitId")] = None,
        city: Annotated[str | None, Parameter(max_length=64)] = None,
        parent_id: Annotated[uuid.UUID | None, QueryParameter(name="parentId")] = None,
        contracts_ending_within_days: Days = None,
        sort: Annotated[str, Parameter(description="name, code, revenue, updated or tier; - reverses")] = "code",
        encoding: ExportEncoding = "utf-8",
    ) -> Stream:
        """Download the accounts the caller sees (the list's filters) as CSV; the file re-imports."""
        download = await imports.export_accounts(
            actor=actor,
            encoding=encoding,
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
        disposition = f'attachment; filename="{download.filename}"'
        return Stream(download.chunks, media_type=download.media_type, headers={"Content-Disposition": disposition})


class SegmentationController(Controller):
    """Value tiers."""

    path = "/segmentation"
    tags = ["accounts"]

    @post("/", status_code=200)
    async def run_segmentation(self, actor: Actor) -> SegmentationResult:
        """Recompute A/B/C tiers from trailing-12-month revenue now (HQ)."""
        return await segmentation.run_segmentation(actor=actor)


IO_CONTROLLERS = [ImportController, AccountExportController, SegmentationController]
