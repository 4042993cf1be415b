"""Fixtures of the reservation service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.release import runtime


@pytest.fixture
def default_runtime() -> Iterator[None]:
    """The default limits and no Redis mirror, whatever app an earlier test started."""
    before = runtime.current()
    runtime.install(runtime.ReleaseRuntime())
    yield
    runtime.install(before)
