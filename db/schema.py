"""SQLAlchemy 2 declarative schema: the tables paperbot keeps.

Read by the Alembic migrations (as ``target_metadata``, for ``alembic check``) and by ``db/store.py``. The
schema itself changes only through migrations in ``migrations/versions``; this module must describe the
head revision. Tables are plain (JSON lists as text, times as ISO text via SQLAlchemy ``DateTime``) so
the file opens in datasette or any SQLite tool.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.core.states import RunStatus

# Named constraints from day one: SQLite's batch migrations cannot drop unnamed ones.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The keyword indexes live outside the ORM metadata: SQLite's FTS5 tables and their shadow tables
# (migration 0005), and PostgreSQL's generated ``papers.search`` tsvector with its GIN index and the
# newest-first index of browsing and exports (0010).
FTS_PREFIX = "papers_fts"
SEARCH_COLUMN = "search"
# PostgreSQL's GIN index, the newest-first order (both backends since 0012), and the export's check for
# papers without csv_fields (PostgreSQL, 0012): migrations alone manage them
SEARCH_INDEXES = ("ix_papers_search", "ix_papers_newest", "ix_papers_csv_missing")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic autogenerate filter: leave the keyword and query-side indexes alone."""
    if type_ == "table" and name is not None and name.startswith(FTS_PREFIX):
        return False
    if type_ == "column" and name == SEARCH_COLUMN and getattr(getattr(obj, "table", None), "name", "") \
            == "papers":
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Run(Base):
    """One invocation of a pipeline stage (fetch, run): when, what window, what came of it."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="fetch")
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING.value, index=True)
    window_start: Mapped[datetime | None] = mapped_column(DateTime)
    window_end: Mapped[datetime | None] = mapped_column(DateTime)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class PaperRow(Base):
    """Every paper the bot has seen, keyed by the arXiv id without version."""

    __tablename__ = "papers"

    arxiv_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of names
    categories: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    primary_category: Mapped[str | None] = mapped_column(String(40), index=True)
    published: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    updated: Mapped[datetime | None] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(200))
    # bot.core.text.title_key(title): the list's titles are looked up by it (migration 0011)
    title_key: Mapped[str | None] = mapped_column(String(250), index=True)
    # the CSV text of the paper's own fields, kept by triggers for paperbot export (migration 0012)
    csv_fields: Mapped[str | None] = mapped_column(Text)
    first_seen_run: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    last_seen_run: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))


class EmbeddingRow(Base):
    """One vector per paper and embedding model (float32, little-endian)."""

    __tablename__ = "embeddings"

    arxiv_id: Mapped[str] = mapped_column(
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    # the vector index's staleness check: count and newest per model (migration 0013)
    __table_args__ = (Index("ix_embeddings_model_created_at", "model", "created_at"),)


class ClassificationRow(Base):
    """The latest prediction for a paper."""

    __tablename__ = "classifications"

    arxiv_id: Mapped[str] = mapped_column(
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(20), index=True)
    probability: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[str] = mapped_column(Text)  # JSON {label: probability} over all five labels
    # the least probability any of the model's views gives the label; NULL when stored before revision 0014
    consensus: Mapped[float | None] = mapped_column(Float, nullable=True)
    runner_up: Mapped[str] = mapped_column(String(20))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    model_version: Mapped[str] = mapped_column(String(200))  # CODE_VERSION@hash: 67 characters today
    classified_at: Mapped[datetime] = mapped_column(DateTime)


class ListEntryRow(Base):
    """An entry of the awesome list on the default branch, as last read; rebuilt on every read."""

    __tablename__ = "list_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    venue: Mapped[str | None] = mapped_column(Text)  # the list's own tag, any length
    arxiv_id: Mapped[str | None] = mapped_column(
        ForeignKey("papers.arxiv_id", ondelete="SET NULL"), index=True)
    # link | title | search | not-found | unresolved
    resolved_by: Mapped[str] = mapped_column(String(20), default="unresolved")
    line_no: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(DateTime)
    # not-found entries: when arXiv was last searched for the title (searched again once it is old enough)
    looked_up_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


OPEN_PROPOSAL = "state = 'open'"  # the conditions of proposals' two partial unique indexes
DECIDED_PROPOSAL = "state IN ('merged', 'rejected')"


class ProposalRow(Base):
    """A paper the bot put in a pull request, and what the maintainers decided."""

    __tablename__ = "proposals"
    # One open proposal per paper, one decision per paper and pull request (migration 0011): two runs at
    # once cannot record a proposal twice; the writers in db/decisions.py insert ON CONFLICT.
    __table_args__ = (
        Index("uq_proposals_open_arxiv_id", "arxiv_id", unique=True, sqlite_where=text(OPEN_PROPOSAL),
              postgresql_where=text(OPEN_PROPOSAL)),
        Index("uq_proposals_decided_arxiv_id", "arxiv_id", "pr_number", unique=True,
              sqlite_where=text(DECIDED_PROPOSAL), postgresql_where=text(DECIDED_PROPOSAL)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(20))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)  # a ProposalState value
    final_label: Mapped[str | None] = mapped_column(String(20))
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class TextEmbeddingRow(Base):
    """Cached vectors of texts that are not papers in the store: the training texts that the shipped corpus
    vectors (``classifier/data/corpus-vectors.npz``) lack, such as maintainers' papers and edited rows."""

    __tablename__ = "text_embeddings"

    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the text
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class JudgeVerdictRow(Base):
    """The LLM judge's verdict on a paper, per judge model and prompt version: a rerun asks nothing again."""

    __tablename__ = "judge_verdicts"

    arxiv_id: Mapped[str] = mapped_column(
        ForeignKey("papers.arxiv_id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_version: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    secondary: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    judged_at: Mapped[datetime] = mapped_column(DateTime)
