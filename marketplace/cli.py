"""The `marketplace` command line: serve, migrate, demo, create-admin, worker, audit verify, search rebuild,
procedures check, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path


def _setup_logging() -> None:
    from marketplace.core.logs import configure_logging
    from marketplace.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


async def _with_db(coro_factory):  # type: ignore[no-untyped-def]
    from marketplace.core import db

    await db.open_pool()
    try:
        return await coro_factory()
    finally:
        await db.close_pool()


def cmd_migrate(_: argparse.Namespace) -> int:
    from marketplace.core import db
    from marketplace.settings import get_settings

    applied = asyncio.run(_with_db(db.migrate))
    where = db.redacted_url(get_settings().database_url)
    if not applied:
        print(f"Database {where} is up to date: no migration to apply.")
        return 0
    print(f"Applied {len(applied)} migration{'s' if len(applied) != 1 else ''} to {where}:")
    for name in applied:
        print(f"  {name}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from marketplace.backup import BackupError, backup, default_archive
    from marketplace.settings import get_settings

    settings = get_settings()
    try:
        done = backup(settings, Path(args.output) if args.output else default_archive(settings))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written to {done.archive}: the {done.database} database and {done.files} files.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from marketplace.backup import BackupError, restore
    from marketplace.core.db import redacted_url
    from marketplace.settings import get_settings

    settings = get_settings()
    try:
        done = restore(settings, Path(args.archive))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Restored {done.archive} into {redacted_url(settings.database_url)} and {done.files} files into "
          f"{settings.upload_dir}. Run `marketplace migrate` if this version is newer than the backup.")
    return 0


def serving_base_url(host: str, port: int) -> str:
    """The address users reach when BASE_URL is not set: the host and port we serve on."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def served_app(server: str) -> str:
    """The app factory `marketplace serve` runs: uvicorn trusts the proxy's headers itself, granian does not."""
    return "marketplace.app:create_app" if server == "uvicorn" else "marketplace.app:create_served_app"


