"""db/nearest.py's float16 first pass on small real databases (SQLite and PostgreSQL): it gives exactly the
float32 answer, with or without filters and exclusions, and the float32 product decides when the float16
copy is off or missing."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.vectors import MODEL, exact, index_files, same, save


@pytest.fixture
def crowded(reader: Any, filled: Any) -> dict[str, np.ndarray]:
    """3,000 more papers, their vectors in 60 tight clusters (many near-ties around any threshold)."""
    from db.session import session_scope
    from db.store import upsert_papers
    from tests.support.store import paper

    rng = np.random.default_rng(11)
    centres = rng.standard_normal((60, 64)).astype(np.float32)
    extra = {f"2701.{i:05d}": centres[i % 60] + 0.02 * rng.standard_normal(64).astype(np.float32)
             for i in range(3000)}
    with session_scope(filled) as session:
        upsert_papers(session, [paper(arxiv_id) for arxiv_id in extra])
    save(filled, extra)
    return extra


def header_of(data: bytes | bytearray) -> dict[str, Any]:
    return dict(json.loads(data[12:12 + int.from_bytes(data[8:12], "little")]))


def built_file(reader: Any, any_db_url: str, tmp_path: Path) -> tuple[bytearray, dict[str, Any]]:
    """The bytes and the header of the index file ``load_index`` writes for the database."""
    from db.vectors import load_index

    load_index(reader, MODEL, tmp_path / "cache")
    [path] = index_files(tmp_path / "cache", any_db_url)
    data = bytearray(path.read_bytes())
    return data, header_of(data)


def with_header(data: bytearray, header: dict[str, Any]) -> bytearray:
    text = json.dumps(header, sort_keys=True).encode("utf-8")
    block = b"PBVECS\x00\x01" + len(text).to_bytes(4, "little") + text
    block += zlib.crc32(text).to_bytes(4, "little")
    data[:4096] = block.ljust(4096, b"\0")
    return data


def test_the_index_holds_the_matrix_rounded_to_float16(reader: Any, crowded: Any, tmp_path: Path) -> None:
    from db.vectors import load_index

    index = load_index(reader, MODEL, tmp_path)
    assert index.half is not None and index.half.dtype == np.float16 and index.half.shape == (3007, 64)
    assert np.array_equal(index.half, np.asarray(index.matrix).astype(np.float16))


def test_the_float16_pass_gives_the_exact_answer(reader: Any, filled: Any, crowded: Any,
                                                 tmp_path: Path) -> None:
    from db.nearest import nearest
    from db.vectors import load_index

    index = load_index(reader, MODEL, tmp_path)
    rng = np.random.default_rng(5)
    queries = [crowded["2701.00007"], crowded["2701.00061"] + crowded["2701.00062"],
               rng.standard_normal(64).astype(np.float32)]
    ranking = [arxiv_id for arxiv_id, _ in exact(filled, queries[0], len(index))]
    for query in queries:
        for limit in (1, 10, 60, 500):
            found = nearest(index, query, limit, half=True)
            assert same(found, exact(filled, query, limit))
            assert same(found, nearest(index, query, limit, half=False))
        for allowed in (set(ranking[::3]), set(ranking[-200:]), set(ranking[:5]) | {"not-stored"}):
            for limit in (1, 25):
                excluded = tuple(ranking[:2])
                assert same(nearest(index, query, limit, allowed=allowed, exclude=excluded, half=True),
                            exact(filled, query, limit, allowed, excluded))


def test_the_float32_product_decides_when_the_float16_copy_is_off(reader: Any, filled: Any, crowded: Any,
                                                                  any_db_url: str, tmp_path: Path) -> None:
    """As if this torch summed in float16 and broke the error bound: every score scaled by 0.9."""
    from db.nearest import nearest
    from db.vectorfile import open_index
    from db.vectors import clear_cache

    data, header = built_file(reader, any_db_url, tmp_path)
    start, size = header["half_offset"], 2 * header["count"] * header["dim"]
    half = np.frombuffer(bytes(data[start:start + size]), dtype="<f2") * np.float16(0.9)
    data[start:start + size] = half.astype("<f2").tobytes()
    damaged = tmp_path / "damaged.vectors"
    damaged.write_bytes(bytes(data))
    clear_cache()
    index = open_index(damaged, MODEL)
    query = crowded["2701.00007"]
    assert same(nearest(index, query, 10, half=True), exact(filled, query, 10))


def test_an_index_without_the_float16_copy_is_read_and_searched(reader: Any, filled: Any, crowded: Any,
                                                               any_db_url: str, tmp_path: Path) -> None:
    """A file an earlier paperbot wrote: no ``half_offset`` in its header, no float16 section."""
    from db.nearest import nearest
    from db.vectorfile import open_index

    data, header = built_file(reader, any_db_url, tmp_path)
    del header["half_offset"]
    header["size"] = header["order_offset"] + 4 * header["count"]
    older = tmp_path / "older.vectors"
    older.write_bytes(bytes(with_header(data, header)[:header["size"]]))
    index = open_index(older, MODEL)
    assert index.half is None
    query = crowded["2701.00100"]
    assert same(nearest(index, query, 20, half=True), exact(filled, query, 20))


def test_a_float16_section_past_the_end_is_a_damaged_file(reader: Any, crowded: Any, any_db_url: str,
                                                          tmp_path: Path) -> None:
    from db.vectorfile import CorruptIndex, open_index

    data, header = built_file(reader, any_db_url, tmp_path)
    header["half_offset"] += 4096
    broken = tmp_path / "broken.vectors"
    broken.write_bytes(bytes(with_header(data, header)))
    with pytest.raises(CorruptIndex, match="float16 section"):
        open_index(broken, MODEL)
