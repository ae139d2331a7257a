"""Contract documents: signed PDFs and scans, checked by their content and stored by SHA-256 under the media folder."""

import hashlib
import uuid
from pathlib import Path

from fieldcrm.audit import services as audit
from fieldcrm.contracts import services
from fieldcrm.contracts.schemas import Contract
from fieldcrm.contracts.tables import ContractDocument
from fieldcrm.lib.db import write_transaction
from fieldcrm.lib.errors import InvalidInput, NotFound, PayloadTooLarge
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.settings import get_settings

DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
# What a file starts with decides what it is; the Content-Type a client sends is not trusted.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff(content: bytes) -> str | None:
    """The media type the content really is (PDF, PNG, JPEG), or None."""
    for magic, media_type in SIGNATURES:
        if content.startswith(magic):
            return media_type
    return None


def media_path(sha256: str) -> Path:
    """Where a document's bytes live."""
    return Path(get_settings().media_dir) / sha256[:2] / sha256


def _clean_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "document"


async def add_document(*, actor: Actor, contract_id: uuid.UUID, content: bytes, filename: str) -> Contract:
    """Attach a PDF, PNG or JPEG (20 MB at most) to a contract the actor sees."""
    scope.require(actor, "contracts.write")
    if len(content) > DOCUMENT_MAX_BYTES:
        limit = DOCUMENT_MAX_BYTES // (1024 * 1024)
        msg = f"a document may be at most {limit} MB; this one is {len(content) / 1e6:.1f} MB"
        raise PayloadTooLarge(msg)
    media_type = sniff(content)
    if media_type is None:
        msg = "the file is not a PDF, PNG or JPEG (its first bytes say otherwise); scan or export it as one of those"
        raise InvalidInput(msg, field="body")
    digest = hashlib.sha256(content).hexdigest()
    path = media_path(digest)
    async with write_transaction():
        row = await services.contract_row(actor, contract_id)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
            partial.write_bytes(content)
            partial.replace(path)  # atomic: a reader never sees half a file
        document_id = new_id()
        await ContractDocument.insert(
            ContractDocument(
                id=document_id,
                contract=contract_id,
                sha256=digest,
                media_type=media_type,
                filename=_clean_name(filename),
                size=len(content),
                uploaded_by=actor.id if actor.service_scopes is None else None,
                created_at=utcnow(),
            )
        )
        await audit.record(
            actor=actor,
            entity="contract",
            entity_id=contract_id,
            account_id=row["account"],
            action="update",
            changes={"document": [None, f"{_clean_name(filename)} ({digest[:12]})"]},
        )
        return await services.read_contract(contract_id)


async def document(*, actor: Actor, contract_id: uuid.UUID, document_id: uuid.UUID) -> tuple[Path, str, str]:
    """(file, media type, file name) of one of the contract's documents."""
    scope.require(actor, "contracts.read")
    await services.contract_row(actor, contract_id)
    row = (
        await ContractDocument.select()
        .where(ContractDocument.id == document_id, ContractDocument.contract == contract_id)
        .first()
    )
    if row is None or not media_path(row["sha256"]).exists():
        msg = f"contract {contract_id} has no document {document_id}"
        raise NotFound(msg)
    return media_path(row["sha256"]), row["media_type"], row["filename"]
