"""Benchmark the query commands on a 100,000-paper database.

Builds the database through the real Alembic migrations (rows bulk-inserted; the FTS triggers index them),
then measures the four targets and prints PASS/MISS for each:

    keyword search, in-process, p95 over ~50 varied queries     < 50 ms
    a fresh `paperbot search` process (p50 of 5 runs)           < 0.5 s
    semantic search after the model is loaded (embed + score)   < 200 ms
    `paperbot export --format csv` of every paper               < 5 s

Usage:
    python bench/query_bench.py                    # build in a temp folder, measure, delete
    python bench/query_bench.py --db bench.db      # build once (if missing) and keep it
    python bench/query_bench.py --papers 20000     # smaller, for a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

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

QUERIES = [
    "token merging", '"token merging"', "quant*", "quantization video diffusion",
    "post-training quantization",
    "W4A8", "4-bit", "distillation", "consistency distillation", "one-step", "few-step sampling", "pruning",
    "structured pruning diffusion transformer", "caching", "feature caching", "block caching", "DiT",
    "stable diffusion mobile", "latency", "sparse attention video", "binarization", "int8", "Müller",
    "Zhang", "authors:Hoffman", "title:accelerating", "NEAR(token merging, 3)", "distill* OR prun*",
    "diffusion NOT video", "efficient sampler", "ODE solver", "speculative decoding", "low-rank adaptation",
    "KV caching", "reinforcement learning", "protein folding", "retrieval augmentation", "diffusion",
    "model", "text-to-image", "cs.CV", "'; DROP TABLE papers; --", '"unbalanced quote', "few-step",
    "扩散模型", "trajectory", "memory-efficient attention", "timestep-aware calibration", "ImageNet",
    "nothing-matches-this-term",
]
FILTERED = [("quantization video", {"labels": ("quantization",)}),
            ("caching", {"labels": ("irrelevant",)}),
            ("diffusion", {"since": datetime(2025, 3, 1)}),
            ("pruning", {"statuses": ("proposed",)}),
            ("distillation", {"categories": ("cs.LG",)})]
SEMANTIC_QUERIES = ["quantizing video diffusion models", "token merging to speed up stable diffusion",
                    "one-step distillation of text-to-image models",
                    "caching features across denoising steps",
                    "pruning attention heads in diffusion transformers", "efficient ODE solvers for sampling",
                    "low-bit weights for DiT", "mobile text-to-image generation", "KV cache for LLM serving",
                    "consistency models"]


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


def build(path: Path, papers: int, seed: int = 0) -> None:
    from db.session import make_engine, upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    centers = nprng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    start = datetime(2020, 1, 1)
    now = datetime(2026, 11, 25).strftime("%Y-%m-%d %H:%M:%S.%f")
    batch = 5000
    for offset in range(0, papers, batch):
        rows, predictions, vectors, entries, proposals = [], [], [], [], []
        count = min(batch, papers - offset)
        noise = nprng.standard_normal((count, DIM)).astype(np.float32)
        for j in range(count):
            i = offset + j
            row, label, cluster = make_paper(rng, i, start)
            rows.append(row)
            vector = centers[cluster] + 1.5 * noise[j]
            vector /= np.linalg.norm(vector)
            vectors.append((row[0], "all-MiniLM-L6-v2", DIM, vector.astype("<f4").tobytes(), now))
            p = rng.uniform(0.4, 0.99)
            rest = (1 - p) / 4
            probabilities = {x: (p if x == label else rest) for x in LABELS}
            runner_up = next(x for x in LABELS if x != label)
            predictions.append((row[0], label, p, json.dumps(probabilities, sort_keys=True), runner_up,
                                p < 0.65, "nearest labelled papers agree", "bench-1", now))
            if label != "irrelevant" and rng.random() < 0.05:
                entries.append((label, label, row[2], "arxiv", row[0], "title", i, now))
            elif label != "irrelevant" and rng.random() < 0.08:
                state = rng.choice(["open", "merged", "rejected", "withdrawn"])
                final = label if state == "merged" and rng.random() < 0.8 else (
                    rng.choice(LABELS[:4]) if state == "merged" else None)
                proposals.append((row[0], label, rng.randint(1, 400), state, final, now,
                                  now if state != "open" else None))
        with connection:
            connection.executemany(
                "INSERT INTO papers (arxiv_id, version, title, abstract, authors, categories, "
                "primary_category, published, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            connection.executemany("INSERT INTO embeddings (arxiv_id, model, dim, vector, created_at) "
                                   "VALUES (?, ?, ?, ?, ?)", vectors)
            connection.executemany(
                "INSERT INTO classifications (arxiv_id, label, probability, probabilities, runner_up, "
                "needs_review, reason, model_version, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                predictions)
            connection.executemany(
                "INSERT INTO list_entries (section, label, title, venue, arxiv_id, resolved_by, line_no, "
                "read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entries)
            connection.executemany(
                "INSERT INTO proposals (arxiv_id, label, pr_number, state, final_label, proposed_at, "
                "decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)", proposals)
        print(f"\r  built {offset + count:,} papers", end="", file=sys.stderr, flush=True)
    with connection:
        connection.execute("INSERT INTO papers_fts(papers_fts) VALUES ('optimize')")
    connection.execute("ANALYZE")
    connection.close()
    print(file=sys.stderr)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "MISS"


def bench_keyword(url: str) -> tuple[float, float, float]:
    from db.query import Filters, QueryError, connect, keyword_search

    connection = connect(url)
    cases = [(q, Filters()) for q in QUERIES] + [(q, Filters(**f)) for q, f in FILTERED]  # type: ignore[arg-type]
    for query, filters in cases:  # warm the page cache once
        with contextlib.suppress(QueryError):
            keyword_search(connection, query, filters, 20)
    times, cpu = [], []
    for query, filters in cases:
        started, started_cpu = time.perf_counter(), time.process_time()
        with contextlib.suppress(QueryError):
            keyword_search(connection, query, filters, 20)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    connection.close()
    slowest = max(zip(times, [q for q, _ in cases], strict=True))
    print(f"  slowest keyword query: {slowest[1]!r} {slowest[0] * 1000:.1f} ms; "
          f"CPU time p50 {percentile(cpu, 50) * 1000:.1f} ms, p95 {percentile(cpu, 95) * 1000:.1f} ms")
    return percentile(times, 50), percentile(times, 95), len(cases)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_fresh(url: str, runs: int = 5) -> tuple[float, float]:
    command = [sys.executable, "-m", "bot", "--db", url, "search", "token merging", "--label", "pruning",
               "--json"]
    times, cpu = [], []
    for _ in range(runs + 1):
        started, before = time.perf_counter(), children_cpu()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
        cpu.append(children_cpu() - before)
    times, cpu = times[1:], cpu[1:]  # the first run only warms the OS caches
    print(f"  fresh process CPU time p50 {statistics.median(cpu):.3f} s")
    return statistics.median(times), max(times)


def bench_semantic(url: str) -> dict[str, float]:
    from db.query import Filters, connect, rows_for
    from db.vectors import clear_cache, load_index, semantic_search

    connection = connect(url)
    clear_cache()
    started = time.perf_counter()
    index = load_index(connection, "all-MiniLM-L6-v2")
    load_vectors = time.perf_counter() - started
    started = time.perf_counter()
    load_index(connection, "all-MiniLM-L6-v2")
    cached = time.perf_counter() - started
    try:
        from bot.cli.app import App
        from bot.cli.query import query_embedder  # the CLI's own: the configured model, one torch thread

        embedder = query_embedder(App())
        started = time.perf_counter()
        embedder.embed(["warm up"])
        model_load = time.perf_counter() - started
        name = "all-MiniLM-L6-v2 (real model)"
    except (ImportError, OSError) as exc:  # no model installed: still report scoring, on stand-in vectors
        from classifier.embed import HashingEmbedder

        print(f"  real model unavailable ({exc}); using HashingEmbedder(384)")
        embedder, model_load, name = HashingEmbedder(DIM), 0.0, "HashingEmbedder(384)"
    times, scoring = [], []
    for query in SEMANTIC_QUERIES * 2:
        started = time.perf_counter()
        vector = embedder.embed([query])[0]
        middle = time.perf_counter()
        rows_for(connection, semantic_search(connection, index, vector, Filters(), 20))
        ended = time.perf_counter()
        times.append(ended - started)
        scoring.append(ended - middle)
    filtered = []
    for query in SEMANTIC_QUERIES:
        started = time.perf_counter()
        vector = embedder.embed([query])[0]
        only = Filters(labels=("quantization",))
        rows_for(connection, semantic_search(connection, index, vector, only, 20))
        filtered.append(time.perf_counter() - started)
    connection.close()
    print(f"  embedder: {name}; vectors: {len(index):,} x {index.matrix.shape[1]}")
    return {"load_vectors": load_vectors, "cached_index": cached, "model_load": model_load,
            "p50": percentile(times, 50), "p95": percentile(times, 95),
            "scoring_p50": percentile(scoring, 50), "filtered_p95": percentile(filtered, 95)}


def bench_export(url: str, folder: Path) -> tuple[float, int]:
    target = folder / "all.csv"
    started = time.perf_counter()
    before = children_cpu()
    subprocess.run([sys.executable, "-m", "bot", "--db", url, "export", "--format", "csv", "-o", str(target)],
                   cwd=ROOT, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    cpu = children_cpu() - before
    with target.open(encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    print(f"  CSV export CPU time {cpu:.2f} s")
    return elapsed, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="Keep the database here (built only if missing).")
    parser.add_argument("--papers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = args.db.resolve() if args.db else folder / "bench.db"
        if not path.exists():
            started = time.perf_counter()
            build(path, args.papers)
            print(f"built {args.papers:,} papers in {time.perf_counter() - started:.1f} s "
                  f"({path.stat().st_size / 1e6:.0f} MB)")
        url = f"sqlite:///{path}"
        count = sqlite3.connect(path).execute("SELECT count(*) FROM papers").fetchone()[0]
        print(f"database: {path} ({count:,} papers)")

        p50, p95, n = bench_keyword(url)
        fresh_p50, fresh_max = bench_fresh(url)
        semantic = bench_semantic(url)
        export_time, lines = bench_export(url, folder)

    print()
    print(f"keyword search, in-process ({n} queries): p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
          f"  [target p95 < 50 ms: {verdict(p95, 0.050)}]")
    print(f"fresh `paperbot search` process: p50 {fresh_p50:.3f} s (max {fresh_max:.3f} s)"
          f"  [target < 0.5 s: {verdict(fresh_p50, 0.5)}]")
    print(f"semantic search after load (embed + score {count:,}): p50 {semantic['p50'] * 1000:.1f} ms, "
          f"p95 {semantic['p95'] * 1000:.1f} ms  [target < 200 ms: {verdict(semantic['p95'], 0.200)}]")
    print(f"    scoring alone p50 {semantic['scoring_p50'] * 1000:.1f} ms; with --label filter p95 "
          f"{semantic['filtered_p95'] * 1000:.1f} ms; one-off: vectors {semantic['load_vectors']:.2f} s, "
          f"cached index {semantic['cached_index'] * 1000:.1f} ms, model {semantic['model_load']:.2f} s")
    print(f"export all {lines - 1:,} rows to CSV (fresh process): {export_time:.2f} s"
          f"  [target < 5 s: {verdict(export_time, 5.0)}]")


if __name__ == "__main__":
    main()
