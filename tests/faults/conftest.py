"""Fixtures of the fault tests: their own PostgreSQL and Redis, and the servers on top."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from concurrency.test_oversell import ETOUR
from conftest import BACKEND, make_settings
from proof.processes import storm_environment

from faults.services import POSTGRES_BIN, REDIS_SERVER, OwnPostgres, OwnRedis
from server import db
from server.config import Settings

_databases = itertools.count(1)

# They start their own services, so they do not depend on the backend under test: run them once
# per `make test`, in the services pass when there is one (test modules apply this mark).
once_per_run = pytest.mark.skipif(
    BACKEND == "embedded" and "services" in os.environ.get("ETOUR_TEST_BACKENDS", ""),
    reason="fault tests start their own services: they run once, in the services pass",
)


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[OwnPostgres]:
    """This session's own PostgreSQL cluster, started; removed at the end."""
    if POSTGRES_BIN is None or not shutil.which("runuser"):
        pytest.skip("PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin)")
    cluster = OwnPostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A Redis of this test's own, started; stopped at the end."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server not installed")
    redis = OwnRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def fault_settings(tmp_path: Path, own_postgres: OwnPostgres, own_redis: OwnRedis) -> Settings:
    """Settings on a new, migrated database of the own cluster and the own Redis."""
    url = own_postgres.create_database(f"etour_fault_{next(_databases)}")
    settings = make_settings(tmp_path, database_url=url, redis_url=own_redis.url())
    subprocess.run(
        [*ETOUR, "init-db"],
        env=storm_environment(settings),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return settings


@pytest.fixture
async def fault_database(fault_settings: Settings) -> AsyncIterator[Settings]:
    """The ORM of this test process connected to the fault database."""
    await db.open_database(fault_settings)
    yield fault_settings
    await db.close_database()
