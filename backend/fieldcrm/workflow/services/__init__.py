"""The workflow engine: start, decide, cancel, the inbox, history, SLA timers, definitions, delegations.

Every service joins the caller's transaction when one is open (a quote's submit starts its approval in
the same transaction), so a subject's state, the workflow's state, the audit trail and the notification
outbox always change together. Decisions are idempotent per (user, Idempotency-Key); on PostgreSQL
the decided step's row is locked, so concurrent decisions on one step queue instead of racing.

The engine is a package of private modules (definitions, reading, instances, decisions, inbox, timers,
delegations); callers import the public names from here.
"""

from fieldcrm.workflow.services._common import DEFINITIONS_DIR, MAX_DELEGATION, MAX_KEY, NOTIFY_TTL_S, SCAN_BATCH
from fieldcrm.workflow.services._decisions import decide, purge_idempotency_keys, sync_decide
from fieldcrm.workflow.services._definitions import (
    definition_files,
    get_definition,
    list_definitions,
    load_definition_files,
    put_definition,
)
from fieldcrm.workflow.services._delegations import create_delegation, delete_delegation, list_delegations
from fieldcrm.workflow.services._inbox import inbox
from fieldcrm.workflow.services._instances import cancel, start
from fieldcrm.workflow.services._reading import get_step, history, running
from fieldcrm.workflow.services._timers import sla_scan

__all__ = [
    "DEFINITIONS_DIR",
    "MAX_DELEGATION",
    "MAX_KEY",
    "NOTIFY_TTL_S",
    "SCAN_BATCH",
    "cancel",
    "create_delegation",
    "decide",
    "definition_files",
    "delete_delegation",
    "get_definition",
    "get_step",
    "history",
    "inbox",
    "list_definitions",
    "list_delegations",
    "load_definition_files",
    "purge_idempotency_keys",
    "put_definition",
    "running",
    "sla_scan",
    "start",
    "sync_decide",
]
