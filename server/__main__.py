"""The `frontdesk` command: serve, worker, migrate, create-admin, seed-demo, seed-scale,
prune-audit, mail (list, retry), oidc-rotate-key, export-schema, export-documents."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from server import db
from server.settings import get_settings
from server.trusted_documents import MANIFEST

logger = logging.getLogger("frontdesk")


def _with_database(work: Callable[[], Awaitable[None]]) -> None:
    async def run() -> None:
        await db.init_db(get_settings().database_url)
        try:
            await work()
        finally:
            await db.close_db()

    asyncio.run(run())


def generated_password() -> str:
    # 4 groups of 5 from an unambiguous alphabet: ~100 bits, easy to type.
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from server.ops.logs import logging_config
    from server.ops.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    if settings.log_format == "text":
        print(f"Frontdesk on http://{host}:{port}/  (public URL {settings.public_url})")
        print(
            f"  GraphQL API   http://{host}:{port}/graphql"
            + ("  (GraphiQL in a browser)" if settings.graphiql else "")
        )
        print(f"  Admin app     http://{host}:{port}/admin/")
        print(f"  Health        http://{host}:{port}/healthz, /readyz")
        if settings.metrics_enabled:
            print(f"  Metrics       http://{host}:{port}/metrics")
    else:
        logger.info(
            "Frontdesk serving",
            extra={
                "listen": f"{host}:{port}",
                "workers": args.workers,
                "public_url": settings.public_url,
            },
        )
    # Several processes: metrics go through a shared directory so that a scrape
    # of any process answers for all of them (prometheus-client multiprocess mode).
    own_metrics_dir = None
    if settings.metrics_enabled and args.workers > 1:
        if not os.environ.get(MULTIPROC_ENV):
            own_metrics_dir = tempfile.mkdtemp(prefix="frontdesk-metrics-")
            os.environ[MULTIPROC_ENV] = own_metrics_dir
        prepare_multiprocess_dir(os.environ[MULTIPROC_ENV])
    try:
        uvicorn.run(
            "server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            proxy_headers=False,
            server_header=False,
            log_config=logging_config(settings.log_format, settings.log_level),
            log_level=settings.log_level.lower(),
            # Our access log (logger frontdesk.access) carries the request id.
            access_log=False,
            # On SIGTERM: stop accepting, let requests in flight finish (at most
            # this long), then the lifespan stops the in-process mail worker.
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        )
    finally:
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)


def cmd_worker(args: argparse.Namespace) -> None:
    from server.mail.worker import MailWorker
    from server.webhooks.worker import WebhookWorker

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        worker = MailWorker(get_settings())
        logger.info(
            "Mail worker running; Ctrl+C to stop.",
            extra={"lease_seconds": worker.lease.total_seconds()},
        )
        # On SIGTERM the mail being sent is finished and the rest of the batch handed
        # back; the webhook worker runs beside it.
        await asyncio.gather(
            worker.run_forever(stop), WebhookWorker(get_settings()).run_forever(stop)
        )
        logger.info("Workers stopped.")

    _with_database(work)


def cmd_migrate(args: argparse.Namespace) -> None:
    async def run() -> None:
        try:
            await db.migrate(get_settings().database_url)
        finally:
            await db.close_db()

    try:
        asyncio.run(run())
    except db.MigrationRefused as refused:
        sys.exit(f"frontdesk migrate: {refused}")
    print("Database migrated.")


def cmd_oidc_rotate_key(args: argparse.Namespace) -> None:
    from server.oidc import keys

    async def work() -> None:
        key = await keys.rotate()
        print(
            f"New OpenID Connect signing key {key.kid}; the previous one stays published "
            f"for {int(keys.ID_TOKEN_LIFETIME.total_seconds() // 60)} minutes."
        )

    _with_database(work)


def cmd_create_admin(args: argparse.Namespace) -> None:
    from server.seed import create_admin

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else generated_password()

    async def work() -> None:
        email = await create_admin(
            email=args.email, password=password, organisation_name=args.organisation
        )
        print(f"Owner {email} of the provider organisation created.")
        if not args.password_stdin:
            print(f"Password: {password}")

    _with_database(work)


def cmd_seed_demo(args: argparse.Namespace) -> None:
    from server.seed import DEMO_OWNER, seed_demo

    password = generated_password()

    async def work() -> None:
        created = await seed_demo(password)
        settings = get_settings()
        print(
            "Demo data " + ("created." if created else "already present; demo passwords renewed.")
        )
        print(f"  Sign in at {settings.public_url}/admin/ or {settings.public_url}/graphql")
        print(f"  Demo owner: {DEMO_OWNER}")
        print(f"  Password:   {password}   (every demo user has this password)")

    _with_database(work)


def cmd_seed_scale(args: argparse.Namespace) -> None:
    from server.seed_scale import seed_scale

    password = generated_password()

    async def work() -> None:
        summary = await seed_scale(
            password, organisations=args.organisations, users=args.users, resellers=args.resellers
        )
        print(
            f"Scale data created in {summary.seconds:.1f} s: {summary.organisations} "
            f"organisations, {summary.users} users."
        )
        print(f"  Provider owner: {summary.provider_owner}")
        print(f"  {summary.reseller} owner: {summary.reseller_owner}")
        print(f"  Password:   {password}   (every active user has this password)")

    _with_database(work)


def cmd_prune_audit(args: argparse.Namespace) -> None:
    from server.audit.service import prune

    days = args.days if args.days is not None else get_settings().audit_retention_days

    async def work() -> None:
        removed = await prune(days)
        print(f"Removed {removed} audit events older than {days} days.")

    _with_database(work)


def cmd_mail_list(args: argparse.Namespace) -> None:
    from server.dead_mail.service import mails
    from server.mail.models import MailStatus
    from server.ops.logs import escape

    statuses = [MailStatus.DEAD] if args.dead else [MailStatus.PENDING, MailStatus.SENDING]

    async def work() -> None:
        found = await mails(statuses[0]).filter(status__in=statuses).order_by("id")
        for mail in found:
            # Values from recipients and SMTP servers: escaped for the terminal.
            print(
                f"{mail.id}\t{mail.status.value}\t{mail.kind}\t{escape(mail.recipient)}\t"
                f"attempts={mail.attempts}\tcreated={mail.created_at:%Y-%m-%d %H:%M}\t"
                f"{escape(mail.last_error[:200])}"
            )
        what = "dead" if args.dead else "waiting"
        print(f"{len(found)} {what} mail{'' if len(found) == 1 else 's'}.")

    _with_database(work)


def cmd_mail_retry(args: argparse.Namespace) -> None:
    from server.core.errors import DomainError
    from server.dead_mail.service import retry

    if (args.id is None) == (not args.all_dead):
        sys.exit("Give a mail id (see `frontdesk mail list --dead`) or --all-dead.")

    async def work() -> None:
        ids = None if args.all_dead else [args.id]
        try:
            retried = await retry(actor=None, mail_ids=ids, actor_label="frontdesk mail retry")
        except DomainError as error:
            sys.exit(f"Nothing retried: {error.message}")
        print(
            f"{len(retried.mails)} mail{'' if len(retried.mails) == 1 else 's'} back in the outbox."
        )
        for mail in retried.skipped:
            print(
                f"Not retried: {mail.id} ({mail.kind} to {mail.recipient}): its link was cleared."
            )

    _with_database(work)


def cmd_export_schema(args: argparse.Namespace) -> None:
    from server.schema import printed_schema

    Path(args.output).write_text(printed_schema())
    print(f"Wrote {args.output}")


def cmd_export_documents(args: argparse.Namespace) -> None:
    from server.admin_documents import DocumentError, collect, manifest_text

    try:
        documents = collect()
    except DocumentError as error:
        sys.exit(f"frontdesk export-documents: {error}")
    Path(args.output).write_text(manifest_text(documents), encoding="utf-8")
    print(f"Wrote {args.output} ({len(documents)} trusted documents)")


def main(argv: list[str] | None = None) -> None:
    from server.ops.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    parser = argparse.ArgumentParser(prog="frontdesk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API, GraphiQL and the admin app")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.set_defaults(run=cmd_serve)

    commands.add_parser("worker", help="send queued mail").set_defaults(run=cmd_worker)
    commands.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        run=cmd_migrate
    )

    commands.add_parser(
        "oidc-rotate-key", help="sign ID tokens with a new key (the old one stays published)"
    ).set_defaults(run=cmd_oidc_rotate_key)
    admin = commands.add_parser("create-admin", help="create the provider and its first owner")
    admin.add_argument("--email", required=True)
    admin.add_argument("--organisation", default="Provider", help="provider name if none exists")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(run=cmd_create_admin)

    commands.add_parser("seed-demo", help="load demo organisations and users").set_defaults(
        run=cmd_seed_demo
    )

    scale = commands.add_parser(
        "seed-scale", help="load a large tree (benchmarks): 10,000 organisations, 100,000 users"
    )
    scale.add_argument("--organisations", type=int, default=10_000)
    scale.add_argument("--users", type=int, default=100_000)
    scale.add_argument("--resellers", type=int, default=9)
    scale.set_defaults(run=cmd_seed_scale)

    prune = commands.add_parser("prune-audit", help="delete audit events past retention")
    prune.add_argument("--days", type=int, help="default: FRONTDESK_AUDIT_RETENTION_DAYS")
    prune.set_defaults(run=cmd_prune_audit)

    mail = commands.add_parser("mail", help="list and retry mails in the outbox")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    mail_list = mail_commands.add_parser("list", help="mails not yet sent (--dead: given up)")
    mail_list.add_argument("--dead", action="store_true", help="the mails the worker gave up on")
    mail_list.set_defaults(run=cmd_mail_list)
    mail_retry = mail_commands.add_parser("retry", help="put dead mails back in the outbox")
    mail_retry.add_argument("id", type=int, nargs="?", help="a dead mail's id")
    mail_retry.add_argument("--all-dead", action="store_true", help="every dead mail")
    mail_retry.set_defaults(run=cmd_mail_retry)

    export = commands.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("--output", default="schema.graphql")
    export.set_defaults(run=cmd_export_schema)

    documents = commands.add_parser(
        "export-documents",
        help="collect the admin app's GraphQL documents into the trusted-documents manifest",
    )
    documents.add_argument("--output", default=str(MANIFEST))
    documents.set_defaults(run=cmd_export_documents)

    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        args.run(args)


if __name__ == "__main__":
    main()
