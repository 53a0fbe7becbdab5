"""The persisted vector index: one model's stored vectors as a float32 matrix file that is memory-mapped.

``db/vectors.py`` decides when a file is stale and where it lives; this module writes and opens one. A
file holds, after a 4 KiB header (magic, then JSON: model, counts, offsets, the content stamp it was built
from and CRC-32s of the header and the id sections):

    matrix  (count, dim) float32, little-endian, rows L2-normalised, in the database's read order
    ids     count fixed-width ASCII ids (numpy ``S<width>``), row for row
    sorted  the same ids sorted (a binary search finds a paper)
    order   count int32: the row of each sorted id
    half    (count, dim) float16, the matrix rounded: half the bytes for a first pass (``db/nearest.py``);
            optional (a file without it is still read, and older readers skip it)

Nothing is parsed into Python objects on open: the three sections are ``np.memmap`` views, so a fresh
process pays for the pages it touches (and the OS page cache shares them between processes). A file is
written to a temporary name in its folder, flushed to disk and renamed into place, so a reader sees a
whole file or the previous one. A file that fails any check on open raises ``CorruptIndex``.

Beside each index: ``<name>.seen``, the token of the database's state at the last check that found the
index current (``db/vectors.py`` decides what it holds), and ``<name>.lock``, held while one process
builds. Writes only these files; reads no database.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from bot.core.errors import StoreError

MAGIC = b"PBVECS\x00\x01"
FORMAT = 2
HEADER_BYTES = 4096
CHUNK_ROWS = 8192


class CorruptIndex(Exception):
    """The file is not a whole, readable vector index (says what is wrong)."""


@dataclass(frozen=True)
class Stamp:
    """What the index was built from: the count and the newest ``created_at`` of the model's vectors.

    Any insert, re-embedding (``created_at`` is rewritten) or deletion changes one of the two."""

    count: int
    newest: str | None

    def as_list(self) -> list[Any]:
        return [self.count, self.newest]


class VectorIndex:
    """The stored vectors of one model: row ``i`` of ``matrix`` belongs to ``id_at(i)``."""

    def __init__(self, model: str, matrix: np.ndarray, ids: np.ndarray, sorted_ids: np.ndarray,
                 order: np.ndarray, stamp: Stamp, token: int = 0, half: np.ndarray | None = None) -> None:
        self.model = model
        self.matrix = matrix          # (count, dim) float32, unit rows (zero rows stay zero)
        self.half = half              # (count, dim) float16 copy of matrix, or None
        self.ids = ids                # (count,) S<width>, row for row
        self.sorted_ids = sorted_ids  # (count,) S<width>, ascending
        self.order = order            # (count,) int32: sorted_ids[k] is the id of row order[k]
        self.stamp = stamp
        self.token = token    # CRC-32 of the file's header: tells one build from another

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def id_at(self, row: int) -> str:
        return bytes(self.ids[row]).decode("ascii")

    def positions(self, arxiv_ids: Iterable[str]) -> np.ndarray:
        """The rows of those of ``arxiv_ids`` that are stored (int64, in no particular order)."""
        width = self.ids.dtype.itemsize
        text = np.array(list(arxiv_ids), dtype=str)
        if len(text) == 0 or len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        text = text[np.char.str_len(text) <= width]  # a longer id would be cut to another one
        try:
            wanted = np.sort(text.astype(self.ids.dtype))  # in order: each search starts where the last ended
        except UnicodeEncodeError:  # not an arXiv id: none of those is stored
            wanted = np.sort(np.array([i for i in text.tolist() if i.isascii()], dtype=self.ids.dtype))
        slots = np.minimum(np.searchsorted(self.sorted_ids, wanted), len(self) - 1)
        return self.order[slots][self.sorted_ids[slots] == wanted].astype(np.int64)

    def position(self, arxiv_id: str) -> int | None:
        found = self.positions([arxiv_id])
        return int(found[0]) if len(found) else None

    def __contains__(self, arxiv_id: object) -> bool:
        return isinstance(arxiv_id, str) and self.position(arxiv_id) is not None

    def vector(self, arxiv_id: str) -> np.ndarray | None:
        row = self.position(arxiv_id)
        return None if row is None else np.array(self.matrix[row])


def empty_index(model: str) -> VectorIndex:
    return VectorIndex(model, np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype="S1"),
                       np.zeros(0, dtype="S1"), np.zeros(0, dtype=np.int32), Stamp(0, None))


def _chunks(rows: Iterable[tuple[str, int, bytes, Any]]) -> Iterator[list[tuple[str, int, bytes, Any]]]:
    chunk: list[tuple[str, int, bytes, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _pad(handle: IO[bytes], alignment: int = 64) -> int:
    position = handle.tell()
    extra = -position % alignment
    if extra:
        handle.write(b"\0" * extra)
    return position + extra


def write_rows(handle: IO[bytes], model: str, rows: Iterable[tuple[str, int, bytes, Any]],
               base: VectorIndex | None = None) -> Stamp:
    """Stream ``(arxiv_id, dim, vector bytes, created_at)`` rows into ``handle`` as an index file; after
    the rows of ``base`` (copied as they are) when given.

    Holds one chunk of vectors and the ids in memory, never the whole matrix. The stamp is computed from
    the rows written, so the file always says exactly what it holds. StoreError for mixed sizes."""
    handle.write(b"\0" * HEADER_BYTES)
    ids: list[bytes] = []
    dim: int | None = None
    newest: str | None = None
    if base is not None and len(base):
        dim, newest, ids = base.dim, base.stamp.newest, base.ids.tolist()
        for start in range(0, len(base), CHUNK_ROWS):
            handle.write(np.ascontiguousarray(base.matrix[start:start + CHUNK_ROWS]).tobytes())
    for chunk in _chunks(rows):
        sizes = {int(row[1]) for row in chunk} | ({dim} if dim is not None else set())
        if len(sizes) > 1:
            raise StoreError(f"embeddings of {model} have mixed sizes {sorted(sizes)}; re-embed the papers")
        dim = sizes.pop()
        blob = b"".join(row[2] for row in chunk)
        if len(blob) != 4 * dim * len(chunk):
            raise StoreError(f"a stored {model} vector is not {dim} float32 values; re-embed the papers")
        matrix = np.frombuffer(blob, dtype="<f4").reshape(len(chunk), dim).astype(np.float32)
        matrix[~np.isfinite(matrix).all(axis=1)] = 0.0  # a broken vector matches nothing
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        matrix /= norms
        handle.write(matrix.astype("<f4", copy=False).tobytes())
        for row in chunk:
            ids.append(str(row[0]).encode("ascii"))
            stamp = None if row[3] is None else str(row[3])
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
    count, dim = len(ids), dim or 0
    width = max((len(key) for key in ids), default=1) or 1
    id_array = np.array(ids, dtype=f"S{width}") if ids else np.zeros(0, dtype=f"S{width}")
    order = np.argsort(id_array, kind="stable").astype("<i4")
    ids_offset = _pad(handle)
    id_bytes = id_array.tobytes()
    handle.write(id_bytes)
    sorted_offset = _pad(handle)
    sorted_bytes = id_array[order].tobytes()
    handle.write(sorted_bytes)
    order_offset = _pad(handle)
    order_bytes = order.tobytes()
    handle.write(order_bytes)
    half_offset = _pad(handle)
    _write_half(handle, count, dim, base.half if base is not None and len(base) else None)
    header = {"format": FORMAT, "model": model, "count": count, "dim": dim, "id_width": width,
              "matrix_offset": HEADER_BYTES, "ids_offset": ids_offset, "sorted_offset": sorted_offset,
              "order_offset": order_offset, "half_offset": half_offset,
              "sorted_crc32": zlib.crc32(sorted_bytes), "size": handle.tell(), "stamp": [count, newest],
              "ids_crc32": zlib.crc32(id_bytes), "order_crc32": zlib.crc32(order_bytes),
              "nonce": os.urandom(8).hex()}
    text = json.dumps(header, sort_keys=True).encode("utf-8")
    block = MAGIC + len(text).to_bytes(4, "little") + text + zlib.crc32(text).to_bytes(4, "little")
    if len(block) > HEADER_BYTES:  # pragma: no cover - a model name of thousands of characters
        raise StoreError(f"the model name {model[:40]!r}... is too long for the vector index")
    handle.seek(0)
    handle.write(block)
    handle.flush()
    return Stamp(count, newest)


def _write_half(handle: IO[bytes], count: int, dim: int, copied: np.ndarray | None = None) -> None:
    """Append the float16 copy of the float32 matrix already written (read back a chunk at a time). The
    float16 rows of an index being extended (``copied``) are copied as they are, not rounded again."""
    end = handle.tell()
    first = 0
    if copied is not None:
        first = len(copied)
        for start in range(0, first, CHUNK_ROWS):
            end += handle.write(np.ascontiguousarray(copied[start:start + CHUNK_ROWS]).tobytes())
    for start in range(first, count, CHUNK_ROWS):
        rows = min(CHUNK_ROWS, count - start)
        handle.seek(HEADER_BYTES + 4 * dim * start)
        block = np.frombuffer(handle.read(4 * dim * rows), dtype="<f4")
        handle.seek(end)
        end += handle.write(block.astype("<f2").tobytes())


def new_file(path: Path) -> tuple[int, str]:
    """A temporary file next to ``path`` with the permissions a new file gets (0666 less the umask)."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(descriptor, 0o666 & ~mask)
    return descriptor, temporary


