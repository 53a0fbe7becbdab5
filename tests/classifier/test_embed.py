"""classifier/embed.py: the real MiniLM embedder, the paper text, the hashing stand-in, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifier.embed import MODEL_NAME, Embedder, HashingEmbedder, SentenceTransformerEmbedder, paper_text

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_paper_text_joins_title_and_abstract_or_uses_title_alone() -> None:
    assert paper_text("Fast  Sampling", "We  propose\na solver.") == "Fast Sampling. We propose a solver."
    assert paper_text("Fast Sampling", None) == "Fast Sampling"
    assert paper_text("Fast Sampling", "   ") == "Fast Sampling"


def test_real_embedder_returns_unit_float32_rows(embedder: SentenceTransformerEmbedder) -> None:
    texts = ["Progressive distillation for fast sampling of diffusion models", "Sourdough bread at home"]
    vectors = embedder.embed(texts)
    assert isinstance(embedder, Embedder)
    assert embedder.name == MODEL_NAME
    assert vectors.shape == (2, embedder.dim) == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_real_embedder_is_deterministic_across_batches(embedder: SentenceTransformerEmbedder) -> None:
    texts = [f"Quantizing diffusion transformers to {bits} bits" for bits in range(2, 9)]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts[:3]])
    np.testing.assert_allclose(together[:3], alone, atol=1e-5)


def test_real_embedder_puts_related_papers_closer(embedder: SentenceTransformerEmbedder) -> None:
    query, near, far = embedder.embed([
        "knowledge distillation of diffusion models",
        "Progressive distillation for fast sampling of diffusion models",
        "A study of stock market volatility",
    ])
    assert float(query @ near) > float(query @ far) + 0.3


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashingEmbedder(dim=32)
    first = embedder.embed(["token merging for stable diffusion", ""])
    second = HashingEmbedder(dim=32).embed(["token merging for stable diffusion", ""])
    assert isinstance(embedder, Embedder)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (2, 32) and first.dtype == np.float32
    assert np.linalg.norm(first[0]) == pytest.approx(1.0, abs=1e-6)
    assert not first[1].any()  # no tokens, no direction


def test_importing_the_classifier_does_not_import_sentence_transformers() -> None:
    code = ("import sys, classifier.embed, classifier.model, classifier.filemode, classifier.evaluate, "
            "classifier.baselines; print('sentence_transformers' in sys.modules, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.split() == ["False", "False"]
