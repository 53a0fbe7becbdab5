"""Cached vectors of texts that are not papers in the store (``text_embeddings``): the training texts the
shipped corpus vectors lack, keyed by ``db.store.text_hash`` (sha256) and embedding model. Written and read by
``bot.pipeline.stages.text_vectors``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.schema import TextEmbeddingRow
from db.store import chunks, text_hash
from db.upsert import upsert


def cached_text_vectors(session: Session, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Stored vectors for these texts under ``model``, keyed by text hash."""
    found: dict[str, np.ndarray] = {}
    for chunk in chunks(sorted({text_hash(t) for t in texts})):
        rows = session.execute(select(TextEmbeddingRow.text_hash, TextEmbeddingRow.vector).where(
            TextEmbeddingRow.model == model, TextEmbeddingRow.text_hash.in_(chunk))).all()
        for row in rows:
            found[row.text_hash] = np.frombuffer(row.vector, dtype="<f4").astype(np.float32)
    return found


def save_text_vectors(session: Session, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
    matrix = np.ascontiguousarray(vectors, dtype="<f4")
    upsert(session, TextEmbeddingRow, [
        {"text_hash": text_hash(text), "model": model, "dim": int(vector.shape[0]),
         "vector": vector.tobytes()} for text, vector in zip(texts, matrix, strict=True)])
