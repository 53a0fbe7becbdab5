"""Every SQL statement about papers, runs, embeddings and predictions.

Callers pass a Session from ``db.session.session_scope`` and get plain ``bot.core.models`` objects back:
nothing outside ``db/`` handles an ORM row. Times are stored as naive UTC and returned tz-aware.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Table, case, func, select
from sqlalchemy.orm import Session

from bot.core.labels import Label
from bot.core.models import Paper, Prediction
from bot.core.states import RunStatus
from bot.core.text import title_key
from db.schema import ClassificationRow, EmbeddingRow, PaperRow, Run
from db.upsert import upsert


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


_VALUE_COLUMNS = ("version", "title", "abstract", "authors", "categories", "primary_category", "published",
                  "updated", "comment", "journal_ref", "doi", "title_key")


def _values(paper: Paper) -> dict[str, object]:
    return {
        "version": paper.version, "title": paper.title, "abstract": paper.abstract,
        "authors": json.dumps(list(paper.authors), ensure_ascii=False),
        "categories": json.dumps(list(paper.categories)), "primary_category": paper.primary_category,
        "published": to_db(paper.published), "updated": to_db(paper.updated), "comment": paper.comment,
        "journal_ref": paper.journal_ref, "doi": paper.doi, "title_key": title_key(paper.title),
    }


CHUNK = 500  # ids per IN (...): well inside SQLite's and PostgreSQL's bound-parameter limits


def chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = list(values)
    return (ordered[start:start + CHUNK] for start in range(0, len(ordered), CHUNK))


def _stored(session: Session, arxiv_ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    """The stored values of these papers (plain rows: nothing enters the session's identity map)."""
    table = PaperRow.__table__
    found: dict[str, Mapping[str, Any]] = {}
    for chunk in chunks(arxiv_ids):
        rows = session.execute(select(table).where(table.c.arxiv_id.in_(chunk)))
        found.update({row.arxiv_id: row._mapping for row in rows})
    return found


def _refresh_if_not_older(table: Table, excluded: Any) -> dict[str, ColumnElement[Any]]:
    """The update of a known paper: its values from a newer-or-equal version only; ``last_seen_run`` from
    every sighting; ``first_seen_run`` never."""
    newer = excluded.version >= table.c.version
    update: dict[str, ColumnElement[Any]] = {
        name: case((newer, excluded[name]), else_=table.c[name]) for name in _VALUE_COLUMNS}
    update["last_seen_run"] = func.coalesce(excluded.last_seen_run, table.c.last_seen_run)
    return update


def upsert_papers(session: Session, papers: Iterable[Paper], run_id: int | None = None) -> UpsertCounts:
    """Insert new papers; refresh known ones from a newer (or equal) version. Keyed on the base id.

    The counts come from what was stored before the write; the write itself is one ``INSERT ... ON
    CONFLICT`` (``db/upsert.py``), so a paper another process stored meanwhile is refreshed by the same
    rule (the higher version wins), never a failure.
    """
    new = updated = unchanged = 0
    latest: dict[str, Paper] = {}
    for paper in papers:  # one row per base id even if a batch holds v1 and v2
        kept = latest.get(paper.arxiv_id)
        if kept is None or paper.version >= kept.version:
            latest[paper.arxiv_id] = paper
    existing = _stored(session, list(latest))
    rows: list[dict[str, object]] = []
    for arxiv_id, paper in latest.items():
        values = _values(paper)
        rows.append({"arxiv_id": arxiv_id, **values, "first_seen_run": run_id, "last_seen_run": run_id})
        row = existing.get(arxiv_id)
        if row is None:
            new += 1
        elif paper.version < row["version"]:
            unchanged += 1
        elif any(row[k] != v for k, v in values.items()):
            updated += 1
        else:
            unchanged += 1
    upsert(session, PaperRow, rows, set_=_refresh_if_not_older, keep=("first_seen_run",))
    return UpsertCounts(new, updated, unchanged)


def get_paper(session: Session, arxiv_id: str) -> Paper | None:
    row = session.get(PaperRow, arxiv_id)
    return None if row is None else paper_from_row(row)


def get_papers(session: Session, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
    found: dict[str, Paper] = {}
    for chunk in chunks(arxiv_ids):
        found.update({row.arxiv_id: paper_from_row(row)
                      for row in session.scalars(select(PaperRow).where(PaperRow.arxiv_id.in_(chunk)))})
    return found


def known_ids(session: Session, arxiv_ids: Iterable[str]) -> set[str]:
    """Which of these ids the store holds (an indexed look-up, whatever the size of the store)."""
    found: set[str] = set()
    for chunk in chunks(arxiv_ids):
        found.update(session.scalars(select(PaperRow.arxiv_id).where(PaperRow.arxiv_id.in_(chunk))))
    return found


def ids_by_title(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """The stored paper of each title key found (``bot.core.text.title_key``; indexed): the highest id."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted({key for key in keys if key})):
        rows = session.execute(select(PaperRow.title_key, PaperRow.arxiv_id)
                               .where(PaperRow.title_key.in_(chunk)).order_by(PaperRow.arxiv_id))
        found.update({key: arxiv_id for key, arxiv_id in rows if key})
    return found


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
    upsert(session, EmbeddingRow, [
        {"arxiv_id": arxiv_id, "model": model, "dim": int(vector.shape[0]), "vector": vector.tobytes(),
         "created_at": now} for arxiv_id, vector in zip(arxiv_ids, matrix, strict=True)])


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
    upsert(session, ClassificationRow, [
        {"arxiv_id": arxiv_id, "label": p.label.value, "probability": p.probability,
         "probabilities": json.dumps(p.probabilities, sort_keys=True), "runner_up": p.runner_up.value,
         "needs_review": p.needs_review, "reason": p.reason, "model_version": p.model_version,
         "consensus": p.consensus, "classified_at": now} for arxiv_id, p in predictions.items()])


def _prediction(row: ClassificationRow) -> Prediction:
    probabilities = json.loads(row.probabilities)
    return Prediction(
        label=Label(row.label), probability=row.probability, probabilities=probabilities,
        runner_up=Label(row.runner_up), runner_up_probability=probabilities.get(row.runner_up, 0.0),
        needs_review=row.needs_review, reason=row.reason, model_version=row.model_version,
        consensus=row.consensus)


def get_prediction(session: Session, arxiv_id: str) -> tuple[Prediction, datetime] | None:
    row = session.get(ClassificationRow, arxiv_id)
    if row is None:
        return None
    return _prediction(row), from_db(row.classified_at) or utcnow()


def predictions(session: Session, arxiv_ids: Iterable[str] | None = None, *,
                proposable: bool = False) -> dict[str, Prediction]:
    """Stored predictions: every one, those of ``arxiv_ids``, and with ``proposable`` only those filed under
    a section or needing review (what ``paperbot run`` may propose: not the irrelevant bulk)."""
    query = select(ClassificationRow)
    if proposable:
        query = query.where((ClassificationRow.label != Label.IRRELEVANT.value)
                            | ClassificationRow.needs_review.is_(True))
    if arxiv_ids is None:
        return {row.arxiv_id: _prediction(row) for row in session.scalars(query)}
    return {row.arxiv_id: _prediction(row) for chunk in chunks(arxiv_ids)
            for row in session.scalars(query.where(ClassificationRow.arxiv_id.in_(chunk)))}


def text_hash(text: str) -> str:
    """The key of a text's cached vector (``db/textcache.py``) and of the shipped corpus vectors."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