def run_server(app: str, host: str, port: int, workers: int, server: str = "uvicorn", app_dir: str | None = None) -> None:
    """Serve the ASGI app factory `module:function` (the benchmark's floor is served by this same function)."""
    if server == "granian":
        import os
        from pathlib import Path

        from granian import Granian
        from granian.constants import Interfaces

        if app_dir:
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [app_dir, os.environ.get("PYTHONPATH")]))
        Granian(app, address=host, port=port, interface=Interfaces.ASGI, workers=workers, factory=True,
                log_enabled=False, working_dir=Path(app_dir) if app_dir else None).serve()
        return
    import uvicorn

    uvicorn.run(
        app,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,  # the app's own logging (LOG_FORMAT, LOG_LEVEL); one line per request
        access_log=False,
        app_dir=app_dir,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import os
    from dataclasses import replace

    from marketplace.operations.multiprocess import prepare_folder

    prepare_folder()  # before any server process imports prometheus_client: they all count there
    _setup_logging()

    from marketplace.settings import get_settings, use_settings

    if not os.environ.get("BASE_URL"):
        # Links in e-mails, payment onboarding and the sandbox's webhooks point at where we actually serve.
        os.environ["BASE_URL"] = serving_base_url(args.host, args.port)
        use_settings(replace(get_settings(), base_url=os.environ["BASE_URL"]))
    from marketplace.payments import gateway

    refusal = gateway.refuse_public_sandbox()
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    print(gateway.backend(), flush=True)
    cmd_migrate(args)
    server = getattr(args, "server", "granian")
    run_server(served_app(server), args.host, args.port, args.workers, server)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from marketplace.core import db
    from marketplace.demo import load_demo, print_logins

    async def run():  # type: ignore[no-untyped-def]
        await db.migrate()
        return await load_demo()

    logins = asyncio.run(_with_db(run))
    print_logins(logins)
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from marketplace.accounts.services import create_admin
    from marketplace.core import db
    from marketplace.core.errors import DomainError

    password = None
    if not args.promote:  # promoting an existing account never touches its password
        if sys.stdin.isatty():
            password = getpass.getpass("Password for the platform admin: ")
        else:
            password = sys.stdin.readline().rstrip("\n")

    async def run():  # type: ignore[no-untyped-def]
        await db.migrate()
        return await create_admin(args.email, args.name, password, promote=args.promote)

    try:
        user_id = asyncio.run(_with_db(run))
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print(f"Platform admin {args.email} is ready (user id {user_id}).")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from marketplace.settings import get_settings

    _setup_logging()
    interval = args.interval or get_settings().worker_interval_seconds
    asyncio.run(_with_db(lambda: _work_until_signalled(interval)))
    return 0


async def _work_until_signalled(interval: float) -> None:
    """The worker until Ctrl-C or SIGTERM: the round under way finishes (claimed work is done, not dropped),
    then the worker stops and the database connections close."""
    import logging
    import signal

    from marketplace.worker import run_forever

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_after_this_round(name: str) -> None:
        if not stop.is_set():
            logging.getLogger("marketplace.worker").info("%s received: stopping after the current round", name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_after_this_round, sig.name)
    try:
        await run_forever(interval, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from marketplace.transparency.audit import verify

    kept: list = []
    for path in args.checkpoints or []:
        try:
            loaded = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            print(f"--checkpoints {path}: cannot be read as JSON ({exc})", file=sys.stderr)
            return 2
        kept.extend(loaded.get("items", []) if isinstance(loaded, dict) else loaded)
    result = asyncio.run(_with_db(lambda: verify(checkpoints=kept)))
    if result.ok:
        print(f"Audit trail intact: {result.checked} events, hash chain and MACs verified against {result.checkpoints} checkpoints.")
        return 0
    where = f" (id {result.broken_id})" if result.broken_id else ""
    print(f"Audit trail broken at event #{result.broken_seq}{where}: {result.reason}. "
          f"{result.checked} events before it are intact.", file=sys.stderr)
    return 1


def cmd_search_rebuild(args: argparse.Namespace) -> int:
    from marketplace.challenges.search_index import rebuild_search_index, vacuum_and_rebuild

    indexed = asyncio.run(_with_db(vacuum_and_rebuild if args.vacuum else rebuild_search_index))
    print("PostgreSQL keeps its search vectors in the rows: only the vocabulary was relearned." if indexed is None
          else f"Search index rebuilt: {indexed} challenges.")
    return 0


def cmd_procedures_check(args: argparse.Namespace) -> int:
    """Validate procedure template files: every error names the file, the stage and the field; exit 1 if any."""
    from pathlib import Path

    from marketplace.procedures.engine import TemplateError, parse_template

    status = 0
    for name in args.files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{name}: cannot be read ({exc})", file=sys.stderr)
            status = 1
            continue
        try:
            template = parse_template(text, name)
        except TemplateError as exc:
            for error in exc.errors:
                print(error, file=sys.stderr)
            print(f"{name}: {len(exc.errors)} error(s)", file=sys.stderr)
            status = 1
            continue
        stages = " -> ".join(f"{s.key} ({s.decision}{', paid' if s.paid else ''})" for s in template.stages)
        print(f"{name}: template `{template.id}` version {template.version} is valid: {stages}")
    return status


def cmd_files_import(_: argparse.Namespace) -> int:
    from marketplace import files
    from marketplace.core import db
    from marketplace.settings import get_settings

    folder = get_settings().upload_dir

    async def run():  # type: ignore[no-untyped-def]
        await db.migrate()
        return await files.import_local_folder(folder)

    count, size = asyncio.run(_with_db(run))
    print(f"{count} file{'s' if count != 1 else ''} ({size / 1e6:.1f} MB) from {folder} in the database; "
          f"set MARKETPLACE_FILE_STORAGE=database and restart the instances (the folder was left as it was).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="marketplace", description="The innovation procurement marketplace.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = sub.add_parser("serve", help="apply pending migrations, then serve the marketplace")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--server", choices=("granian", "uvicorn"), default="granian",
                       help="the ASGI server (granian: chosen by measurement, see benchmarks/README.md)")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(func=cmd_migrate)
    saved = sub.add_parser("backup", help="write the database and the stored files to one archive (see deploy/README.md)")
    saved.add_argument("--output", metavar="FILE", help="the archive to write (default: backups/marketplace-<time>.tar "
                                                       "in MARKETPLACE_DATA_DIR)")
    saved.set_defaults(func=cmd_backup)
    restored = sub.add_parser("restore", help="restore an archive of `marketplace backup` into an empty database and upload folder")
    restored.add_argument("archive", metavar="FILE")
    restored.set_defaults(func=cmd_restore)
    sub.add_parser("demo", help="load the demo data and print the logins").set_defaults(func=cmd_demo)
    admin = sub.add_parser("create-admin", help="create a platform admin (password from standard input)")
    admin.add_argument("email")
    admin.add_argument("--promote", action="store_true",
                       help="make an existing account a platform admin (its password is not changed, none is read)")
    admin.add_argument("--name", default="Platform admin")
    admin.set_defaults(func=cmd_create_admin)
    worker = sub.add_parser("worker", help="run the background worker on its own")
    worker.add_argument("--interval", type=float, default=None)
    worker.set_defaults(func=cmd_worker)
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", metavar="verify", required=True)
    verify = audit.add_parser("verify", help="check the audit trail's hash chain, MACs and checkpoints; exits 1 naming the first bad event")
    verify.add_argument("--checkpoints", action="append", metavar="FILE",
                        help="checkpoints you kept (JSON from GET /api/v1/audit/checkpoints); may be repeated")
    verify.set_defaults(func=cmd_audit_verify)
    procedures = sub.add_parser("procedures", help="procedure templates").add_subparsers(dest="procedures_command", required=True)
    check = procedures.add_parser("check", help="validate procedure template files; errors name the file, stage and field")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_procedures_check)
    search = sub.add_parser("search", help="the catalogue's search index").add_subparsers(dest="search_command", metavar="rebuild", required=True)
    rebuild = search.add_parser("rebuild", help="rebuild the SQLite full-text index (needed after VACUUM)")
    rebuild.add_argument("--vacuum", action="store_true", help="VACUUM the SQLite database first")
    rebuild.set_defaults(func=cmd_search_rebuild)
    stored = sub.add_parser("files", help="the file storage").add_subparsers(dest="files_command", metavar="import", required=True)
    stored.add_parser("import", help="copy the upload folder (MARKETPLACE_UPLOAD_DIR) into the database file storage"
                      ).set_defaults(func=cmd_files_import)
    return parser


def _quiet_sqlite_threads_after_the_loop() -> None:
    """aiosqlite's connection threads may report back once the command's event loop has closed (a failed
    open, a stop): nothing is left to tell then, so that "Event loop is closed" is not printed as a traceback."""
    import threading

    default = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, RuntimeError) and str(args.exc_value) == "Event loop is closed":
            return
        default(args)

    threading.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import warnings

    from marketplace.core import db

    # Piccolo warns on its own before the error below says the same in one line.
    warnings.filterwarnings("ignore", message=r".*Unable to (connect to database|fetch server version)")
    _quiet_sqlite_threads_after_the_loop()

    try:
        return args.func(args)
    except Exception as exc:
        problem = db.connection_problem(exc)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
