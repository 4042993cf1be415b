"""The `etour` console script: init-db, seed-demo, create-user, serve."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from functools import partial

from tqdm import tqdm

from server import db
from server.accounts.models import Role
from server.config import ConfigError, Settings, get_settings
from server.errors import AppError

log = logging.getLogger("etour.cli")


async def _with_database(settings: Settings, work: Callable[[], Awaitable[None]]) -> None:
    await db.open_database(settings)
    try:
        await work()
    finally:
        await db.close_database()


def init_db(settings: Settings, _: argparse.Namespace) -> None:
    """Create or migrate the schema in DATABASE_URL."""
    bar = tqdm(desc="migrations", unit="step", leave=True)

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            bar.update(1)
            bar.set_postfix_str(name)

    async def work() -> None:
        await db.migrate_database(settings, progress=progress)
        await db.close_database()

    asyncio.run(work())
    bar.close()
    print(f"database ready: {_safe_url(settings.effective_database_url)}")


def seed_demo(settings: Settings, _: argparse.Namespace) -> None:
    """Load the Wenzhou demo catalogue and the coming days' slots."""
    from server.clock import local_now
    from server.venues.demo import load_demo_catalogue
    from server.venues.demo_data import DEMO_VENUES

    async def work() -> None:
        with tqdm(total=len(DEMO_VENUES), desc="demo venues", unit="venue") as bar:
            counts = await load_demo_catalogue(
                today=local_now().date(),
                days=settings.slot_days_ahead,
                progress=lambda code: (bar.set_postfix_str(code), bar.update(1)),
            )
        print(
            f"demo data: {counts['venues_changed']} venues added or changed, "
            f"{counts['slots_created']} new time slots"
        )

    asyncio.run(_with_database(settings, work))


def create_user(settings: Settings, args: argparse.Namespace) -> None:
    """Create a staff account."""
    from server.accounts import service as accounts

    async def work() -> None:
        staff = await accounts.create_staff_user(
            username=args.username, password=args.password, role=args.role, venue_code=args.venue
        )
        print(f"created {staff.role.value} {staff.username}")

    asyncio.run(_with_database(settings, work))


def serve(settings: Settings, args: argparse.Namespace) -> None:
    """Run the HTTP service."""
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from server.app import create_app

    if args.workers > 1 and settings.uses_embedded_redis:
        # The embedded Redis lives inside one process: workers would not see each other's state.
        raise ConfigError(
            "set REDIS_URL for more than one worker (the embedded Redis is per process)"
        )
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(
        host=args.host,
        port=args.port,
        workers=args.workers,
        single_process=args.workers == 1,
        access_log=False,
        motd=False,
    )
    Sanic.serve(primary=app, app_loader=loader)


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        rest = f"{credentials.split(':')[0]}:***@{host}"
    return f"{scheme}{sep}{rest}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="etour", description="E-Tour Wenzhou service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help=init_db.__doc__).set_defaults(run=init_db)
    commands.add_parser("seed-demo", help=seed_demo.__doc__).set_defaults(run=seed_demo)
    user = commands.add_parser("create-user", help=create_user.__doc__)
    user.add_argument("--username", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--role", required=True, choices=[role.value for role in Role])
    user.add_argument("--venue", help="venue code, for venue_manager and venue_staff")
    user.set_defaults(run=create_user)
    server = commands.add_parser("serve", help=serve.__doc__)
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=8000)
    server.add_argument("--workers", type=int, default=1)
    server.set_defaults(run=serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `etour` script; configuration problems exit with a clear message."""
    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
        from server.observability import configure_logging

        configure_logging(settings.log_level)
        args.run(settings, args)
    except ConfigError as problem:
        print(f"etour: {problem}", file=sys.stderr)
        return 2
    except AppError as refusal:
        from i18n import gettext

        print(f"etour: {gettext(f'error.{refusal.code}', 'en', **refusal.params)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
