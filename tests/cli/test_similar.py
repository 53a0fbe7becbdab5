"""``paperbot similar`` and ``search --semantic`` (bot/cli/query.py) through the real click group on both
backends: the answers equal the exact in-memory computation, and the vector index file is written once,
where it belongs, and reused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifier.embed import HashingEmbedder, paper_text
from tests.support.database import PAPERS


@pytest.fixture
def filled_url(any_db_url: str) -> Iterator[str]:
    from db.session import open_database
    from db.vectors import clear_cache
    from tests.support.database import fill

    engine = open_database(any_db_url)
    fill(engine)
    engine.dispose()
    clear_cache()
    yield any_db_url
    clear_cache()


def expected(vector: np.ndarray, limit: int, exclude: str | None = None,
             only: set[str] | None = None) -> list[tuple[str, float]]:
    """Every stored hashing-64 vector recomputed from the papers' text, scored in memory."""
    from tests.support.database import LABELS

    papers = [p for p in PAPERS if p.arxiv_id in LABELS and p.arxiv_id != exclude
              and (only is None or p.arxiv_id in only)]
    matrix = HashingEmbedder().embed([paper_text(p.title, p.abstract) for p in papers]).astype(np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = matrix @ (vector / np.linalg.norm(vector))
    ranked = sorted(zip([p.arxiv_id for p in papers], scores.tolist(), strict=True),
                    key=lambda x: (-x[1], x[0]))
    return [(i, round(s, 4)) for i, s in ranked[:limit]]


def answer(result: Any) -> list[tuple[str, float]]:
    assert result.exit_code == 0, result.output
    return [(row["arxiv_id"], row["score"]) for row in json.loads(result.stdout)]


def index_file(url: str, cache: Path) -> Path:
    from bot.core.files import sqlite_file

    database = sqlite_file(url)
    [found] = (Path(database + "-vectors") if database else cache).glob("**/*.vectors")
    return found


def test_similar_on_both_backends(invoke, filled_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {"PAPERBOT_VECTOR_CACHE": str(tmp_path / "cache")}
    base = next(p for p in PAPERS if p.arxiv_id == "2303.17604")
    vector = HashingEmbedder().embed([paper_text(base.title, base.abstract)])[0]
    result = invoke("--db", filled_url, "similar", "2303.17604v1", "--model", "hashing-64", "--json", env=env)
    assert answer(result) == expected(vector, 10, exclude="2303.17604")
    path = index_file(filled_url, tmp_path / "cache")
    if filled_url.startswith("postgresql"):
        assert path.parent.parent == tmp_path / "cache" and path.parent.name.startswith("pg-")
    written = path.stat()
    result = invoke("--db", filled_url, "similar", "2303.17604", "--model", "hashing-64", "--limit", "2",
                    "--label", "quantization", "--json", env=env)
    assert answer(result) == expected(vector, 2, only={"2302.04304", "2603.01234"})
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # reused
    result = invoke("--db", filled_url, "similar", "2605.00001", "--model", "hashing-64", env=env)
    assert (result.exit_code, result.output) == (
        1, "Error: 2605.00001 has no stored hashing-64 embedding; run `paperbot embed` first\n")


def test_semantic_search_on_both_backends(invoke, filled_url: str, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    # the stored vectors are the model-free hashing-64 ones: embed the query the same way
    (cli_env / "paperbot.toml").write_text(f'vector_cache = "{cli_env / "cache"}"\n'
                                           '[classifier]\nembedding_model = "hashing-64"\n')
    query = "quantizing video diffusion transformers"
    vector = HashingEmbedder().embed([query])[0]
    result = invoke("--db", filled_url, "search", query, "--semantic", "--limit", "3", "--json",
                    env={"PAPERBOT_VECTOR_CACHE": None})  # the file's setting, then
    assert answer(result) == expected(vector, 3)
    assert index_file(filled_url, cli_env / "cache").stat().st_size > 7 * 64 * 4