def write_index(path: Path, model: str, rows: Iterable[tuple[str, int, bytes, Any]],
                base: VectorIndex | None = None) -> None:
    """``write_rows`` into a temporary file next to ``path``, synced, then renamed to ``path``."""
    descriptor, temporary = new_file(path)
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            write_rows(handle, model, rows, base)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _header(handle: IO[bytes], size: int) -> tuple[dict[str, Any], int]:
    block = handle.read(HEADER_BYTES)
    if len(block) < 16 or not block.startswith(MAGIC):
        raise CorruptIndex("not a paperbot vector index (bad magic)")
    length = int.from_bytes(block[8:12], "little")
    text, crc = block[12:12 + length], block[12 + length:16 + length]
    if len(crc) < 4 or zlib.crc32(text) != int.from_bytes(crc, "little"):
        raise CorruptIndex("its header is damaged")
    header = json.loads(text)
    if header.get("format") != FORMAT:
        raise CorruptIndex(f"format {header.get('format')!r}, expected {FORMAT}")
    if header["size"] != size:
        raise CorruptIndex(f"{size:,} bytes where the header says {header['size']:,}")
    count, dim, width = header["count"], header["dim"], header["id_width"]
    if (header["ids_offset"] < HEADER_BYTES + 4 * count * dim
            or header["sorted_offset"] < header["ids_offset"] + count * width
            or header["order_offset"] < header["sorted_offset"] + count * width
            or size < header["order_offset"] + 4 * count):
        raise CorruptIndex("its sections overlap")
    half = header.get("half_offset")
    if half is not None and (half < header["order_offset"] + 4 * count or size < half + 2 * count * dim):
        raise CorruptIndex("its float16 section overlaps")
    return header, zlib.crc32(text)


