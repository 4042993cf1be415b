"""`etour reindex` and `etour eval-recommend` as a user runs them."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import BACKEND, TEST_DATABASE_URL, TEST_REDIS_URL, TEST_SECRET

from recommendations.conftest import load_demo
from server.cli import main
from server.venues.models import Venue


def _env(tmp_path) -> dict[str, str]:
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith("ETOUR_")}
    env.update(ETOUR_DATA_DIR=str(tmp_path), ETOUR_SECRET_KEY=TEST_SECRET, HF_HUB_OFFLINE="1")
    env.pop("REDIS_URL", None)
    if BACKEND == "services":
        env.update(DATABASE_URL=TEST_DATABASE_URL, REDIS_URL=TEST_REDIS_URL)
    else:
        env["DATABASE_URL"] = f"sqlite://{tmp_path / 'etour.sqlite3'}"
    return env


def _reindex(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "reindex"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_etour_reindex_encodes_what_changed_with_a_progress_bar(database, encoder, tmp_path):
    await load_demo(encoder)
    await Venue.filter(code="wenzhou-museum").update(
        tags={"zh-CN": ["博物馆", "瓯窑"], "en": ["museum", "Ou kiln"]}
    )
    env = _env(tmp_path)
    first = _reindex(env)
    assert first.returncode == 0, first.stderr
    assert re.search(r"\b1 encoded\b", first.stdout), first.stdout
    assert "encoding items" in first.stderr and "1/1" in first.stderr  # tqdm's bar
    again = _reindex(env)
    assert again.returncode == 0 and re.search(r"\b0 encoded\b", again.stdout), again.stdout
    assert "Traceback" not in first.stderr + again.stderr


def test_etour_eval_recommend_prints_the_recommender_beside_popularity(model_load, capsys):
    assert main(["eval-recommend", "--visitors", "150", "--items", "150", "--seed", "11"]) == 0
    printed = capsys.readouterr().out
    figures = {
        name: (float(hit), float(ndcg))
        for name, hit, ndcg in re.findall(r"^(.+?)\s+([01]\.\d{3})\s+([01]\.\d{3})$", printed, re.M)
    }
    ours, baseline = figures["recommender (re-ranked, MMR)"], figures["popularity baseline"]
    assert ours[0] > baseline[0] and ours[1] > baseline[1], printed


@pytest.mark.parametrize(
    "args", [["reindex", "--batch-size", "0"], ["eval-recommend", "--visitors", "x"]]
)
def test_the_new_commands_refuse_bad_options(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
