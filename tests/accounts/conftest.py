"""Accounts tests run against the WeChat stand-in: the app's WECHAT_API_BASE points at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import prepare_database
from stubs.wechat_api import WeChatAPIStub, wechat_stub  # noqa: F401 (registers the fixture)

from server.config import Settings


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Extra settings for the app under test; tests override this fixture to misconfigure it."""
    return {}


@pytest.fixture
def settings(
    wechat_stub: WeChatAPIStub,  # noqa: F811
    tmp_path: Path,
    migrated_template: Path,
    settings_overrides: dict[str, object],
) -> Settings:
    """A fresh database, and the app talking to the WeChat stand-in instead of WeChat."""
    overrides = {"wechat_api_base": wechat_stub.url, **settings_overrides}
    return prepare_database(tmp_path, migrated_template, **overrides)
