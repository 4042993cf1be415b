"""The database: tortoise configuration, start and stop, schema migrations, a reachability check."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api import migrate
from tortoise.models import Model

from server.config import TIMEZONE, Settings

APP_LABEL = "etour"
MODEL_MODULES = [
    "server.accounts.models",
    "server.venues.models",
    "server.reservations.models",
    "server.release.models",
    "server.tickets.models",
    "server.food.models",
    "server.tours.models",
    "recommend.models",
    "server.card.models",
    "server.supervision.models",
    "server.admin.models",
    "bots.models",
]
# Several processes share one SQLite file: a writer waits for the lock instead of failing at once.
SQLITE_BUSY_TIMEOUT_MS = 15_000


async def keep_session_state(connection: object) -> None:
    """asyncpg's pool reset, made free: nothing here changes session state between queries.

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release, and tortoise acquires a connection per query outside a
    transaction: a whole extra round trip per query. The service uses no session advisory
    locks (sql.run_each's lock is its transaction's, gone at its end), cursors, LISTEN or SET.
    An unfinished transaction is still rolled back: asyncpg does that itself before calling a
    custom reset.
    """


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The tortoise configuration for the settings' database, SQLite or PostgreSQL."""
    url = settings.effective_database_url.replace("postgresql://", "postgres://", 1)
    connection = expand_db_url(url)
    credentials = connection["credentials"]
    if connection["engine"].endswith("sqlite"):
        Path(credentials["file_path"]).expanduser().parent.mkdir(parents=True, exist_ok=True)
        credentials.setdefault("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)
        credentials.setdefault("synchronous", "NORMAL")
    else:
        credentials.setdefault("minsize", 1)
        credentials.setdefault("maxsize", 10)
        credentials.setdefault("reset", keep_session_state)
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "migrations": "server.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": TIMEZONE,
    }


async def open_database(settings: Settings) -> None:
    """Connect the ORM to the configured database."""
    # tortoise keeps each model's INSERT text by connection name ("default"), whatever the
    # database: a process that opened SQLite before (the embedded test run, then the fault
    # tests' PostgreSQL) would send SQLite's `?` placeholders to PostgreSQL.
    EXECUTOR_CACHE.clear()
    # Requests run in other tasks than the start-up listener: they find the ORM via the global.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    # Connect now: tortoise's SQLite client keeps its lock forever if a request that opens the
    # connection lazily is cancelled half-way (an impatient client), hanging the process.
    await connections.get("default").execute_query("SELECT 1")


async def close_database() -> None:
    """Close every database connection of this process."""
    await Tortoise.close_connections()


async def migrate_database(
    settings: Settings, progress: Callable[[str, str, str], object] | None = None
) -> None:
    """Create or bring the schema up to date by applying the migrations in server/migrations."""
    await migrate(config=tortoise_config(settings), progress=progress)


def is_sqlite() -> bool:
    """True when the default connection is SQLite (which has no row locks)."""
    return connections.get("default").capabilities.dialect == "sqlite"


async def database_is_reachable() -> bool:
    """A cheap round trip to the database, for /healthz."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


async def replace_rows(
    model: type[Model], *, owner: dict[str, Any], fields: tuple[str, ...], wanted: set[tuple]
) -> bool:
    """Make `model`'s rows of `owner` exactly `wanted` (tuples of `fields`); True if they changed.

    Rows are rewritten only when they differ, so loading the same data twice changes nothing.
    """
    current = set(await model.filter(**owner).values_list(*fields))
    if current == wanted:
        return False
    await model.filter(**owner).delete()
    await model.bulk_create(
        [model(**owner, **dict(zip(fields, row, strict=True))) for row in wanted]
    )
    return True


def _migration_tooling_config() -> dict[str, Any]:
    """The configuration tortoise's CLI uses to write new migrations (scripts/makemigrations)."""
    from server.config import load_settings

    return tortoise_config(load_settings())


async def truncate_all_tables() -> None:
    """Empty every table of the models, keeping the schema (PostgreSQL test runs)."""
    connection = connections.get("default")
    models = Tortoise.apps.get_models_iterable()
    tables = ", ".join(f'"{model._meta.db_table}"' for model in models)
    await connection.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


async def drop_all_tables() -> None:
    """Drop the whole public schema (a fresh PostgreSQL test database before migrating)."""
    await connections.get("default").execute_script(
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
    )


T = TypeVar("T")
# PostgreSQL's "deadlock detected" and "could not serialize access": it aborted the transaction
# to let another finish, and running it again is safe.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable_conflict(problem: BaseException) -> bool:
    """True when the database aborted a transaction to resolve a conflict with another."""
    seen: set[int] = set()
    cause: BaseException | None = problem
    while cause is not None and id(cause) not in seen:  # tortoise wraps the driver's error
        seen.add(id(cause))
        if getattr(cause, "sqlstate", None) in _RETRYABLE_SQLSTATES:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


async def retry_conflicts(work: Callable[[], Awaitable[T]], *, attempts: int = 4) -> T:
    """Run the transaction `work`; again (up to `attempts` times) when the database aborted it
    to resolve a deadlock with another transaction."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as problem:
            if attempt == attempts or not is_retryable_conflict(problem):
                raise
        # A random pause, so the transactions that met do not meet again the same way.
        await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311
    raise AssertionError("unreachable")
