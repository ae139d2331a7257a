"""Workflow definitions: the shipped files, the versioned table, HQ's edits."""

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, read_transaction, write_transaction
from fieldcrm.lib.errors import Conflict, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow import rules
from fieldcrm.workflow.schemas import Definition, DefinitionPage, DefinitionSummary
from fieldcrm.workflow.services._common import DEFINITIONS_DIR, _json
from fieldcrm.workflow.tables import WorkflowDefinition

_parsed: dict[uuid.UUID, rules.Document] = {}  # definition versions never change: parse each once


def _document(row: Mapping[str, Any]) -> rules.Document:
    key = as_uuid(row["id"])
    doc = _parsed.get(key)
    if doc is None:
        doc = _parsed[key] = rules.parse(_json(row["body"]))
    return doc


async def _latest(key: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await (
        WorkflowDefinition.select()
        .where(WorkflowDefinition.key == key)
        .order_by(WorkflowDefinition.version, ascending=False)
        .first()
    )
    return row


async def _insert_definition(doc: rules.Document, *, version: int, source: str, actor: Actor | None) -> uuid.UUID:
    body = rules.to_body(doc)
    definition_id = new_id()
    await WorkflowDefinition.insert(
        WorkflowDefinition(
            id=definition_id,
            key=doc.key,
            version=version,
            subject=doc.subject,
            type=doc.type,
            is_default=doc.default,
            body=body,
            body_hash=rules.body_hash(body),
            source=source,
            created_by=actor.id if actor else None,
            created_by_name=actor.display_name if actor else "system",
        )
    ).on_conflict(action="DO NOTHING")
    return definition_id


def definition_files(directory: Path = DEFINITIONS_DIR) -> list[rules.Document]:
    """The definitions shipped as files, validated.

    Raises:
        RuntimeError: A file is not a valid definition (start-up must fail loudly).
    """
    docs = []
    for path in sorted(directory.glob("*.json")):
        try:
            docs.append(rules.parse(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, InvalidInput) as exc:
            message = exc.message if isinstance(exc, InvalidInput) else str(exc)
            msg = f"workflow definition file {path.name}: {message}"
            raise RuntimeError(msg) from exc
    return docs


async def load_definition_files(directory: Path = DEFINITIONS_DIR) -> int:
    """Load the definition files into the versioned table (idempotent); returns how many versions were added.

    A key not yet in the table gets version 1; a file that changed since its last load gets a new
    version, unless HQ has edited the definition through the API since (HQ's edits win). Nothing is
    written (no write transaction either) when the table is up to date.
    """

    async def stale(doc: rules.Document) -> dict[str, Any] | None | bool:
        latest = await _latest(doc.key)
        if latest is None:
            return None
        if latest["source"] == "file" and latest["body_hash"] != rules.body_hash(rules.to_body(doc)):
            return latest
        return False

    docs = definition_files(directory)
    if all([await stale(doc) is False for doc in docs]):
        return 0
    added = 0
    async with write_transaction():
        for doc in docs:
            latest = await stale(doc)
            if latest is not False:
                version = int(latest["version"]) + 1 if isinstance(latest, dict) else 1
                await _insert_definition(doc, version=version, source="file", actor=None)
                added += 1
    return added


async def _definition_for(kind: str, key: str | None) -> tuple[dict[str, Any], rules.Document]:
    """The newest version of the definition to run on ``kind`` (by key, or the subject's only/default one)."""
    for attempt in (1, 2):
        if key is not None:
            row = await _latest(key)
            if row is not None:
                if row["subject"] != kind:
                    msg = f"definition {key!r} runs on {row['subject']} subjects, not on {kind}"
                    raise InvalidInput(msg, field="definition")
                return row, _document(row)
        else:
            rows = await (
                WorkflowDefinition.select()
                .where(WorkflowDefinition.subject == kind)
                .order_by(WorkflowDefinition.key)
                .order_by(WorkflowDefinition.version, ascending=False)
            )
            newest: dict[str, dict[str, Any]] = {}
            for row in rows:
                newest.setdefault(row["key"], row)
            candidates = list(newest.values())
            if len(candidates) > 1:
                defaults = [r for r in candidates if r["is_default"]]
                if len(defaults) != 1:
                    keys = ", ".join(sorted(newest))
                    msg = f"{kind} has several workflow definitions ({keys}); name one, or mark one default"
                    raise InvalidInput(msg, field="definition")
                candidates = defaults
            if candidates:
                return candidates[0], _document(candidates[0])
        if attempt == 1:
            await load_definition_files()  # first use on an empty database
    what = f"definition {key!r}" if key else f"workflow definition for {kind}"
    msg = f"no {what}; HQ can add one under /api/workflow-definitions"
    raise InvalidInput(msg, field="definition")


def _definition_out(row: Mapping[str, Any]) -> Definition:
    return Definition(
        key=row["key"],
        version=row["version"],
        subject=row["subject"],
        type=row["type"],
        body=_json(row["body"]),
        source=row["source"],
        created_at=row["created_at"],
        created_by_name=row["created_by_name"],
    )


async def list_definitions(*, actor: Actor, page: PageParams) -> DefinitionPage:
    """The newest version of every definition (HQ)."""
    scope.require(actor, "workflow.definitions")
    await load_definition_files()  # first use on this database, or files changed since start-up
    async with read_transaction():
        rows = await WorkflowDefinition.select(
            WorkflowDefinition.key,
            WorkflowDefinition.version,
            WorkflowDefinition.subject,
            WorkflowDefinition.type,
            WorkflowDefinition.source,
            WorkflowDefinition.created_at,
        ).order_by(WorkflowDefinition.key)
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["key"] not in newest or row["version"] > newest[row["key"]]["version"]:
            newest[row["key"]] = row
    items = [DefinitionSummary(**r) for r in newest.values()]
    total = len(items)
    return DefinitionPage(
        items=items[page.offset : page.offset + page.limit], total=total, next_cursor=page.next_cursor(total)
    )


async def get_definition(*, actor: Actor, key: str, version: int | None = None) -> Definition:
    """One definition: its newest version, or the version asked for (HQ)."""
    scope.require(actor, "workflow.definitions")
    await load_definition_files()  # first use on this database, or files changed since start-up
    if version is None:
        row = await _latest(key)
    else:
        row = (
            await WorkflowDefinition.select()
            .where(WorkflowDefinition.key == key, WorkflowDefinition.version == version)
            .first()
        )
    if row is None:
        msg = f"workflow definition {key!r}{f' version {version}' if version else ''} not found"
        raise NotFound(msg)
    return _definition_out(row)


async def put_definition(*, actor: Actor, key: str, body: Mapping[str, Any]) -> Definition:
    """Save a new version of a definition (HQ); running instances keep the version they started with."""
    scope.require(actor, "workflow.definitions")
    doc = rules.parse(body, key=key)
    async with write_transaction():
        latest = await _latest(key)
        if latest is not None and latest["subject"] != doc.subject:
            msg = f"subject: {key!r} runs on {latest['subject']}; a definition cannot change its subject kind"
            raise InvalidInput(msg, field="subject")
        version = int(latest["version"]) + 1 if latest else 1
        definition_id = await _insert_definition(doc, version=version, source="api", actor=actor)
        await audit.record(
            actor=actor,
            entity="workflow_definition",
            entity_id=definition_id,
            action="create" if latest is None else "update",
            changes={"key": [None, key], "version": [latest["version"] if latest else None, version]},
        )
        row = await WorkflowDefinition.select().where(WorkflowDefinition.id == definition_id).first()
    if row is None:  # a concurrent save took this version number
        msg = f"someone saved {key!r} at the same moment; load it again and repeat your change"
        raise Conflict(msg)
    return _definition_out(row)
