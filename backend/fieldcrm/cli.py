"""The ``fieldcrm`` command: serve, migrate, demo, user, segment, import, worker, vapid, backup, restore."""

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from fieldcrm.settings import get_settings


def _piccolo_env() -> None:
    os.environ.setdefault("PICCOLO_CONF", "fieldcrm.piccolo_conf")


async def migrate() -> None:
    """Apply every pending Piccolo migration of every domain, in dependency order."""
    _piccolo_env()
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from fieldcrm.lib.db import close_engine

    try:
        result = await run_forwards(app_name="all", migration_id="all", fake=False)
        if not result.success:
            msg = f"migration failed: {result.message}"
            raise SystemExit(msg)
    finally:
        await close_engine()


def _run(coro_fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    async def wrapped() -> Any:
        from fieldcrm.lib.db import close_engine

        try:
            return await coro_fn(*args, **kwargs)
        finally:
            await close_engine()

    return asyncio.run(wrapped())


def cmd_serve(args: argparse.Namespace) -> None:
    """Serve the API (and the PWA when it is built)."""
    import uvicorn

    from fieldcrm.ops.logs import log_config

    settings = get_settings()
    if args.migrate:
        asyncio.run(migrate())
    if args.worker:
        os.environ["FIELDCRM_EMBEDDED_WORKER"] = "1"  # read by the app factory in the server process
    uvicorn.run(
        "fieldcrm.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
        log_config=log_config(),  # JSON lines; the app writes its own access line with the request id
        access_log=False,
    )


def cmd_migrate(_: argparse.Namespace) -> None:
    """Bring the database schema up to date."""
    asyncio.run(migrate())
    print("database is up to date")


def cmd_user_add(args: argparse.Namespace) -> None:
    """Create a user from the command line."""
    from fieldcrm.org import services
    from fieldcrm.org.schemas import UserCreate
    from fieldcrm.org.tables import OrgUnit

    password = args.password or os.environ.get("FIELDCRM_NEW_PASSWORD") or getpass.getpass("password: ")

    async def add() -> None:
        unit_id = None
        if args.org_unit:
            unit = await OrgUnit.select(OrgUnit.id).where(OrgUnit.name == args.org_unit).first()
            if unit is None:
                msg = f"no org unit named {args.org_unit}"
                raise SystemExit(msg)
            unit_id = unit["id"]
        else:
            root = await OrgUnit.select(OrgUnit.id).where(OrgUnit.parent.is_null()).first()
            if root is None:
                from fieldcrm.org.schemas import OrgUnitCreate

                root_unit = await services.create_unit(actor=None, data=OrgUnitCreate(name="HQ", kind="hq"))
                unit_id = root_unit.id
            else:
                unit_id = root["id"]
        user = await services.create_user(
            actor=None,
            data=UserCreate(
                username=args.username,
                display_name=args.name or args.username,
                password=password,
                role=args.role,
                org_unit_id=unit_id,
            ),
        )
        print(f"created {user.username} ({user.role}) in {user.org_unit_name}")

    _run(add)


def cmd_segment(_: argparse.Namespace) -> None:
    """Recompute A/B/C tiers from trailing-12-month revenue."""
    from fieldcrm.accounts.segmentation import run_segmentation

    result = _run(run_segmentation, actor=None)
    print(result)


def cmd_retention(args: argparse.Namespace) -> None:
    """Score every account's churn risk, or open, match and close retention episodes."""
    if args.retention_command == "score":
        from fieldcrm.retention.scoring import score_all

        print(_run(score_all))
    else:
        from fieldcrm.retention.episodes import run

        print(_run(run))


def cmd_demo(args: argparse.Namespace) -> None:
    """Build the demo company (replaces what the database holds)."""
    from fieldcrm.demo import build_demo

    asyncio.run(migrate())
    result = _run(build_demo, accounts=args.accounts, seed=args.seed)
    print(result)


def cmd_import(args: argparse.Namespace) -> None:
    """Import a CSV file (accounts, contacts, holdings or revenue)."""
    from fieldcrm.accounts.imports import import_file

    report = _run(
        import_file,
        path=args.file,
        kind=args.kind,
        dry_run=args.dry_run,
        skip_invalid=args.skip_invalid,
        encoding=args.encoding,
    )
    print(report)
    if report.errors and not report.applied and not args.dry_run:
        raise SystemExit(
            f"{len(report.errors)} rows failed; nothing was applied (use --skip-invalid to apply the rest)"
        )


def cmd_vapid(args: argparse.Namespace) -> None:
    """Create the VAPID key pair once (Web Push); print the public key. Never replaces an existing key."""
    from pathlib import Path

    from fieldcrm_push import VapidKeys

    path = Path(args.path or get_settings().vapid_private_key_path)
    if path.exists():
        keys = VapidKeys.load(path)
        print(f"VAPID key already at {path} (kept: browsers subscribed with it)")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = VapidKeys.generate()
        keys.save(path)
        print(f"VAPID private key written to {path} (mode 600; back it up, keep it secret)")
    print(f"public key: {keys.application_server_key}")


def cmd_backup(args: argparse.Namespace) -> None:
    """Back up the SQLite database into a file while the API runs (PostgreSQL: pg_dump, see docs/backup.md)."""
    from pathlib import Path

    from fieldcrm.ops.backup import BackupError, backup_sqlite, postgres_advice

    settings = get_settings()
    if not settings.is_sqlite:
        raise SystemExit(postgres_advice(settings.database_url))
    try:
        result = backup_sqlite(Path(settings.sqlite_path), Path(args.file), overwrite=args.force)
    except BackupError as exc:
        raise SystemExit(f"backup: {exc}") from exc
    print(
        f"backed up {settings.sqlite_path} to {result.path}: {result.bytes / 1e6:.1f} MB, "
        f"{result.total_rows} rows in {len(result.tables)} tables, integrity ok, {result.seconds:.2f} s"
    )


def cmd_restore(args: argparse.Namespace) -> None:
    """Replace the SQLite database with a checked backup file (refuses a database that holds data without --force)."""
    from pathlib import Path

    from fieldcrm.ops.backup import BackupError, postgres_advice, restore_sqlite

    settings = get_settings()
    if not settings.is_sqlite:
        raise SystemExit(postgres_advice(settings.database_url))
    try:
        result = restore_sqlite(Path(args.file), Path(settings.sqlite_path), force=args.force)
    except BackupError as exc:
        raise SystemExit(f"restore: {exc}") from exc
    print(
        f"restored {args.file} into {result.path}: {result.total_rows} rows in {len(result.tables)} tables, "
        f"checksums match, {result.seconds:.2f} s; run `fieldcrm migrate` if the backup is older than this release"
    )


def cmd_worker(args: argparse.Namespace) -> None:
    """Run the background worker."""
    import logging.config

    from fieldcrm.ops.logs import log_config
    from fieldcrm.worker import run_worker

    logging.config.dictConfig(log_config())
    asyncio.run(run_worker(once=args.once))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``fieldcrm`` console script."""
    parser = argparse.ArgumentParser(prog="fieldcrm", description="fieldcrm: field-sales CRM for key-account teams")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API and the PWA")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument(
        "--worker", action="store_true", help="also run the background jobs (timers, push delivery) in this process"
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", choices=["rep", "manager", "director", "hq_admin"], default="hq_admin")
    add.add_argument("--name")
    add.add_argument("--org-unit", help="org unit name (default: the HQ root, created if missing)")
    add.add_argument("--password", help="default: FIELDCRM_NEW_PASSWORD or a prompt")
    add.set_defaults(func=cmd_user_add)

    sub.add_parser("segment", help="recompute A/B/C tiers").set_defaults(func=cmd_segment)

    retention = sub.add_parser("retention", help="churn risk and retention episodes").add_subparsers(
        dest="retention_command", required=True
    )
    for name, text in (("score", "score every account's churn risk"), ("run", "open, match and close episodes")):
        retention.add_parser(name, help=text).set_defaults(func=cmd_retention)

    demo = sub.add_parser("demo", help="load demo data")
    demo.add_argument("--accounts", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=42)
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="import a CSV file")
    imp.add_argument("kind", choices=["accounts", "contacts", "holdings", "revenue"])
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true")
    imp.add_argument("--skip-invalid", action="store_true")
    imp.add_argument("--encoding", choices=["auto", "utf-8", "gbk"], default="auto")
    imp.set_defaults(func=cmd_import)

    worker = sub.add_parser("worker", help="run the background worker")
    worker.add_argument("--once", action="store_true", help="run each job once and exit")
    worker.set_defaults(func=cmd_worker)

    backup = sub.add_parser("backup", help="back up the SQLite database into a file (online, checked)")
    backup.add_argument("file")
    backup.add_argument("--force", action="store_true", help="replace the file if it exists")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="replace the SQLite database with a backup file")
    restore.add_argument("file")
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(func=cmd_restore)

    vapid = sub.add_parser("vapid", help="create the Web Push (VAPID) key pair once")
    vapid.add_argument("--path", help="default: FIELDCRM_VAPID_PRIVATE_KEY_PATH (vapid_private.pem by the database)")
    vapid.set_defaults(func=cmd_vapid)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
