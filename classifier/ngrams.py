"""Hashed word and character n-gram counts of paper texts, and the vocabulary a training run keeps.

Runs inside ``classifier.model.train`` (the training papers' counts) and ``Model.predict`` (new papers
counted on the kept columns). Pure: reads texts, returns sparse matrices; writes nothing to disk. Each
training text's hashed row is remembered in memory for the life of the process (``_hashed_row``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)  # character n-grams within words, padded at the word's edges

HASH_BITS = 23  # each n-gram kind is hashed into 2**23 columns; columns kept by min_df are a few 10,000s
MIN_DF = {"words": 2, "chars": 3}  # a term is kept when at least this many training papers use it


@lru_cache(maxsize=1)
def _hashers() -> tuple[Any, ...]:
    from sklearn.feature_extraction.text import HashingVectorizer

    common = {"n_features": 2 ** HASH_BITS, "alternate_sign": False, "norm": None, "dtype": np.float32}
    return (HashingVectorizer(ngram_range=WORD_NGRAMS, **common),
            HashingVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, **common))


def _hash_rows(texts: Sequence[str]) -> Any:
    """Word and character n-gram counts hashed into fixed columns (CSR, one row per text)."""
    import scipy.sparse as sp

    return sp.hstack([hasher.transform(texts) for hasher in _hashers()], format="csr")


# Hashed counts do not depend on the other training papers, so each training text's row is remembered for
# the life of the process: cross-validation, `train --seeds`, `feedback --scores` and a long-running
# `paperbot schedule` train on the same corpus again and again (counting it takes ~6 s of every training).
@lru_cache(maxsize=4096)  # texts, about 14 KB each (1,700 counts)
def _hashed_row(text: str) -> tuple[np.ndarray, np.ndarray]:
    row = _hash_rows([text])
    return row.indices, row.data


def _remembered_rows(texts: Sequence[str]) -> Any:
    import scipy.sparse as sp

    rows = [_hashed_row(text) for text in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(indices) for indices, _ in rows], out=indptr[1:])
    indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int32)
    data = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), 2 * 2 ** HASH_BITS))


@dataclass
class Vocabulary:
    """The hashed columns the training papers share often enough (``MIN_DF``); counts new texts on them."""

    columns: np.ndarray

    def transform(self, texts: Sequence[str]) -> Any:
        return _hash_rows(texts)[:, self.columns]


def count_terms(texts: Sequence[str]) -> tuple[Vocabulary, Any]:
    """The training papers' vocabulary and their counts on it (CSR).

    Raises ValueError when the papers share no word at all (nothing to learn from).
    """
    counts = _remembered_rows(texts)
    columns, document_frequency = np.unique(counts.indices, return_counts=True)  # rows hold each column once
    is_word = columns < 2 ** HASH_BITS
    keep = document_frequency >= np.where(is_word, MIN_DF["words"], MIN_DF["chars"])
    if not np.any(keep & is_word):
        raise ValueError("no word is used by two training papers")
    vocabulary = Vocabulary(columns[keep])
    return vocabulary, counts[:, vocabulary.columns]

