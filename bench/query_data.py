"""The synthetic paper database of bench/query_bench.py, on SQLite or PostgreSQL.

Papers with titles, abstracts and authors made from a small vocabulary, a label each, 384-dimensional
vectors around 40 cluster centres, predictions, some list entries and proposals: the same rows (same seed)
on either backend. The schema comes from the real Alembic migrations; rows are bulk-inserted (SQLite's FTS
triggers index them; PostgreSQL's COPY).
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

DIM = 384
CLUSTERS = 40
LABELS = ("distillation", "pruning", "quantization", "other", "irrelevant")
LABEL_WEIGHTS = (0.08, 0.08, 0.08, 0.16, 0.60)

FAMILY = ["diffusion model", "latent diffusion", "stable diffusion", "diffusion transformer", "DiT",
          "video diffusion model", "text-to-image model", "consistency model", "flow matching model",
          "rectified flow", "score-based model", "text-to-video generator", "image editing model",
          "3D generative model", "audio diffusion model", "masked generative transformer", "U-Net denoiser",
          "large language model", "vision transformer", "autoregressive image model"]
TECHNIQUE = {
    "distillation": ["progressive distillation", "consistency distillation", "adversarial distillation",
                     "score distillation", "distribution matching distillation", "one-step distillation",
                     "few-step sampling", "teacher-student training", "trajectory distillation"],
    "pruning": ["structured pruning", "token merging", "token pruning", "feature caching", "layer skipping",
                "sparse attention", "block caching", "channel pruning", "early exiting", "dynamic sparsity"],
    "quantization": ["post-training quantization", "quantization-aware training", "4-bit quantization",
                     "W4A8 quantization", "mixed-precision quantization", "binarization", "int8 inference",
                     "low-bit weights", "activation quantization", "timestep-aware calibration"],
    "other": ["efficient sampler", "ODE solver", "parallel sampling", "linear attention",
              "speculative decoding",
              "neural architecture search", "mobile deployment", "memory-efficient attention",
              "low-rank adaptation", "latency-aware design"],
    "irrelevant": ["reinforcement learning", "graph neural network", "contrastive learning",
                   "federated learning",
                   "retrieval augmentation", "medical segmentation", "object detection", "speech recognition",
                   "KV caching", "protein folding", "weather forecasting", "robot manipulation"],
}
VERBS = ["Accelerating", "Compressing", "Towards Efficient", "Rethinking", "Scaling", "Revisiting",
         "Improving", "Learning", "Fast", "Training-Free", "Efficient", "Lightweight"]
NOUNS = ["Generation", "Sampling", "Inference", "Synthesis", "Editing", "Deployment", "Denoising",
         "Super-Resolution", "Inpainting", "Video Generation", "Image Synthesis"]
CLAIMS = ["reduces latency by {n}x", "keeps FID within {f} of the baseline",
          "runs on a mobile phone in {n} seconds", "cuts memory by {p}%", "needs only {n} sampling steps",
          "matches the teacher with {p}% fewer parameters",
          "improves CLIP score by {f}", "speeds up inference {n}x on an A100"]
SENTENCES = ["{Family}s achieve remarkable quality but are slow at inference.",
             "We propose {Name}, a {technique} method for {family}s.",
             "Our approach combines {technique} with {technique2}.",
             "Experiments on ImageNet, COCO and MS-COCO show that {Name} {claim}.",
             "Unlike prior work, {Name} requires no retraining and {claim}.",
             "We analyse the {noun} process and find that {technique} is key.",
             "Code is available on GitHub.",
             "On UCF-101 and WebVid, our method {claim} while preserving temporal consistency.",
             "We further show that {technique2} is complementary."]
FIRST = ["Wei", "Li", "Jun", "Anna", "Maria", "David", "Yuki", "Chen", "Sofia", "Ahmed", "Jürgen", "Zoë",
         "Ravi", "Olga", "Lucas", "Hana", "Tomás", "Priya", "Kenji", "Emma", "Noah", "Amir", "Ling", "Sara"]
LAST = ["Zhang", "Wang", "Li", "Liu", "Chen", "Smith", "Müller", "Garcia", "Kim", "Park", "Nguyen", "Ito",
        "Rossi", "Novak", "Kumar", "Silva", "Cohen", "Tanaka", "Ivanova", "Dubois", "Hoffman", "Bolya", "Ho"]
CATEGORIES = ["cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV"]


def words(rng: random.Random) -> dict[str, str]:
    label = rng.choices(LABELS, LABEL_WEIGHTS)[0]
    family = rng.choice(FAMILY)
    technique, technique2 = rng.sample(TECHNIQUE[label], 2)
    name = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(rng.randint(2, 4))) + rng.choice(
        ["-Diff", "Fusion", "Cache", "Q", "Prune", "-DiT", "LCM", "Distill", "Net", ""])
    return {"label": label, "family": family, "Family": family[0].upper() + family[1:],
            "technique": technique, "technique2": technique2, "Name": name, "noun": rng.choice(NOUNS).lower()}


def make_paper(rng: random.Random, i: int, start: datetime) -> tuple[tuple, str, int]:
    w = words(rng)
    title = rng.choice([
        f"{w['Name']}: {rng.choice(VERBS)} {w['Family']}s with {w['technique'].title()}",
        f"{rng.choice(VERBS)} {w['Family']} {rng.choice(NOUNS)} via {w['technique'].title()}",
        f"{w['technique'].title()} for {rng.choice(VERBS)} {w['Family']}s",
        f"{w['Name']}: {w['technique'].title()} Meets {w['technique2'].title()} for {rng.choice(NOUNS)}",
    ])
    claim = rng.choice(CLAIMS).format(n=rng.randint(2, 20), f=round(rng.uniform(0.1, 3), 1),
                                      p=rng.randint(10, 90))
    sentences = rng.sample(SENTENCES, rng.randint(4, 7))
    abstract = " ".join(s.format(claim=claim, **w) for s in sentences)
    authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 8))]
    published = start + timedelta(minutes=int(i * 0.9 * 24 * 60 * 6 * 365 / 100_000))
    year_month = published.strftime("%y%m")
    arxiv_id = f"{year_month}.{i:05d}"
    categories = rng.sample(CATEGORIES, rng.randint(1, 3))
    stamp = published.strftime("%Y-%m-%d %H:%M:%S.%f")
    row = (arxiv_id, 1, title, abstract, json.dumps(authors, ensure_ascii=False), json.dumps(categories),
           categories[0], stamp, stamp)
    cluster = LABELS.index(w["label"]) * (CLUSTERS // len(LABELS)) + rng.randrange(CLUSTERS // len(LABELS))
    return row, w["label"], cluster


PAPER_COLUMNS = ("arxiv_id", "version", "title", "abstract", "authors", "categories", "primary_category",
                 "published", "updated")
TABLES = {
    "papers": PAPER_COLUMNS,
    "embeddings": ("arxiv_id", "model", "dim", "vector", "created_at"),
    "classifications": ("arxiv_id", "label", "probability", "probabilities", "runner_up", "needs_review",
                        "reason", "model_version", "classified_at"),
    "list_entries": ("section", "label", "title", "venue", "arxiv_id", "resolved_by", "line_no", "read_at"),
    "proposals": ("arxiv_id", "label", "pr_number", "state", "final_label", "proposed_at", "decided_at"),
}


def batches(papers: int, seed: int = 0, batch: int = 5000) -> Iterator[dict[str, list[tuple]]]:
    """The rows of every table, ``batch`` papers at a time (deterministic for a seed)."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    centers = nprng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    start = datetime(2020, 1, 1)
    now = datetime(2026, 11, 25).strftime("%Y-%m-%d %H:%M:%S.%f")
    for offset in range(0, papers, batch):
        rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
        count = min(batch, papers - offset)
        noise = nprng.standard_normal((count, DIM)).astype(np.float32)
        for j in range(count):
            i = offset + j
            row, label, cluster = make_paper(rng, i, start)
            rows["papers"].append(row)
            vector = centers[cluster] + 1.5 * noise[j]
            vector /= np.linalg.norm(vector)
            rows["embeddings"].append((row[0], "all-MiniLM-L6-v2", DIM, vector.astype("<f4").tobytes(), now))
            p = rng.uniform(0.4, 0.99)
            rest = (1 - p) / 4
            probabilities = {x: (p if x == label else rest) for x in LABELS}
            runner_up = next(x for x in LABELS if x != label)
            rows["classifications"].append((row[0], label, p, json.dumps(probabilities, sort_keys=True),
                                            runner_up, p < 0.65, "nearest labelled papers agree", "bench-1",
                                            now))
            if label != "irrelevant" and rng.random() < 0.05:
                rows["list_entries"].append((label, label, row[2], "arxiv", row[0], "title", i, now))
            elif label != "irrelevant" and rng.random() < 0.08:
                state = rng.choice(["open", "merged", "rejected", "withdrawn"])
                final = label if state == "merged" and rng.random() < 0.8 else (
                    rng.choice(LABELS[:4]) if state == "merged" else None)
                rows["proposals"].append((row[0], label, rng.randint(1, 400), state, final, now,
                                          now if state != "open" else None))
        yield rows
        print(f"\r  built {offset + count:,} papers", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def _migrate(url: str) -> None:
    from db.session import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def build_sqlite(path: Path, papers: int, seed: int = 0) -> None:
    _migrate(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for rows in batches(papers, seed):
        with connection:
            for table, columns in TABLES.items():
                marks = ", ".join("?" for _ in columns)
                connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                       rows[table])
    with connection:
        connection.execute("INSERT INTO papers_fts(papers_fts) VALUES ('optimize')")
    connection.execute("ANALYZE")
    connection.close()


def build_postgres(url: str, papers: int, seed: int = 0) -> None:
    """The same rows on PostgreSQL (``COPY``); ``url`` is a ``postgresql+psycopg://`` URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    _migrate(url)
    parsed = make_url(url)
    with psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
                         dbname=parsed.database) as connection:
        for rows in batches(papers, seed):
            with connection.cursor() as cursor:
                for table, columns in TABLES.items():
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows[table]:
                            copy.write_row(row)
            connection.commit()
        connection.execute("ANALYZE")
        connection.commit()


def paper_count(url: str) -> int:
    """Papers stored at ``url`` (0 for a database without the table)."""
    from db.query import connect

    try:
        connection = connect(url)
    except Exception:  # noqa: BLE001 - no database or no schema yet: nothing built
        return 0
    try:
        return int(connection.execute("SELECT count(*) FROM papers").fetchone()[0])
    finally:
        connection.close()


def start_postgres(folder: Path) -> tuple[str, list[str]]:
    """A local PostgreSQL server with its data in ``folder`` (initdb'd on first use), as tests/support/
    postgres.py starts one (as ``nobody`` when root); returns the URL of database ``bench`` and the stop
    command."""
    from tests.support.postgres import USER, start_cluster

    try:
        port, stop = start_cluster(folder, "-c shared_buffers=512MB -c max_wal_size=4GB", "fast")
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres",
                         autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone() is None:
            connection.execute("CREATE DATABASE bench")
    return f"postgresql+psycopg://{USER}@127.0.0.1:{port}/bench", stop
