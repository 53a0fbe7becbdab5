"""The training corpus's embedding vectors, shipped with it (``classifier/data/corpus-vectors.npz``).

Embedding the corpus takes minutes on a CPU; with the vectors in the package a fresh database never does it.
Read by the pipeline's training stage (``bot/pipeline/stages.py``, ``text_vectors``); written only by
``bench/corpus_vectors.py`` when the corpus or the model changes. The file is an uncompressed NumPy ``.npz``
read with ``allow_pickle=False`` (no pickles, so loading it runs no code), holding:

- ``format``: 1;
- ``model``: the name of the embedder that made the vectors (``Embedder.name``);
- ``hashes``: ``(n,)`` ASCII ``S64``, the sha256 hex digest of each text (``db.store.text_hash`` of
  ``LabelledPaper.text``), sorted and unique;
- ``vectors``: ``(n, dim)`` float16 (or float32), the unit-length embedding of the text on the same row;
- ``checksum``: sha256 hex digest of the model name, the hashes and the vectors (``checksum``).

``read`` checks all of it and raises ``CorpusVectorsError`` on anything wrong; ``load`` is what the pipeline
calls: the verified vectors for one model, or ``None`` (a broken file logged as a warning) so that the
caller embeds the texts as it would without the file. Vectors are looked up by text hash only, so a corpus
row edited since the file was built simply misses and is embedded.
"""

from __future__ import annotations

import hashlib
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.corpus import DATA_DIR

VECTORS_FILE = DATA_DIR / "corpus-vectors.npz"
FORMAT = 1
DTYPES = (np.dtype("<f2"), np.dtype("<f4"))
NORM_TOLERANCE = 1e-2  # float16 rounding moves a unit row's length by ~1e-4; more means a damaged file
_HASH_RE = re.compile(rb"[0-9a-f]{64}")
_KEYS = {"format", "model", "hashes", "vectors", "checksum"}

log = logging.getLogger(__name__)


class CorpusVectorsError(Exception):
    """The shipped vectors file is missing, unreadable or fails verification."""


