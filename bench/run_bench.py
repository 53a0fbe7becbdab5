"""Benchmark `paperbot run` against the size of the database: does a run cost more as papers pile up?

Builds a database of N synthetic papers (default 100,000) through the real migrations and the real store,
each with a prediction and a hashing-64 vector (so the run embeds and trains nothing), then times:

    resolve_list: reading the seed list (tests/fixtures/readme/awesome-efficient-diffusion.md) against
                  the store, no network (links and titles only)           median of 3
    candidates:   choosing what to propose                                 median of 3
    run:          a whole dry run (`paperbot run --no-fetch --list ...`), its per-stage timings

Usage:
    python bench/run_bench.py                                  # SQLite, in a temp folder
    python bench/run_bench.py --papers 20000                   # smaller, for a quick look
    python bench/run_bench.py --db postgresql+psycopg://user@host/empty_db   # a PostgreSQL database
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

LIST_FILE = ROOT / "tests" / "fixtures" / "readme" / "awesome-efficient-diffusion.md"
WORDS = ("diffusion", "fast", "sampling", "video", "efficient", "token", "cache", "quantized", "sparse",
         "transformer", "distilled", "latent", "mobile", "attention", "step", "low-bit", "flow", "image")
LABELS = ("distillation", "pruning", "quantization", "other", "irrelevant")
CHUNK = 5000


def build(url: str, n: int) -> None:
    from bot.core.labels import Label
    from bot.core.models import Paper, Prediction
    from db import store
    from db.session import open_database, session_scope

    rng = random.Random(7)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    engine = open_database(url)
    for offset in range(0, n, CHUNK):
        papers, predictions = [], {}
        for i in range(offset, min(n, offset + CHUNK)):
            when = start + timedelta(minutes=37 * i)
            arxiv_id = f"{when:%y%m}.{i % 100_000:05d}"
            title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize() + f" {i}"
            papers.append(Paper(arxiv_id=arxiv_id, title=title, abstract="An abstract. " * 20,
                                authors=("A. Author", "B. Author"), categories=("cs.CV",),
                                primary_category="cs.CV", published=when, updated=when))
            label = Label(rng.choices(LABELS, weights=(2, 2, 2, 4, 90))[0])
            p = rng.uniform(0.66, 0.99)
            probabilities = {x.value: (p if x is label else (1 - p) / 4) for x in Label}
            second = Label.OTHER if label is not Label.OTHER else Label.PRUNING
            predictions[arxiv_id] = Prediction(label, p, probabilities, second, (1 - p) / 4, False, "bench",
                                               "bench-1")
        with session_scope(engine) as session:
            store.upsert_papers(session, papers)
            store.save_predictions(session, predictions)
            store.save_embeddings(session, "hashing-64", [p.arxiv_id for p in papers],
                                  np.random.default_rng(offset).random((len(papers), 64), dtype=np.float32))
    engine.dispose()


def median_seconds(action: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (an empty database); default a temporary SQLite file")
    args = parser.parse_args()

    from bot.awesome.insert import parse_list
    from bot.core.config import Settings
    from bot.pipeline import stages
    from bot.pipeline.run import RunOptions, candidates, run
    from db.session import open_database

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        base = Settings(database_url=url)
        settings = replace(base, classifier=replace(base.classifier, embedding_model="hashing-64"),
                           arxiv=replace(base.arxiv, api_url="http://127.0.0.1:9/api/query",
                                                      max_retries=0))  # nothing listens: no network
        started = time.perf_counter()
        build(url, args.papers)
        built = time.perf_counter() - started
        print(f"built {args.papers:,} papers with predictions and vectors in {built:.1f} s")
        engine = open_database(url)
        doc = parse_list(LIST_FILE.read_text(encoding="utf-8"))

        def resolve() -> stages.Resolution:
            return stages.resolve_list(settings, engine, doc, search=False, hydrate=False)

        resolution = resolve()
        print(f"resolve_list: {median_seconds(resolve):.3f} s ({len(resolution.entries)} list entries)")
        chosen = median_seconds(lambda: candidates(settings, engine, resolution.listed))
        print(f"candidates:   {chosen:.3f} s")
        options = RunOptions(out_dir=Path(folder) / "out", list_path=LIST_FILE, fetch=False)
        started = time.perf_counter()
        outcome = run(settings, engine, options)
        took = time.perf_counter() - started
        timings = ", ".join(f"{step} {seconds:.3f} s" for step, seconds in outcome.report.timings.items())
        print(f"run (dry, no fetch): {took:.3f} s; stages: {timings}")
        engine.dispose()


if __name__ == "__main__":
    main()
