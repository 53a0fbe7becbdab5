"""The corpus's embedding vectors shipped with the package (``classifier/data/corpus-vectors.npz``): the
file covers the shipped corpus, the rebuild script round-trips, a broken file is ignored with a warning and
the pipeline embeds only the texts the file lacks."""

from __future__ import annotations

import importlib.util
import json
import logging
import tomllib
from pathlib import Path

import numpy as np
import pytest

from classifier import corpus_vectors
from classifier.corpus import DATA_DIR, training_corpus
from classifier.corpus_vectors import VECTORS_FILE, CorpusVectorsError, load, read, write
from classifier.embed import MODEL_DIM, MODEL_NAME, HashingEmbedder
from db.store import text_hash

ROOT = Path(__file__).resolve().parents[2]
FLOAT16_ATOL = 2e-3  # float16 keeps ~3 significant digits of a unit vector's components


def rebuild_script():  # type: ignore[no-untyped-def]
    script = ROOT / "bench" / "corpus_vectors.py"
    spec = importlib.util.spec_from_file_location("corpus_vectors_script", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(n: int, start: int = 0) -> list[dict]:
    return [{"arxiv_id": f"2401.{i:05d}", "title": f"Paper {i} on token pruning",
             "abstract": f"We prune {i}.", "label": "pruning"} for i in range(start, start + n)]


def write_corpus(path: Path, data: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in data), encoding="utf-8")
    return path


# --- the shipped file --------------------------------------------------------------------------------

def test_the_shipped_vectors_cover_every_text_of_the_shipped_corpus() -> None:
    """Fails after a corpus edit until ``python bench/corpus_vectors.py`` rebuilds the file."""
    shipped = read(VECTORS_FILE, model=MODEL_NAME)
    assert shipped.dim == MODEL_DIM
    texts = {paper.text for paper in training_corpus()}
    held = shipped.lookup(text_hash(t) for t in texts)
    lacking = len(texts) - len(held)
    assert lacking == 0, (f"{VECTORS_FILE.name} lacks {lacking} of {len(texts)} corpus texts: rebuild it "
                          "with python bench/corpus_vectors.py")
    assert len(shipped) == len(texts)  # and holds nothing else


