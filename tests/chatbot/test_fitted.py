"""The classifier's fit is kept on disk: a restarted process loads it instead of fitting again,
and /healthz says when a process is still warming its chatbot up."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bots import intents
from bots.intents import IntentClassifier

MESSAGES = ["明天去江心屿", "cancel my booking", "排队的人多吗", "人工客服", "温州鱼丸哪家好吃"]


@pytest.fixture
def examples(classifier: IntentClassifier) -> list[intents.Example]:
    """Every sixth training example: enough to fit in well under a second."""
    return classifier.examples[::6]


def _forbid_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    def fit_softmax(*_, **__):
        raise AssertionError("fitted again although a kept fit was there")

    monkeypatch.setattr(intents, "fit_softmax", fit_softmax)


def test_a_fit_is_kept_and_the_next_process_loads_it(
    classifier, examples, tmp_path, monkeypatch
) -> None:
    first = IntentClassifier(classifier.embedder, examples, fitted_dir=tmp_path / "cache")
    first.prepare()
    kept = sorted(path.name for path in (tmp_path / "cache").iterdir())
    assert len(kept) == 1 and kept[0].startswith("intents-") and kept[0].endswith(".npz")

    _forbid_fitting(monkeypatch)
    restarted = IntentClassifier(classifier.embedder, examples, fitted_dir=tmp_path / "cache")
    restarted.prepare()
    assert restarted.is_ready
    assert [restarted.classify(m) for m in MESSAGES] == [first.classify(m) for m in MESSAGES]


def test_other_examples_are_fitted_anew(classifier, examples, tmp_path) -> None:
    IntentClassifier(classifier.embedder, examples, fitted_dir=tmp_path).prepare()
    changed = [*examples[:-1], intents.Example(text="门票几钱", intent="ticket_price")]
    IntentClassifier(classifier.embedder, changed, fitted_dir=tmp_path).prepare()
    assert len(list(tmp_path.glob("intents-*.npz"))) == 2


def test_a_place_that_cannot_keep_the_fit_costs_only_the_next_fit(
    classifier, examples, tmp_path, caplog
) -> None:
    not_a_directory = tmp_path / "cache"
    not_a_directory.write_text("a file where the directory should be")
    unkept = IntentClassifier(classifier.embedder, examples, fitted_dir=not_a_directory)
    with caplog.at_level(logging.WARNING, logger="etour.chat"):
        unkept.prepare()
    assert unkept.classify("人工客服").intent == "human"
    assert "not kept" in caplog.text
    assert list(tmp_path.iterdir()) == [not_a_directory]


async def test_healthz_says_when_the_chatbot_is_warming_up(server, client) -> None:
    # Under test no warm-up starts by itself: start one that waits for a signal.
    fitted = asyncio.Event()
    server.app.ctx.chat_warming = asyncio.create_task(fitted.wait())
    warming = await client.get("/healthz")
    assert warming.status_code == 200 and warming.json()["chat"] == "warming"
    fitted.set()
    await server.app.ctx.chat_warming
    ready = await client.get("/healthz")
    assert ready.status_code == 200 and ready.json()["chat"] == "ready"
