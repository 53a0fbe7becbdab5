"""Nearest papers by stored embedding: semantic search, ``paperbot similar`` and the hybrid blend.

Exact: the answer is always the rows with the highest float32 cosine similarity, ties by the smaller id.
Scoring every row of a million-vector index is one matrix-vector product that reads the whole matrix, so
it runs at the speed of memory (1.5 GB of float32 at a million 384-dimensional vectors). Two ways:

* **float32**: numpy's product over the index's float32 matrix (``db/vectorfile.py``).
* **a float16 pass, then exact**: when torch is loaded in this process (``search --semantic`` and
  ``--hybrid`` load it to embed the query) and the index holds its float16 copy, every row is scored on
  that copy first (half the bytes), and the rows that could belong to the answer are scored again exactly
  on the float32 matrix. ``similar`` needs no model, so it does not import torch for this.

Why the second way is exact. For unit vectors ``q`` and ``x``, rounding both to float16 (relative error
``u = 2^-11`` a component, and below 2^-25 absolute for the smallest values) moves ``q·x`` by at most
``(2u + u²) Σ|q_i x_i| + 768 · 2^-25 ≤ 9.9e-4`` (Cauchy-Schwarz bounds the sum by 1); the float32
accumulation adds at most ``384 · 2^-24`` and rounding the result to float16 ``2^-12``: below 1.3e-3 in
all, so ``HALF_ERROR`` = 2e-3 bounds it. Let ``t`` be the depth-th best coarse score. At least ``depth``
rows have coarse ``≥ t``, so exact ``≥ t - ε``, so the depth-th best exact score ``T ≥ t - ε``; a row with
exact ``≥ T`` has coarse ``≥ T - ε ≥ t - 2ε``. Rescoring every row with coarse ``≥ t - 2ε`` therefore
finds every row of the exact answer. The rescored rows check the bound (a torch that summed in float16
would break it): where any is off by more than ``ε``, the float32 product decides instead.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from bot.core.errors import StoreError
from db.query import NO_FILTERS, Filters, filtered_ids
from db.vectorfile import VectorIndex

__all__ = ["HALF_ERROR", "RRF_K", "fuse", "nearest", "semantic_search"]

RRF_K = 60  # reciprocal-rank fusion constant (Cormack, Clarke & Buettcher 2009)
FEW_ALLOWED = 16  # a filter keeping under 1/16 of the papers: score only their rows
HALF_ERROR = 2e-3  # the most a float16 score can differ from the float32 one (module docstring)
GATHER_SHARE = 8  # more rows than 1/8 to rescore: one float32 product instead of gathering them

_TENSORS: weakref.WeakKeyDictionary[VectorIndex, Any] = weakref.WeakKeyDictionary()


def _half_tensor(index: VectorIndex, torch: Any) -> Any:
    """The index's float16 copy as a torch tensor sharing the mapped pages (made once per index)."""
    tensor = _TENSORS.get(index)
    if tensor is None:
        tensor = _TENSORS[index] = torch.from_numpy(index.half)
    return tensor


def _ranked(index: VectorIndex, rows: np.ndarray | None, scores: np.ndarray,
            depth: int) -> list[tuple[str, float]]:
    """Every row scoring at least the ``depth``-th highest of ``scores`` (ties included, so nothing left
    out scores as high as anything in), best first, ties by the smaller id. ``scores[i]`` belongs to row
    ``rows[i]`` (to row ``i`` when ``rows`` is None). NaN counts as no match."""
    scores[np.isnan(scores)] = -np.inf
    if depth < len(scores):
        threshold = np.partition(scores, len(scores) - depth)[len(scores) - depth]
        picked = np.flatnonzero(scores >= threshold)
    else:
        picked = np.arange(len(scores))
    picked = picked[np.isfinite(scores[picked])]
    ids = index.ids[picked if rows is None else rows[picked]]
    order = np.lexsort((ids, -scores[picked]))
    return [(bytes(ids[i]).decode("ascii"), float(scores[picked[i]])) for i in order]