def test_the_shipped_vectors_are_package_data() -> None:
    """``pip install .`` (not editable) carries the file: pyproject's package-data names it."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(VECTORS_FILE in (DATA_DIR.parent).glob(p) for p in patterns["classifier"])


@pytest.mark.model
def test_the_shipped_vectors_are_the_models_own() -> None:
    """A few corpus texts embedded now match their shipped rows (a changed model makes the file stale)."""
    from classifier.embed import SentenceTransformerEmbedder

    texts = [paper.text for paper in training_corpus()[::400]]
    fresh = SentenceTransformerEmbedder().embed(texts)
    shipped = read(VECTORS_FILE, model=MODEL_NAME).lookup(text_hash(t) for t in texts)
    assert np.allclose(np.stack([shipped[text_hash(t)] for t in texts]), fresh, atol=FLOAT16_ATOL)


# --- the rebuild script ------------------------------------------------------------------------------

def test_rebuild_write_verify_load_round_trip(tmp_path: Path) -> None:
    script = rebuild_script()
    corpus = write_corpus(tmp_path / "train.jsonl", rows(30) + rows(1))  # one text twice: stored once
    out = tmp_path / "vectors.npz"
    assert script.main(["--model", "hashing-32", "--corpus", str(corpus), "--out", str(out)]) == 0
    assert script.main(["--model", "hashing-32", "--corpus", str(corpus), "--out", str(out), "--check"]) == 0
    shipped = load("hashing-32", 32, out)
    assert shipped is not None and len(shipped) == 30 and shipped.vectors.dtype == np.float16
    texts = script.corpus_texts(corpus)
    found = shipped.lookup(text_hash(t) for t in texts)
    assert np.allclose(np.stack([found[text_hash(t)] for t in texts]), HashingEmbedder(32).embed(texts),
                       atol=FLOAT16_ATOL)
    # the corpus gains a row: the file is stale, and --check says so
    write_corpus(corpus, rows(31))
    assert script.main(["--model", "hashing-32", "--corpus", str(corpus), "--out", str(out), "--check"]) == 1
    # the real model's check of another model's file fails too
    assert script.main(["--corpus", str(corpus), "--out", str(out), "--check"]) == 1


def test_float32_files_round_trip_exactly(tmp_path: Path) -> None:
    texts = ["a", "b", "c"]
    vectors = HashingEmbedder(8).embed(texts)
    write(tmp_path / "v.npz", "hashing-8", [text_hash(t) for t in texts], vectors, dtype="<f4")
    found = read(tmp_path / "v.npz").lookup(text_hash(t) for t in [*texts, "not there"])
    assert set(found) == {text_hash(t) for t in texts}
    assert np.array_equal(np.stack([found[text_hash(t)] for t in texts]), vectors)


# --- a broken file is ignored, with a warning --------------------------------------------------------

@pytest.fixture
def good(tmp_path: Path) -> Path:
    texts = [f"text {i}" for i in range(20)]
    path = tmp_path / "good.npz"
    write(path, "hashing-16", [text_hash(t) for t in texts], HashingEmbedder(16).embed(texts))
    return path


def rewrite(path: Path, name: str, **changes: np.ndarray) -> Path:
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays.update(changes)
    target = path.with_name(f"{name}.npz")
    np.savez(target, **arrays)  # type: ignore[arg-type]
    return target


def broken_files(good: Path) -> dict[str, Path]:
    with np.load(good, allow_pickle=False) as data:
        vectors, hashes = data["vectors"].copy(), data["hashes"].copy()
    flipped = vectors.copy()
    flipped[3, 5] = -flipped[3, 5] + np.float16(0.25)
    truncated = good.with_name("truncated.npz")
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = good.with_name("garbage.npz")
    garbage.write_bytes(b"\x80\x04not numpy at all")
    cases = {
        "a changed vector (checksum)": rewrite(good, "case0", vectors=flipped),
        "a truncated file": truncated,
        "not a NumPy file": garbage,
        "a missing file": good.with_name("absent.npz"),
        "a row short": rewrite(good, "case1", vectors=vectors[:-1]),
        "an object array (pickle)": rewrite(good, "case2", hashes=np.array(list(hashes), dtype=object)),
    }
    # a file whose checksum was recomputed over bad contents still fails the later checks
    nan = vectors.copy()
    nan[0, 0] = np.nan
    cases["a NaN (checksum recomputed)"] = rewrite(
        good, "case3", vectors=nan, checksum=np.array(corpus_vectors.checksum("hashing-16", hashes, nan)))
    duplicated = hashes.copy()
    duplicated[1] = duplicated[0]
    resummed = corpus_vectors.checksum("hashing-16", duplicated, vectors)
    cases["a hash twice (checksum recomputed)"] = rewrite(good, "case4", hashes=duplicated,
                                                          checksum=np.array(resummed))
    return cases


def test_a_broken_file_fails_verification_and_is_ignored_with_a_warning(
        good: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert load("hashing-16", 16, good) is not None
    for case, path in broken_files(good).items():
        with pytest.raises(CorpusVectorsError):
            read(path)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="classifier.corpus_vectors"):
            assert load("hashing-16", 16, path) is None, case
        assert "ignoring the shipped corpus vectors" in caplog.text, case


def test_another_models_file_is_not_used_and_not_a_warning(
        good: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert load("hashing-64", 64, good) is None
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING):  # the right name but the wrong width is a broken file
        assert load("hashing-16", 32, good) is None
    assert "16-dimensional" in caplog.text


# --- the pipeline: shipped vectors first, the database cache, then the embedder ------------------------

class CountingEmbedder(HashingEmbedder):
    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.embedded: list[str] = []

    def embed(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
        self.embedded += list(texts)
        return super().embed(texts, progress=progress)


def test_text_vectors_embeds_only_the_texts_the_shipped_file_lacks(
        engine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    from bot.pipeline import stages

    shipped = [f"corpus text {i}" for i in range(40)]
    path = tmp_path / "vectors.npz"
    write(path, "hashing-16", [text_hash(t) for t in shipped], HashingEmbedder(16).embed(shipped))
    embedder = CountingEmbedder(16)
    texts = [*shipped, "a maintainer's paper", "an edited corpus row", shipped[0]]
    calls: list[tuple[int, int | None]] = []
    with caplog.at_level(logging.INFO, logger="bot.pipeline.stages"):
        vectors = stages.text_vectors(engine, embedder, texts, progress=lambda d, t: calls.append((d, t)),
                                      shipped_file=path)
    assert sorted(embedder.embedded) == ["a maintainer's paper", "an edited corpus row"]
    assert "embedding 2 of 42 texts: 40 are in the shipped corpus vectors and 0 in the database" \
        in caplog.text
    assert calls == [(0, 2), (2, 2)]
    assert vectors.shape == (43, 16) and vectors.dtype == np.float32
    assert np.allclose(vectors, HashingEmbedder(16).embed(texts), atol=FLOAT16_ATOL)
    # the next run embeds nothing: the two come from the database cache, the rest from the file
    embedder.embedded.clear()
    again = stages.text_vectors(engine, embedder, texts, progress=lambda d, t: calls.append((d, t)),
                                shipped_file=path)
    assert embedder.embedded == [] and calls == [(0, 2), (2, 2)]
    assert np.array_equal(again, vectors)


def test_text_vectors_falls_back_to_embedding_when_the_file_is_broken(
        engine, good: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    from bot.pipeline import stages

    broken = broken_files(good)["a changed vector (checksum)"]
    embedder = CountingEmbedder(16)
    texts = [f"text {i}" for i in range(20)]
    with caplog.at_level(logging.INFO):
        vectors = stages.text_vectors(engine, embedder, texts, shipped_file=broken)
    assert sorted(embedder.embedded) == sorted(texts)
    assert "checksum mismatch" in caplog.text
    assert "there are no usable shipped corpus vectors for hashing-16" in caplog.text
    assert np.allclose(vectors, HashingEmbedder(16).embed(texts))
    assert stages.text_vectors(engine, embedder, [], shipped_file=broken).shape == (0, 16)
