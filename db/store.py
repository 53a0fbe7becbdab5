"""Every SQL statement about papers, runs, embeddings and predictions.

Callers pass a Session from ``db.session.session_scope`` and get plain ``bot.core.models`` objects back:
nothing outside ``db/`` handles an ORM row. Times are stored as naive UTC and returned tz-aware.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.core.labels import Label
from bot.core.models import Paper, Prediction
from bot.core.states import RunStatus
from db.schema import ClassificationRow, EmbeddingRow, PaperRow, Run


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


# --- runs -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    window_start: datetime | None
    window_end: datetime | None
    fetched: int
    new: int
    updated: int
    skipped: int
    requests: int
    error: str | None


def _run_info(row: Run) -> RunInfo:
    return RunInfo(row.id, row.kind, from_db(row.started_at) or utcnow(), from_db(row.finished_at),
                   RunStatus(row.status), from_db(row.window_start), from_db(row.window_end), row.fetched,
                   row.new, row.updated, row.skipped, row.requests, row.error)


# A run still "running" after this long belongs to a process that died (a killed job, a lost machine): the
# next run closes it as failed. The cron job's own limit is 45 minutes.
STALE_RUN_AFTER = timedelta(hours=6)


def start_run(session: Session, kind: str, window_start: datetime | None = None,
              window_end: datetime | None = None) -> int:
    """Record a new run as running; close any run left running for longer than ``STALE_RUN_AFTER``."""
    now = utcnow()
    stale = session.scalars(select(Run).where(Run.status == RunStatus.RUNNING,
                                              Run.started_at < to_db(now - STALE_RUN_AFTER)))
    for old in stale:
        old.status, old.finished_at = RunStatus.FAILED, to_db(now)
        old.error = f"never finished: still running after {STALE_RUN_AFTER.total_seconds() / 3600:g} hours"
    row = Run(kind=kind, started_at=to_db(now), status=RunStatus.RUNNING,
              window_start=to_db(window_start), window_end=to_db(window_end), fetched=0, new=0, updated=0,
              skipped=0, requests=0)
    session.add(row)
    session.flush()
    return row.id


def finish_run(session: Session, run_id: int, status: RunStatus, *, error: str | None = None,
               **counts: int) -> None:
    row = session.get(Run, run_id)
    if row is None:
        raise KeyError(run_id)
    row.status = status
    row.finished_at = to_db(utcnow())
    row.error = error
    for key, value in counts.items():
        setattr(row, key, value)


def watermark(session: Session) -> datetime | None:
    """The end of the window of the last fetch that succeeded completely."""
    value = session.scalar(select(func.max(Run.window_end)).where(Run.status == RunStatus.SUCCESS,
                                                                   Run.kind == "fetch"))
    return from_db(value)


def recent_runs(session: Session, limit: int = 20) -> list[RunInfo]:
    rows = session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))
    return [_run_info(row) for row in rows]


def runs_since(session: Session, since: datetime) -> list[RunInfo]:
    rows = session.scalars(select(Run).where(Run.started_at >= to_db(since)).order_by(Run.id))
    return [_run_info(row) for row in rows]


# --- papers -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def paper_from_row(row: PaperRow) -> Paper:
    return Paper(
        arxiv_id=row.arxiv_id, title=row.title, abstract=row.abstract, version=row.version,
        authors=tuple(json.loads(row.authors)), categories=tuple(json.loads(row.categories)),
        primary_category=row.primary_category, published=from_db(row.published),
        updated=from_db(row.updated), comment=row.comment, journal_ref=row.journal_ref, doi=row.doi)


def _values(paper: Paper) -> dict[str, object]:
    return {
        "version": paper.version, "title": paper.title, "abstract": paper.abstract,
        "authors": json.dumps(list(paper.authors), ensure_ascii=False),
        "categories": json.dumps(list(paper.categories)), "primary_category": paper.primary_category,
        "published": to_db(paper.published), "updated": to_db(paper.updated), "comment": paper.comment,
        "journal_ref": paper.journal_ref, "doi": paper.doi,
    }


def upsert_papers(session: Session, papers: Iterable[Paper], run_id: int | None = None) -> UpsertCounts:
    """Insert new papers; refresh known ones from a newer (or equal) version. Keyed on the base id."""
    new = updated = unchanged = 0
    latest: dict[str, Paper] = {}
    for paper in papers:  # one row per base id even if a batch holds v1 and v2
        kept = latest.get(paper.arxiv_id)
        if kept is None or paper.version >= kept.version:
            latest[paper.arxiv_id] = paper
    existing = {row.arxiv_id: row for row in session.scalars(
        select(PaperRow).where(PaperRow.arxiv_id.in_(list(latest))))} if latest else {}
    for arxiv_id, paper in latest.items():
        row = existing.get(arxiv_id)
        values = _values(paper)
        if row is None:
            session.add(PaperRow(arxiv_id=arxiv_id, first_seen_run=run_id, last_seen_run=run_id,
                                 **values))
            new += 1
            continue
        row.last_seen_run = run_id if run_id is not None else row.last_seen_run
        if paper.version < row.version:
            unchanged += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(row, key, value)
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return UpsertCounts(new, updated, unchanged)


def get_paper(session: Session, arxiv_id: str) -> Paper | None:
    row = session.get(PaperRow, arxiv_id)
    return None if row is None else paper_from_row(row)


def get_papers(session: Session, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
    rows = session.scalars(select(PaperRow).where(PaperRow.arxiv_id.in_(list(arxiv_ids))))
    return {row.arxiv_id: paper_from_row(row) for row in rows}


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PaperRow)) or 0


# --- embeddings -------------------------------------------------------------------------------------

def papers_without_embedding(session: Session, model: str) -> list[Paper]:
    have = select(EmbeddingRow.arxiv_id).where(EmbeddingRow.model == model)
    rows = session.scalars(select(PaperRow).where(PaperRow.arxiv_id.not_in(have))
                           .order_by(PaperRow.arxiv_id))
    return [paper_from_row(row) for row in rows]


def save_embeddings(session: Session, model: str, arxiv_ids: Sequence[str], vectors: np.ndarray) -> None:
    if len(arxiv_ids) != len(vectors):
        raise ValueError("one vector per paper")
    matrix = np.ascontiguousarray(vectors, dtype="<f4")
    now = to_db(utcnow())
    for arxiv_id, vector in zip(arxiv_ids, matrix, strict=True):
        session.merge(EmbeddingRow(arxiv_id=arxiv_id, model=model, dim=int(vector.shape[0]),
                                   vector=vector.tobytes(), created_at=now))
    session.flush()


def load_embeddings(session: Session, model: str,
                    arxiv_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """``(ids, matrix)`` of stored vectors for ``model``; all of them when ``arxiv_ids`` is None."""
    query = select(EmbeddingRow.arxiv_id, EmbeddingRow.dim, EmbeddingRow.vector).where(
        EmbeddingRow.model == model)
    if arxiv_ids is not None:
        query = query.where(EmbeddingRow.arxiv_id.in_(list(arxiv_ids)))
    rows = session.execute(query.order_by(EmbeddingRow.arxiv_id)).all()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = np.frombuffer(b"".join(row.vector for row in rows), dtype="<f4").reshape(len(rows), -1)
    return [row.arxiv_id for row in rows], matrix.astype(np.float32)


# --- predictions ------------------------------------------------------------------------------------

def _without_prediction() -> ColumnElement[bool]:
    return PaperRow.arxiv_id.not_in(select(ClassificationRow.arxiv_id))


def unclassified(session: Session) -> list[Paper]:
    rows = session.scalars(select(PaperRow).where(_without_prediction()).order_by(PaperRow.arxiv_id))
    return [paper_from_row(row) for row in rows]


def count_unclassified(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PaperRow).where(_without_prediction())) or 0


def all_papers(session: Session) -> list[Paper]:
    return [paper_from_row(row) for row in session.scalars(select(PaperRow).order_by(PaperRow.arxiv_id))]


def save_predictions(session: Session, predictions: dict[str, Prediction]) -> None:
    now = to_db(utcnow())
    for arxiv_id, p in predictions.items():
        session.merge(ClassificationRow(
            arxiv_id=arxiv_id, label=p.label.value, probability=p.probability,
            probabilities=json.dumps(p.probabilities, sort_keys=True), runner_up=p.runner_up.value,
            needs_review=p.needs_review, reason=p.reason, model_version=p.model_version,
            classified_at=now))
    session.flush()


def _prediction(row: ClassificationRow) -> Prediction:
    probabilities = json.loads(row.probabilities)
    return Prediction(
        label=Label(row.label), probability=row.probability, probabilities=probabilities,
        runner_up=Label(row.runner_up), runner_up_probability=probabilities.get(row.runner_up, 0.0),
        needs_review=row.needs_review, reason=row.reason, model_version=row.model_version)


def get_prediction(session: Session, arxiv_id: str) -> tuple[Prediction, datetime] | None:
    row = session.get(ClassificationRow, arxiv_id)
    if row is None:
        return None
    return _prediction(row), from_db(row.classified_at) or utcnow()


def predictions(session: Session) -> dict[str, Prediction]:
    return {row.arxiv_id: _prediction(row) for row in session.scalars(select(ClassificationRow))}


def text_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_text_vectors(session: Session, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Stored vectors for these texts under ``model``, keyed by text hash."""
    from db.schema import TextEmbeddingRow

    hashes = sorted({text_hash(t) for t in texts})
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(hashes), 500):
        chunk = hashes[start:start + 500]
        rows = session.execute(select(TextEmbeddingRow.text_hash, TextEmbeddingRow.vector).where(
            TextEmbeddingRow.model == model, TextEmbeddingRow.text_hash.in_(chunk))).all()
        for row in rows:
            found[row.text_hash] = np.frombuffer(row.vector, dtype="<f4").astype(np.float32)
    return found


def save_text_vectors(session: Session, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
    from db.schema import TextEmbeddingRow

    matrix = np.ascontiguousarray(vectors, dtype="<f4")
    for text, vector in zip(texts, matrix, strict=True):
        session.merge(TextEmbeddingRow(text_hash=text_hash(text), model=model,
                                       dim=int(vector.shape[0]), vector=vector.tobytes()))
    session.flush()
