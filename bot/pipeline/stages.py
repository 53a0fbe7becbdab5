"""The pipeline's stages, each with its bookkeeping: fetch, embed, train, classify, resolve the list.

``bot/pipeline/run.py`` orders them for ``paperbot run``; the stage commands (``fetch``, ``embed``,
``classify``, ...) call one each. A fetch records a ``runs`` row (failed ones too); every stage writes its
results in one transaction (embeddings in chunks), so an interrupted or failed stage leaves what was stored
before untouched and the fetch watermark where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.core.config import Settings
from bot.core.errors import BotError
from bot.core.states import RunStatus
from db import store, textcache
from db.session import session_scope

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from bot.awesome.insert import AwesomeList
    from bot.awesome.resolve import Resolution
    from bot.core.models import Prediction
    from classifier.corpus import LabelledPaper
    from classifier.embed import Embedder
    from classifier.model import Model

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class FetchOutcome:
    run_id: int
    kind: str
    window_start: datetime
    window_end: datetime
    fetched: int
    new: int
    updated: int
    unchanged: int
    skipped: int
    requests: int
    status: RunStatus

    def summary(self) -> str:
        window = f"{self.window_start:%Y-%m-%d %H:%M} → {self.window_end:%Y-%m-%d %H:%M} UTC"
        text = (f"fetched {self.fetched} / new {self.new} / updated {self.updated} / "
                f"skipped {self.skipped + self.unchanged} ({window}, {self.requests} requests)")
        if self.status == RunStatus.EMPTY:
            text += "; arXiv returned nothing: the watermark stays put and the next run looks again"
        return text


def fetch_window(settings: Settings, engine: Engine, since: datetime | None,
                 until: datetime | None) -> tuple[datetime, datetime, str]:
    """The window to fetch and the run kind: explicit bounds make a backfill (no watermark change)."""
    now = store.utcnow()
    kind = "backfill" if since is not None or until is not None else "fetch"
    if since is None:
        with session_scope(engine) as session:
            mark = store.watermark(session)
        since = (mark - timedelta(days=settings.arxiv.overlap_days) if mark is not None
                 else now - timedelta(days=settings.arxiv.first_run_days))
    until = until or now
    if since >= until:
        raise BotError(f"empty window: --since {since:%Y-%m-%d %H:%M} is not before --until "
                       f"{until:%Y-%m-%d %H:%M}")
    return since, until, kind


def fetch(settings: Settings, engine: Engine, *, since: datetime | None = None,
          until: datetime | None = None, progress: Progress | None = None) -> FetchOutcome:
    """Fetch every matching paper in the window and upsert it; advance the watermark only on success."""
    from bot.arxiv.client import fetch_papers

    window_start, window_end, kind = fetch_window(settings, engine, since, until)
    with session_scope(engine) as session:
        run_id = store.start_run(session, kind, window_start, window_end)
    with failing_run(engine, run_id):  # the run ends failed on any error, the store's included
        result = fetch_papers(settings.arxiv, window_start, window_end, progress=progress)
        status = RunStatus.EMPTY if getattr(result, "suspicious_empty", False) else RunStatus.SUCCESS
        with session_scope(engine) as session:  # papers and the watermark land together, or not at all
            counts = store.upsert_papers(session, result.papers, run_id)
            store.finish_run(session, run_id, status, fetched=len(result.papers), new=counts.new,
                             updated=counts.updated, skipped=result.skipped, requests=result.requests)
    return FetchOutcome(run_id, kind, window_start, window_end, len(result.papers), counts.new,
                        counts.updated, counts.unchanged, result.skipped, result.requests, status)


def error_text(exc: BaseException) -> str:
    """How a run's error is recorded: a BotError's own message, else its type and message."""
    message, name = str(exc), type(exc).__name__
    return (message if isinstance(exc, BotError) else f"{name}: {message}") if message else name


@contextmanager
def failing_run(engine: Engine, run_id: int) -> Iterator[None]:
    """Record the run as failed when the block raises anything (Ctrl-C and ``SystemExit`` too), then let
    the exception go on. When even that write fails (the database gone), it is logged and the original
    exception still wins; the next run closes the row once it is stale (``store.STALE_RUN_AFTER``)."""
    try:
        yield
    except BaseException as exc:
        try:
            with session_scope(engine) as session:
                store.finish_run(session, run_id, RunStatus.FAILED, error=error_text(exc))
        except Exception as again:  # noqa: BLE001 - the original error is the one to report
            log.error("cannot record run %d as failed: %s", run_id, again)
        raise


# --- embed and classify -----------------------------------------------------------------------------

EMBED_CHUNK = 256  # papers embedded and committed together: an interruption keeps the finished chunks


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder (the real model loads lazily, on the first ``embed`` call)."""
    from classifier.embed import MODEL_NAME, HashingEmbedder, SentenceTransformerEmbedder

    name = settings.classifier.embedding_model
    if name == MODEL_NAME:
        return SentenceTransformerEmbedder()
    return HashingEmbedder(int(name.split("-", 1)[1]))


def embed(engine: Engine, embedder: Embedder, *, progress: Progress | None = None) -> int:
    """Embed every paper that has no vector for this model yet; returns how many were embedded."""
    from classifier.embed import paper_text

    with session_scope(engine) as session:
        papers = store.papers_without_embedding(session, embedder.name)
    done = 0
    for start in range(0, len(papers), EMBED_CHUNK):
        chunk = papers[start:start + EMBED_CHUNK]
        vectors = embedder.embed([paper_text(p.title, p.abstract) for p in chunk])
        with session_scope(engine) as session:
            store.save_embeddings(session, embedder.name, [p.arxiv_id for p in chunk], vectors)
        done += len(chunk)
        if progress:
            progress(done, len(papers))
    return done