def open_index(source: Path | IO[bytes], model: str) -> VectorIndex:
    """Map an index file (a path, or an open binary file); CorruptIndex when any check fails."""
    handle = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115 - closed below
    try:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(0)
        try:
            header, token = _header(handle, size)
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptIndex(f"its header is unreadable ({exc})") from None
        if header["model"] != model:
            raise CorruptIndex(f"it holds {header['model']!r}, not {model!r}")
        count, dim = header["count"], header["dim"]
        if count == 0:
            return empty_index(model)
        matrix = np.memmap(handle, dtype="<f4", mode="r", offset=header["matrix_offset"], shape=(count, dim))
        ids = np.memmap(handle, dtype=f"S{header['id_width']}", mode="r", offset=header["ids_offset"],
                        shape=(count,))
        sorted_ids = np.memmap(handle, dtype=f"S{header['id_width']}", mode="r",
                               offset=header["sorted_offset"], shape=(count,))
        order = np.memmap(handle, dtype="<i4", mode="r", offset=header["order_offset"], shape=(count,))
        sums = [zlib.crc32(section.data) for section in (ids, sorted_ids, order)]
        if sums != [header["ids_crc32"], header["sorted_crc32"], header["order_crc32"]]:
            raise CorruptIndex("its ids are damaged")
        if order.min() < 0 or order.max() >= count:
            raise CorruptIndex("its id order is damaged")
        stamp = Stamp(int(header["stamp"][0]), header["stamp"][1])
        half = None
        if header.get("half_offset") is not None:  # copy-on-write: torch takes only a writable array
            half = np.memmap(handle, dtype="<f2", mode="c", offset=header["half_offset"], shape=(count, dim))
        return VectorIndex(model, matrix, ids, sorted_ids, order, stamp, token, half)
    finally:
        if isinstance(source, Path):
            handle.close()  # the maps keep their own reference to the file


# --- the files beside an index: its sidecar (last check) and its lock -------------------------------

def _seen_path(path: Path) -> Path:
    return path.with_name(path.name + ".seen")


def read_seen(path: Path) -> tuple[int, list[Any]] | None:
    """``(token, fingerprint)`` from the sidecar of the index at ``path``; None when missing or unreadable."""
    try:
        data = json.loads(_seen_path(path).read_text(encoding="utf-8"))
        return int(data["token"]), list(data["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_seen(path: Path, token: int, fingerprint: list[Any] | None) -> None:
    """Record that the index ``token`` matched the database at ``fingerprint`` (best effort)."""
    if fingerprint is None:
        return
    with contextlib.suppress(OSError):
        descriptor, temporary = new_file(path)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"token": token, "fingerprint": list(fingerprint)}, handle)
        os.replace(temporary, _seen_path(path))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One builder at a time per index file; the others wait, then find the fresh file."""
    import fcntl

    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
