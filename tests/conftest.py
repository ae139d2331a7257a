"""Test set-up: a database per xdist worker (SQLite file or PostgreSQL database), migrated once, emptied per test.

The database comes from DATABASE_URL (SQLite in a temporary folder when unset). Tests marked
``postgres_only`` are deselected on SQLite and ``sqlite_only`` ones on PostgreSQL; the header says so.
FIELDCRM_TEST_STRICT=1 (CI) turns every skip into a failure, so a run that could not test something cannot pass.
"""

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# xdist workers inherit the controller's environment: remember the URL the user gave, once.
_BASE_URL = os.environ.setdefault("FIELDCRM_TEST_BASE_URL", os.environ.get("DATABASE_URL", ""))
if _BASE_URL.startswith("postgres"):
    _base, _, _name = _BASE_URL.rpartition("/")
    # One database per test process, so parallel runs on one server never meet; dropped at the end.
    _TEST_DB = f"{_name}_fc_{_WORKER}_{os.getpid()}"
    os.environ["DATABASE_URL"] = f"{_base}/{_TEST_DB}"
else:
    _tmp = Path(tempfile.gettempdir()) / f"fieldcrm-tests-{os.getpid()}"
    _tmp.mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp / f'{_WORKER}.db'}"
os.environ["PICCOLO_CONF"] = "fieldcrm.piccolo_conf"
# Visit photos go to a folder of this test process, never the working tree.
os.environ["FIELDCRM_MEDIA_DIR"] = str(Path(tempfile.gettempdir()) / f"fieldcrm-media-{_WORKER}-{os.getpid()}")
# Cheap hashing keeps the suite fast; production parameters are the library's defaults.
os.environ.setdefault("FIELDCRM_ARGON2_TIME_COST", "1")
os.environ.setdefault("FIELDCRM_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("FIELDCRM_ARGON2_PARALLELISM", "1")

IS_POSTGRES = os.environ["DATABASE_URL"].startswith("postgres")
STRICT = os.environ.get("FIELDCRM_TEST_STRICT") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    engine = "PostgreSQL" if IS_POSTGRES else "SQLite"
    left_out = "sqlite_only" if IS_POSTGRES else "postgres_only"
    return (
        f"fieldcrm: database {engine} ({os.environ['DATABASE_URL']}); strict={STRICT}; "
        f"tests marked {left_out} are deselected on this engine"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Engine-specific tests are deselected (not skipped) on the other engine: the make test
    # header says so, and CI runs both engines, each in strict mode.
    other = "sqlite_only" if IS_POSTGRES else "postgres_only"
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker(other) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under FIELDCRM_TEST_STRICT=1 (CI must run everything): {report.longrepr}"


async def _create_pg_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(_BASE_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_TEST_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{_TEST_DB}"')
    finally:
        await admin.close()


async def _drop_pg_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(_BASE_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_TEST_DB}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", autouse=True)
async def migrated_database() -> AsyncIterator[None]:
    """Create the worker's database from nothing and run every migration (so migrations are tested too)."""
    if IS_POSTGRES:
        await _create_pg_database()
    else:
        db_file = Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    from fieldcrm.cli import migrate
    from fieldcrm.lib.db import open_engine

    await migrate()
    await open_engine()
    yield
    from fieldcrm.lib.db import close_engine

    await close_engine()
    if IS_POSTGRES:
        await _drop_pg_database()


# The change counter must only grow (clients hold cursors into it); the horizon is reset instead.
_KEEP = {"change_counter", "sync_horizon"}


def _tables() -> list[str]:
    from piccolo.conf.apps import Finder

    return [t._meta.tablename for t in Finder().get_table_classes() if t._meta.tablename not in _KEEP]


@pytest.fixture(autouse=True)
async def clean_database(migrated_database: None) -> None:
    """Every test starts from empty tables."""
    from fieldcrm.lib.db import engine

    db = engine()
    tables = _tables()
    await db.run_ddl("UPDATE sync_horizon SET version = 0")
    if IS_POSTGRES:
        await db.run_ddl(f"TRUNCATE {', '.join(tables)} CASCADE")
    else:
        async with db.transaction():
            await db.run_ddl("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                await db.run_ddl(f"DELETE FROM {table}")  # noqa: S608 - table names are ours


@pytest.fixture(scope="session")
def app() -> Any:
    from fieldcrm.app import create_app

    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def org() -> Any:
    from tests.factories import build_org

    return await build_org()
