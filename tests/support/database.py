"""A small real paper database for the query, export and CLI tests: eight papers, with hashing-64 vectors,
predictions, list entries and proposals, filled through the real store. The ``query_db`` and ``connection``
fixtures (in ``tests/conftest.py``) hand it out."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.labels import Label
from bot.core.models import Paper, Prediction
from classifier.embed import HashingEmbedder, paper_text


def _paper(arxiv_id: str, title: str, authors: tuple[str, ...], published: str, abstract: str,
           categories: tuple[str, ...] = ("cs.CV",), **extra: object) -> Paper:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC)
    return Paper(arxiv_id=arxiv_id, title=title, abstract=abstract, authors=authors,
                 categories=categories, primary_category=categories[0], published=when, updated=when,
                 **extra)  # type: ignore[arg-type]


PAPERS = [
    _paper("2303.17604", "Token Merging for Fast Stable Diffusion", ("Daniel Bolya", "Judy Hoffman"),
           "2023-03-30T17:59:00", "We merge redundant tokens in Stable Diffusion to speed up generation "
           "without training.", comment="CVPR 2023 Workshop"),
    _paper("2302.04304", "Q-Diffusion: Quantizing Diffusion Models",
           ("Xiuyu Li", "Yijiang Liu", "Kurt Keutzer"),
           "2023-02-08T10:00:00", "Post-training quantization of the noise estimation network to 4-bit "
           "weights (W4A8) for diffusion models.", journal_ref="ICCV 2023"),
    _paper("2603.01234", "Quantizing Video Diffusion Transformers to 4 Bits",
           ("Ana Souza", "Wei Zhang", "Li Na"), "2026-03-12T09:00:00",
           "We quantize video diffusion transformers with temporal-aware calibration; int4 weights keep "
           "quality on text-to-video generation.", ("cs.CV", "cs.LG")),
    _paper("2312.00858", "DeepCache: Accelerating Diffusion Models for Free", ("Xinyin Ma", "Gongfan Fang"),
           "2023-12-01T12:00:00", "Feature caching across denoising steps accelerates diffusion models "
           "without retraining."),
    _paper("2604.00077", "KV Caching for Faster Large Language Model Serving", ("Ravi Kumar",),
           "2026-04-02T08:00:00", "Caching keys and values speeds up autoregressive decoding of language "
           "models.", ("cs.CL",)),
    _paper("2202.00512", "Progressive Distillation for Fast Sampling of Diffusion Models",
           ("Tim Salimans", "Jonathan Ho"), "2022-02-01T18:00:00",
           "Distill a deterministic sampler into a model that needs half as many steps, repeatedly."),
    _paper("2604.00555", "Sparse Attention for Video Diffusion: Pruning {Heads} & 50% of Tokens",
           ("Jürgen Müller", "Zoë O'Brien"), "2026-04-15T11:30:00",
           "Structured pruning of attention heads and tokens makes video diffusion two times faster."),
    _paper("2605.00001", "An Unclassified Paper about Diffusion", ("Nobody Known",), "2026-05-01T00:00:00",
           "Nothing has classified this one yet."),
]


LABELS = {
    "2303.17604": (Label.PRUNING, 0.91), "2302.04304": (Label.QUANTIZATION, 0.95),
    "2603.01234": (Label.QUANTIZATION, 0.88), "2312.00858": (Label.PRUNING, 0.62),
    "2604.00077": (Label.IRRELEVANT, 0.97), "2202.00512": (Label.DISTILLATION, 0.93),
    "2604.00555": (Label.PRUNING, 0.55),
}


def prediction(label: Label, probability: float) -> Prediction:
    others = [x for x in Label if x is not label]
    rest = (1.0 - probability) / len(others)
    probabilities = {x.value: (probability if x is label else rest) for x in Label}
    return Prediction(label=label, probability=probability, probabilities=probabilities,
                      runner_up=others[0], runner_up_probability=rest, needs_review=probability < 0.65,
                      reason=f"nearest labelled papers are {label.value}", model_version="test-1")


def fill(engine) -> None:  # type: ignore[no-untyped-def]
    """Papers, hashing-64 embeddings (all but the unclassified one), predictions, list and proposals."""
    from db.schema import ListEntryRow, ProposalRow
    from db.session import session_scope
    from db.store import save_embeddings, save_predictions, upsert_papers

    embedder = HashingEmbedder()
    embedded = [p for p in PAPERS if p.arxiv_id in LABELS]
    naive = datetime(2026, 5, 2)
    with session_scope(engine) as session:
        upsert_papers(session, PAPERS)
        save_embeddings(session, embedder.name, [p.arxiv_id for p in embedded],
                        embedder.embed([paper_text(p.title, p.abstract) for p in embedded]))
        save_predictions(session, {i: prediction(*value) for i, value in LABELS.items()})
        session.add_all([
            ListEntryRow(section="Pruning and Sparsity for Diffusion Models", label="pruning",
                         title="Token Merging for Fast Stable Diffusion", venue="arxiv",
                         arxiv_id="2303.17604", resolved_by="title", line_no=40, read_at=naive),
            ListEntryRow(section="Knowledge Distillation for Diffusion Models", label="distillation",
                         title="Progressive Distillation for Fast Sampling of Diffusion Models", venue="ICLR",
                         arxiv_id="2202.00512", resolved_by="title", line_no=12, read_at=naive),
            ProposalRow(arxiv_id="2302.04304", label="quantization", pr_number=3, state="merged",
                        final_label="quantization", proposed_at=datetime(2026, 4, 1),
                        decided_at=datetime(2026, 4, 3)),
            ProposalRow(arxiv_id="2603.01234", label="quantization", pr_number=7, state="open",
                        proposed_at=datetime(2026, 4, 20)),
            ProposalRow(arxiv_id="2312.00858", label="pruning", pr_number=3, state="rejected",
                        proposed_at=datetime(2026, 4, 1), decided_at=datetime(2026, 4, 3)),
            ProposalRow(arxiv_id="2604.00555", label="pruning", pr_number=7, state="merged",
                        final_label="other", proposed_at=datetime(2026, 4, 20),
                        decided_at=datetime(2026, 4, 22)),
        ])


def ids(rows: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [row["arxiv_id"] for row in rows]


def paper_count(db_url: str) -> int:
    """How many papers the database at ``db_url`` (SQLite or PostgreSQL) holds."""
    from contextlib import closing

    from db.query import connect

    with closing(connect(db_url)) as conn:
        return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])
