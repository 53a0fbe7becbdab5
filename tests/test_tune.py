"""The tuned encoder: tuned once per corpus and recipe, kept atomically, deterministic, and its head.

These tune the real model on a small slice of the corpus for speed; the pipeline tests use a full-corpus
tuning (``tests.conftest.LIGHT_TUNE``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.corpus import rubric_label, training_corpus
from classifier.labels import LABEL_VALUES
from classifier.tune import HEAD_FILE, TunedEmbedder, TuneRecipe, load_head, tuned_key

TINY = TuneRecipe(max_seq_length=32, epochs=1, batch_size=8)


def tiny_corpus() -> tuple[list[str], list[str]]:
    """Six papers of each label from the shipped corpus."""
    texts: list[str] = []
    labels: list[str] = []
    for label in LABEL_VALUES:
        rows = [row for row in training_corpus() if rubric_label(row) == label][:6]
        texts += [row.text for row in rows]
        labels += [label] * len(rows)
    return texts, labels


def test_tuning_happens_once_and_is_reused(tmp_path: Path) -> None:
    texts, labels = tiny_corpus()
    embedder = TunedEmbedder(texts, labels, tmp_path, recipe=TINY)
    assert not embedder.ready
    embedder.ensure()
    assert embedder.ready and embedder.directory == tmp_path / embedder.key
    stamp = (embedder.directory / HEAD_FILE).stat().st_mtime_ns
    assert [p.name for p in tmp_path.iterdir()] == [embedder.key]  # no staging folder left behind

    again = TunedEmbedder(texts, labels, tmp_path, recipe=TINY)
    assert again.ready
    again.ensure()
    assert (again.directory / HEAD_FILE).stat().st_mtime_ns == stamp

    vectors = again.embed(texts[:3] + ["A title alone"])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    probs = again.head.probabilities(vectors)
    assert probs.shape == (4, len(LABEL_VALUES)) and np.allclose(probs.sum(axis=1), 1.0)
    assert again.name == f"all-MiniLM-L6-v2-tuned@{again.key}"


def test_tuning_is_deterministic(tmp_path: Path) -> None:
    texts, labels = tiny_corpus()
    first = TunedEmbedder(texts, labels, tmp_path / "a", recipe=TINY)
    second = TunedEmbedder(texts, labels, tmp_path / "b", recipe=TINY)
    first.ensure()
    second.ensure()
    one, two = load_head(first.directory), load_head(second.directory)
    assert np.array_equal(one.weight, two.weight) and np.array_equal(one.bias, two.bias)
    sample = texts[:4]
    assert np.allclose(first.embed(sample), second.embed(sample), atol=1e-6)


def test_the_key_follows_the_corpus_the_recipe_and_the_seed() -> None:
    texts, labels = tiny_corpus()
    key = tuned_key(texts, labels, TINY, 0)
    assert key == tuned_key(list(texts), list(labels), TuneRecipe(max_seq_length=32, epochs=1, batch_size=8), 0)
    relabelled = ["other" if i == 0 else label for i, label in enumerate(labels)]
    assert tuned_key(texts, relabelled, TINY, 0) != key
    assert tuned_key(texts[1:], labels[1:], TINY, 0) != key
    assert tuned_key(texts, labels, TuneRecipe(max_seq_length=64, epochs=1, batch_size=8), 0) != key
    assert tuned_key(texts, labels, TINY, 1) != key


def test_tune_command_reports_a_cache_it_cannot_write_in_one_line(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = cli_env / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    (cli_env / "paperbot.toml").write_text(f'[classifier]\ntuned_dir = "{blocker / "tuned"}"\n')
    result = invoke("tune")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot write the tuned encoder to"), lines


def test_tune_command_with_an_untuned_model_says_there_is_nothing_to_tune(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text('[classifier]\nembedding_model = "hashing-64"\n')
    result = invoke("tune")
    assert result.exit_code == 1
    assert "nothing to tune" in result.stderr


@pytest.mark.parametrize("setting", ['tune_epochs = 0', 'tune_max_tokens = 8',
                                     'embedding_model = "all-MiniLM-L12-v2"'])
def test_bad_tuning_settings_are_refused_before_any_work(invoke, cli_env: Path, setting: str) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(f"[classifier]\n{setting}\n")
    result = invoke("tune")
    assert result.exit_code != 0
    assert f"classifier.{setting.split(' ')[0]}" in result.stderr