class _Scores:
    """One query's scores of every row: exact (float32), or coarse (float16) and made exact where they
    decide an answer. Excluded rows score ``-inf``."""

    def __init__(self, index: VectorIndex, query: np.ndarray, excluded: np.ndarray,
                 half: bool | None) -> None:
        self.index, self.query = index, query
        torch: Any = sys.modules.get("torch") if half is None else None
        if half is True:
            import torch as torch_module

            torch = torch_module
        self.exact = index.half is None or torch is None
        self._float32: np.ndarray | None = None  # every row's exact score, once a fallback needs them
        if self.exact:
            self.values = index.matrix @ query
        else:
            coarse = torch.mv(_half_tensor(index, torch), torch.from_numpy(query).half())
            self.values = coarse.float().numpy()
        self.values[excluded] = -np.inf
        self.values[np.isnan(self.values)] = -np.inf

    def top(self, rows: np.ndarray | None, depth: int) -> list[tuple[str, float]]:
        """``_ranked`` of the exact scores of ``rows`` (every row when None) at ``depth``."""
        values = self.values if rows is None else self.values[rows]
        if self.exact:
            return _ranked(self.index, rows, values.copy(), depth)
        threshold = -np.inf
        if depth < len(values):
            threshold = float(np.partition(values, len(values) - depth)[len(values) - depth])
        near = np.flatnonzero((values >= threshold - 2 * HALF_ERROR) & np.isfinite(values))
        if len(near) * GATHER_SHARE > len(self.values):
            return self._all_exact(rows, values, depth)
        at = near if rows is None else rows[near]
        order = np.argsort(at, kind="stable")  # the matrix read in file order
        at, near = at[order], near[order]
        exact = self.index.matrix[at] @ self.query if len(at) else np.zeros(0, np.float32)
        if len(at) and float(np.max(np.abs(exact - values[near]))) > HALF_ERROR:
            return self._all_exact(rows, values, depth)  # this torch does not keep the bound
        return _ranked(self.index, at, exact, depth)

    def _all_exact(self, rows: np.ndarray | None, values: np.ndarray, depth: int) -> list[tuple[str, float]]:
        if self._float32 is None:  # one float32 product per query, however many rankings fall back to it
            self._float32 = self.index.matrix @ self.query
        exact = self._float32.copy() if rows is None else self._float32[rows]
        exact[~np.isfinite(values)] = -np.inf  # excluded stays excluded
        return _ranked(self.index, rows, exact, depth)


def nearest(index: VectorIndex, vector: np.ndarray, limit: int, *, allowed: set[str] | None = None,
            exclude: Iterable[str] = (), half: bool | None = None) -> list[tuple[str, float]]:
    """The ``limit`` stored papers with the highest cosine similarity to ``vector``, best first; only
    ``allowed`` ones when given. Exact: every stored vector is scored.

    ``half``: score on the float16 copy first (True; imports torch), never (False), or when torch is
    already loaded (None)."""
    if len(index) == 0 or limit <= 0 or (allowed is not None and not allowed):
        return []
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    if query.shape[0] != index.dim:
        raise StoreError(f"the query vector has {query.shape[0]} dimensions, the stored "
                         f"{index.model} vectors {index.dim}")
    norm = float(np.linalg.norm(query))
    query = query / (norm or 1.0)
    excluded = index.positions(exclude)
    if allowed is not None and len(allowed) * FEW_ALLOWED < len(index):  # read just those rows
        rows = np.sort(index.positions(allowed))
        rows = rows[~np.isin(rows, excluded)]
        scores = np.concatenate([index.matrix[rows[i:i + 65536]] @ query
                                 for i in range(0, len(rows), 65536)] or [np.zeros(0, np.float32)])
        return _ranked(index, rows, scores, limit)[:limit]
    scored = _Scores(index, query, excluded, half)
    if allowed is None:
        return scored.top(None, limit)[:limit]
    # Many allowed: the best of them are usually near the top of the full ranking, so look there first
    # (expected depth: limit / the allowed share, times four); when the filter and the query disagree,
    # score the allowed rows.
    depth = max(256, 4 * limit * len(index) // len(allowed))
    if depth * 4 < len(index):
        ranked = scored.top(None, depth)
        hits = [(arxiv_id, score) for arxiv_id, score in ranked if arxiv_id in allowed]
        if len(hits) >= limit or len(ranked) < depth:
            return hits[:limit]
    return scored.top(index.positions(allowed), limit)[:limit]


def semantic_search(connection: Any, index: VectorIndex, vector: np.ndarray,
                    filters: Filters = NO_FILTERS, limit: int = 20, exclude: Iterable[str] = (),
                    half: bool | None = None) -> list[tuple[str, float]]:
    """``nearest`` restricted to the papers that pass ``filters`` (checked in SQL only when set)."""
    allowed = filtered_ids(connection, filters) if filters.active else None
    return nearest(index, vector, limit, allowed=allowed, exclude=exclude, half=half)


def fuse(rankings: Sequence[Sequence[str]], limit: int, k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: each list adds ``1 / (k + rank)``; ties go to the smaller id."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, arxiv_id in enumerate(ranking, start=1):
            scores[arxiv_id] = scores.get(arxiv_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