@dataclass(frozen=True)
class CorpusVectors:
    """Verified shipped vectors: one row of ``vectors`` per text hash."""

    model: str
    hashes: np.ndarray  # (n,) S64
    vectors: np.ndarray  # (n, dim) float16 or float32

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def lookup(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """float32 vectors of the given text hashes that the file holds, keyed by hash."""
        wanted = sorted(set(hashes))
        if not wanted or not len(self):
            return {}
        keys = np.array([h.encode("ascii") for h in wanted], dtype="S64")
        rows = np.searchsorted(self.hashes, keys).clip(max=len(self) - 1)
        hit = self.hashes[rows] == keys
        found = self.vectors[rows[hit]].astype(np.float32)
        return {h: found[i] for i, h in enumerate(k.decode("ascii") for k in keys[hit])}


def checksum(model: str, hashes: np.ndarray, vectors: np.ndarray) -> str:
    """sha256 over the model name, the hash column and the vector bytes (with their dtype and shape)."""
    digest = hashlib.sha256()
    for part in (model, vectors.dtype.str, repr(vectors.shape)):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(np.ascontiguousarray(hashes).tobytes())
    digest.update(np.ascontiguousarray(vectors).tobytes())
    return digest.hexdigest()


def write(path: Path | str, model: str, hashes: Sequence[str], vectors: np.ndarray, *,
          dtype: str = "<f2") -> None:
    """Write ``vectors`` (one row per text hash) for ``model``, sorted by hash, in ``dtype``."""
    matrix = np.asarray(vectors)
    if matrix.ndim != 2 or matrix.shape[0] != len(hashes):
        raise ValueError(f"{len(hashes)} hashes but vectors of shape {matrix.shape}")
    if len(set(hashes)) != len(hashes):
        raise ValueError("duplicate text hashes (the same text twice)")
    keys = np.array([h.encode("ascii") for h in hashes], dtype="S64")
    order = np.argsort(keys, kind="stable")
    keys, matrix = keys[order], np.ascontiguousarray(matrix[order], dtype=np.dtype(dtype))
    with open(path, "wb") as handle:
        np.savez(handle, format=np.array(FORMAT), model=np.array(model), hashes=keys, vectors=matrix,
                 checksum=np.array(checksum(model, keys, matrix)))


def read(path: Path | str | None = None, *, model: str | None = None) -> CorpusVectors:
    """The verified contents of ``path`` (the shipped file by default); ``model``, when given, must be the
    file's model."""
    path = VECTORS_FILE if path is None else path
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = _KEYS - set(data.files)
            if missing:
                raise CorpusVectorsError(f"{path}: no {', '.join(sorted(missing))}")
            if data["format"].shape != () or int(data["format"]) != FORMAT:
                raise CorpusVectorsError(f"{path}: format {data['format']!r}, expected {FORMAT}")
            name = str(data["model"][()])
            if model is not None and name != model:
                raise CorpusVectorsError(f"{path}: vectors of {name}, not {model}")
            hashes, vectors, stored = data["hashes"], data["vectors"], str(data["checksum"][()])
    except CorpusVectorsError:
        raise
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CorpusVectorsError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from exc
    _verify(path, name, hashes, vectors, stored)
    return CorpusVectors(name, hashes, vectors)


def _verify(path: Path | str, model: str, hashes: np.ndarray, vectors: np.ndarray, stored: str) -> None:
    if hashes.dtype != np.dtype("S64") or hashes.ndim != 1:
        raise CorpusVectorsError(f"{path}: hashes are {hashes.dtype} {hashes.shape}, expected S64 (n,)")
    if vectors.dtype not in DTYPES or vectors.ndim != 2 or vectors.shape[0] != hashes.shape[0]:
        raise CorpusVectorsError(f"{path}: vectors are {vectors.dtype} {vectors.shape} for "
                                 f"{hashes.shape[0]} hashes")
    if checksum(model, hashes, vectors) != stored:
        raise CorpusVectorsError(f"{path}: checksum mismatch (the file is damaged or was edited by hand)")
    if not all(_HASH_RE.fullmatch(h) for h in hashes.tolist()):
        raise CorpusVectorsError(f"{path}: a text hash is not a sha256 hex digest")
    if hashes.shape[0] > 1 and not bool(np.all(hashes[1:] > hashes[:-1])):
        raise CorpusVectorsError(f"{path}: text hashes are not sorted and unique")
    norms = np.linalg.norm(vectors.astype(np.float32), axis=1)
    # unit length (a text with no tokens at all may embed as zeros); NaN or infinity fails this too
    if not bool(np.all((np.abs(norms - 1.0) <= NORM_TOLERANCE) | (norms == 0))):
        raise CorpusVectorsError(f"{path}: vectors are not unit length")


def load(model: str, dim: int, path: Path | str | None = None) -> CorpusVectors | None:
    """The shipped vectors for ``model`` (``dim`` wide), or ``None``: another model's file is simply not
    used; a missing or broken one is logged as a warning and ignored, never fatal."""
    path = VECTORS_FILE if path is None else path
    try:
        with np.load(path, allow_pickle=False) as data:
            name = str(data["model"][()])
    except Exception:  # read() below says what is wrong
        name = model
    if name != model:
        log.debug("shipped corpus vectors are for %s, not %s: not used", name, model)
        return None
    try:
        vectors = read(path, model=model)
    except Exception as exc:  # CorpusVectorsError, or anything else a damaged file provokes: never fatal
        log.warning("ignoring the shipped corpus vectors (%s); the corpus is embedded instead", exc)
        return None
    if vectors.dim != dim:
        log.warning("ignoring the shipped corpus vectors (%s: %d-dimensional, %s gives %d); the corpus is "
                    "embedded instead", path, vectors.dim, model, dim)
        return None
    return vectors
