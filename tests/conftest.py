"""Test set-up: every test gets a migrated database and a real HTTP server on loopback.

Two backends, chosen with ETOUR_TEST_BACKEND:
- `embedded` (default): a SQLite file per test (copied from one migrated template) and the
  in-process Redis;
- `services`: the PostgreSQL at ETOUR_TEST_DATABASE_URL and the Redis at ETOUR_TEST_REDIS_URL
  (this machine's 127.0.0.1:5432/test and 127.0.0.1:6379/15 by default), emptied between tests.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sanic import Sanic

from server import db
from server.app import create_app
from server.config import Settings, load_settings

BACKEND = os.environ.get("ETOUR_TEST_BACKEND", "embedded")
TEST_DATABASE_URL = os.environ.get(
    "ETOUR_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"
)
TEST_REDIS_URL = os.environ.get("ETOUR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"
_app_names = itertools.count()

if BACKEND not in ("embedded", "services"):
    raise pytest.UsageError("ETOUR_TEST_BACKEND must be 'embedded' or 'services'")

Sanic.test_mode = True  # lets each test build its own app under a fresh name


def pytest_report_header() -> str:
    return f"etour backend: {BACKEND}"


# The long proofs (the 2,000-request storm, the fault runs, the schemathesis fuzzing) take
# minutes: `make test` and CI run them (scripts/test.sh sets ETOUR_LONG_TESTS=1); a bare `pytest`
# skips them unless asked with ETOUR_LONG_TESTS=1 or `-m storm` / `-m faults` / `-m fuzz`.
LONG_MARKERS = ("storm", "faults", "fuzz")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = os.environ.get("ETOUR_LONG_TESTS") == "1" or any(
        marker in (config.getoption("markexpr") or "") for marker in LONG_MARKERS
    )
    if wanted:
        return
    skip = pytest.mark.skip(reason="long test: set ETOUR_LONG_TESTS=1 (make test does)")
    for item in items:
        if any(item.get_closest_marker(marker) for marker in LONG_MARKERS):
            item.add_marker(skip)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for one test: its own data directory, the chosen backend, a fixed secret."""
    values: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "wechat_miniapp_appid": "wx-test-appid",
        "wechat_miniapp_secret": "wx-test-secret",
        "log_level": "WARNING",
    }
    if BACKEND == "services":
        values.update(database_url=TEST_DATABASE_URL, redis_url=TEST_REDIS_URL)
    else:
        values["database_url"] = f"sqlite://{data_dir / 'etour.sqlite3'}"
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per session: a SQLite template file, or the PostgreSQL test database."""
    template_dir = tmp_path_factory.mktemp("template")
    settings = make_settings(template_dir)

    async def migrate() -> None:
        if BACKEND == "services":
            await db.open_database(settings)
            await db.drop_all_tables()
            await db.close_database()
        await db.migrate_database(settings)
        await db.close_database()

    asyncio.run(migrate())
    return template_dir / "etour.sqlite3"


def prepare_database(data_dir: Path, migrated_template: Path, **overrides: object) -> Settings:
    """Settings for one test (see make_settings) on a fresh, migrated, empty database and Redis."""
    test_settings = make_settings(data_dir, **overrides)
    if BACKEND == "embedded":
        shutil.copy(migrated_template, data_dir / "etour.sqlite3")
    else:
        asyncio.run(_empty_services(test_settings))
    return test_settings


@pytest.fixture
def settings(tmp_path: Path, migrated_template: Path) -> Settings:
    """A fresh, migrated, empty database (and empty Redis) for this test."""
    return prepare_database(tmp_path, migrated_template)


async def _empty_services(settings: Settings) -> None:
    from server.cache import connect_redis

    await db.open_database(settings)
    await db.truncate_all_tables()
    await db.close_database()
    redis = connect_redis(settings)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """The ORM connected in the test's own event loop, for service-level tests."""
    await db.open_database(settings)
    yield settings
    await db.close_database()


class RunningServer:
    """A real Sanic server on a loopback port, with an HTTP client pointed at it."""

    def __init__(self, app: Sanic, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def url(self) -> str:
        return str(self.client.base_url)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    """The app started for real (listeners, database, Redis) on 127.0.0.1, port chosen by the OS."""
    app = create_app(settings, name=f"etour_test_{next(_app_names)}")
    # Sanic reads port 0 as "unset" (8000): bind the OS-chosen port ourselves.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    running = await app.create_server(sock=listener, return_asyncio_server=True, access_log=False)
    await running.startup()
    await running.before_start()
    await running.after_start()
    port = running.server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield RunningServer(app, client)
    await running.before_stop()
    await running.close()
    await running.after_stop()


@pytest.fixture
async def client(server: RunningServer) -> httpx.AsyncClient:
    """An HTTP client of the running test server (the ORM is connected in this loop too)."""
    return server.client
