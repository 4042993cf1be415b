"""Chatbot tests: the default embedding model loaded once per session, the WeChat stand-in as
WeChat's API, and the official account configured in safe mode unless a test says otherwise.

(The directory is tests/chatbot, not tests/bots: a `bots` test package would shadow the real one.)
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import prepare_database
from stubs.wechat_api import OA_APPID, OA_SECRET, WeChatAPIStub, wechat_stub  # noqa: F401

from bots.intents import IntentClassifier, classifier_for
from recommend.embedder import DEFAULT_MODEL, embedder_for
from server.config import Settings

OA_TOKEN = "wx-test-oa-token"
# 43 characters of base64, as the official account's console generates.
OA_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(scope="session")
def classifier() -> Iterator[IntentClassifier]:
    """The process's intent classifier, its model loaded and examples encoded (once)."""
    ready = classifier_for(embedder_for(DEFAULT_MODEL))
    ready.prepare()
    yield ready


@pytest.fixture
def oa_settings() -> dict[str, object]:
    """The official account's settings; tests override this fixture for plain mode."""
    return {
        "wechat_oa_appid": OA_APPID,
        "wechat_oa_secret": OA_SECRET,
        "wechat_oa_token": OA_TOKEN,
        "wechat_oa_aes_key": OA_AES_KEY,
    }


@pytest.fixture
def settings(
    wechat_stub: WeChatAPIStub,  # noqa: F811
    tmp_path: Path,
    migrated_template: Path,
    oa_settings: dict[str, object],
    classifier: IntentClassifier,
) -> Settings:
    """A fresh database, the WeChat stand-in as WeChat's API, the classifier ready."""
    return prepare_database(
        tmp_path, migrated_template, wechat_api_base=wechat_stub.url, **oa_settings
    )