def text_vectors(engine: Engine, embedder: Embedder, texts: list[str], *,
                 progress: Progress | None = None, shipped_file: Path | None = None) -> np.ndarray:
    """Vectors for arbitrary texts (one row per text, float32): the shipped corpus vectors
    (``classifier/corpus_vectors.py``; ``shipped_file`` names another file of them) for the texts they hold,
    else embedded once per model and cached in the database. ``progress(done, total)`` follows the
    embedding, when there is any."""
    import numpy as np

    from classifier.corpus_vectors import load

    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    hashes = {t: store.text_hash(t) for t in texts}
    shipped = load(embedder.name, embedder.dim, shipped_file)
    found = shipped.lookup(hashes.values()) if shipped is not None else {}
    from_file = len(found)
    with session_scope(engine) as session:
        found.update(textcache.cached_text_vectors(session, embedder.name,
                                               [t for t, h in hashes.items() if h not in found]))
    missing = sorted(t for t, h in hashes.items() if h not in found)
    if missing:
        cached = len(hashes) - from_file - len(missing)
        why = (f"{from_file} are in the shipped corpus vectors and {cached} in the database; the others are "
               "maintainers' papers or corpus rows edited since the vectors were built" if shipped is not None
               else f"there are no usable shipped corpus vectors for {embedder.name}")
        log.info("embedding %d of %d texts: %s; caching them in the database for later runs",
                 len(missing), len(hashes), why)
        if progress:
            progress(0, len(missing))
        for start in range(0, len(missing), EMBED_CHUNK):
            chunk = missing[start:start + EMBED_CHUNK]
            vectors = embedder.embed(chunk)
            with session_scope(engine) as session:
                textcache.save_text_vectors(session, embedder.name, chunk, vectors)
            found.update({hashes[t]: v for t, v in zip(chunk, vectors, strict=True)})
            if progress:
                progress(start + len(chunk), len(missing))
    return np.stack([found[hashes[t]] for t in texts]).astype(np.float32)


def training_examples(engine: Engine) -> list[LabelledPaper]:
    """The shipped corpus plus the maintainers' own labels (the list, merged and rejected proposals).

    A maintainer's label for a paper replaces the corpus label of the same paper.
    """
    from classifier.corpus import MAINTAINER_WEIGHT, LabelledPaper, training_corpus
    from db.decisions import labelled_papers

    with session_scope(engine) as session:
        decided = labelled_papers(session)
    maintainers = [LabelledPaper(arxiv_id=paper.arxiv_id, title=paper.title, abstract=paper.abstract,
                                 label=label, source=source, weight=MAINTAINER_WEIGHT,
                                 published=paper.published.date().isoformat() if paper.published else None)
                   for paper, label, source in decided]
    overridden = {m.arxiv_id for m in maintainers}
    return [row for row in training_corpus() if row.arxiv_id not in overridden] + maintainers


def train(settings: Settings, engine: Engine, embedder: Embedder, *,
          progress: Progress | None = None) -> Model:
    """Fit the classifier on the corpus and the maintainers' decisions (seconds: the corpus's vectors ship
    with it; ``progress`` follows the embedding of any text they lack)."""
    from classifier.model import train as fit

    examples = training_examples(engine)
    vectors = text_vectors(engine, embedder, [e.text for e in examples], progress=progress)
    return fit(examples, vectors, seed=settings.classifier.seed)


def unclassified_count(engine: Engine) -> int:
    """How many stored papers have no prediction yet (what ``classify`` would predict)."""
    with session_scope(engine) as session:
        return store.count_unclassified(session)


def classify(settings: Settings, engine: Engine, model: Model, embedder: Embedder, *,
             everything: bool = False, progress: Progress | None = None) -> dict[str, Prediction]:
    """Predict a label for every unclassified paper (all papers with ``everything``) and store it."""
    with session_scope(engine) as session:
        papers = store.all_papers(session) if everything else store.unclassified(session)
    if not papers:
        return {}
    embed(engine, embedder, progress=progress)  # a paper without a vector gets one first
    with session_scope(engine) as session:
        ids, vectors = store.load_embeddings(session, embedder.name, [p.arxiv_id for p in papers])
    by_id = {p.arxiv_id: p for p in papers}
    ordered = [by_id[i] for i in ids]
    predictions = model.predict([(p.title, p.abstract) for p in ordered], vectors,
                                review_low=settings.classifier.review_low,
                                review_high=settings.classifier.review_high)
    result = dict(zip(ids, predictions, strict=True))
    with session_scope(engine) as session:
        store.save_predictions(session, result)
    return result


# --- the list ---------------------------------------------------------------------------------------

def resolve_list(settings: Settings, engine: Engine, doc: AwesomeList, *, search: bool = True,
                 hydrate: bool = True, retry_not_found: bool = False,
                 progress: Progress | None = None) -> Resolution:
    """Resolve the list's entries to papers (``bot/awesome/resolve.py``), asking arXiv for the ones the store
    and the shipped corpus do not know (``hydrate``: linked papers by id; ``search``: titles)."""
    from bot.arxiv.client import ArxivLookup
    from bot.awesome.resolve import resolve
    from bot.awesome.titles import normalize_title
    from classifier.corpus import training_corpus

    corpus_titles = {normalize_title(row.title): row.arxiv_id for row in training_corpus() if row.arxiv_id}
    return resolve(settings, engine, doc, lookup=ArxivLookup(settings.arxiv), corpus_titles=corpus_titles,
                   search=search, hydrate=hydrate, retry_not_found=retry_not_found, progress=progress)

