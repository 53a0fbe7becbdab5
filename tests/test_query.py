"""db/query.py, db/vectors.py, db/stats.py and bot/export.py on a small real database.

The database is migrated by Alembic (``db_url``) and filled through the real store; list entries and
proposals are ORM rows. ``query_db`` is shared with tests/test_cli_query.py.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.core.labels import Label
from bot.core.models import Paper, Prediction
from classifier.embed import HashingEmbedder, paper_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)


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


@pytest.fixture
def query_db(engine, db_url: str) -> str:  # type: ignore[no-untyped-def]
    """``db_url`` filled with PAPERS and their predictions, vectors, list entries and proposals."""
    fill(engine)
    return db_url


@pytest.fixture
def connection(query_db: str) -> Iterator:  # type: ignore[type-arg]
    from db.query import connect

    conn = connect(query_db)
    yield conn
    conn.close()


def ids(rows: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [row["arxiv_id"] for row in rows]


# --- keyword search ------------------------------------------------------------------------------------

def test_keyword_search_ranks_title_matches_first(connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    rows = keyword_search(connection, "caching")
    assert ids(rows) == ["2604.00077", "2312.00858"]  # in the title beats in the abstract
    assert rows[0]["score"] > rows[1]["score"] > 0
    assert list(rows[0]) == ["arxiv_id", "title", "authors", "published", "label", "probability", "status",
                             "score", "url"]
    assert rows[0]["url"] == "https://arxiv.org/abs/2604.00077"


def test_phrases_prefixes_and_columns(connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    assert ids(keyword_search(connection, '"token merging"')) == ["2303.17604"]
    assert set(ids(keyword_search(connection, "quantiz*"))) == {"2302.04304", "2603.01234"}
    assert ids(keyword_search(connection, "title:caching")) == ["2604.00077"]
    assert ids(keyword_search(connection, "authors:bolya")) == ["2303.17604"]
    assert ids(keyword_search(connection, "muller")) == ["2604.00555"]  # diacritics folded


@pytest.mark.parametrize("query, expected", [
    ('"token merging', ["2303.17604"]),           # unbalanced quote: searched as words
    ("few-step", []),                             # FTS reads "-step" as a column filter: escaped
    ("W4A8 4-bit", ["2302.04304"]),
    ("cs.CV", []),
    ("NEAR", []),
    ("NOT diffusion", []),                        # a bare NOT is invalid syntax: the word "not"
    ("Müller", ["2604.00555"]),
    ("扩散模型", []),
    ("'; DROP TABLE papers; --", []),
    ("1; DELETE FROM papers", []),
    ("title:", []),
    ("{Heads} & 50%", ["2604.00555"]),
])
def test_odd_queries_never_fail_or_inject(connection, query: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    assert ids(keyword_search(connection, query)) == expected
    assert connection.execute("SELECT count(*) FROM papers").fetchone()[0] == len(PAPERS)


@pytest.mark.parametrize("query", ["*", "-", ":", '"', "'", "()", "  ", "\x00\x1b"])
def test_queries_without_words_are_a_clear_error(connection, query: str) -> None:  # type: ignore[no-untyped-def]
    from db.query import QueryError, keyword_search

    with pytest.raises(QueryError, match="nothing to search for"):
        keyword_search(connection, query)


def test_connection_is_read_only(connection) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
        connection.execute("DELETE FROM papers")


# --- filters -------------------------------------------------------------------------------------------

def test_filters(connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import Filters, browse, keyword_search

    def browse_ids(**kw: object) -> list[str]:
        return ids(browse(connection, Filters(**kw), limit=None))  # type: ignore[arg-type]

    assert browse_ids(labels=("quantization",)) == ["2603.01234", "2302.04304"]  # newest first
    assert browse_ids(labels=("unclassified",)) == ["2605.00001"]
    assert browse_ids(statuses=("listed",)) == ["2604.00555", "2303.17604", "2302.04304", "2202.00512"]
    assert browse_ids(statuses=("proposed",)) == ["2603.01234"]
    assert browse_ids(statuses=("rejected",)) == ["2312.00858"]
    assert browse_ids(statuses=("seen",)) == ["2605.00001", "2604.00077"]
    assert browse_ids(since=datetime(2026, 3, 1, tzinfo=UTC), until=datetime(2026, 4, 3, tzinfo=UTC)) == [
        "2604.00077", "2603.01234"]
    assert browse_ids(categories=("cs.CL",)) == ["2604.00077"]
    assert browse_ids(categories=("cs.LG", "cs.CL")) == ["2604.00077", "2603.01234"]
    assert browse_ids(authors=("hoffman",)) == ["2303.17604"]
    assert browse_ids(authors=("%",)) == []  # LIKE wildcards are literal
    # "What has come out on quantizing video diffusion models since March?"
    assert ids(keyword_search(connection, "quantiz* video diffusion",
                              Filters(since=datetime(2026, 3, 1, tzinfo=UTC)))) == ["2603.01234"]
    # "Which papers did the bot turn away that mention caching?"
    assert ids(keyword_search(connection, "caching", Filters(labels=("irrelevant",)))) == ["2604.00077"]


# --- vectors -------------------------------------------------------------------------------------------

def test_semantic_search_and_similar(connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import Filters
    from db.vectors import clear_cache, load_index, nearest, semantic_search

    clear_cache()
    index = load_index(connection, "hashing-64")
    assert len(index) == 7 and index.matrix.dtype == np.float32
    assert load_index(connection, "hashing-64") is index  # cached while the file is unchanged
    vector = index.matrix[index.position["2303.17604"]]
    top = nearest(index, vector, 3)
    assert top[0] == ("2303.17604", pytest.approx(1.0, abs=1e-5))
    assert [i for i, _ in top] == [i for i, _ in sorted(top, key=lambda x: -x[1])]
    others = semantic_search(connection, index, vector, Filters(labels=("quantization",)), 10,
                             exclude=["2303.17604"])
    assert {i for i, _ in others} == {"2302.04304", "2603.01234"}
    assert load_index(connection, "no-such-model").matrix.shape == (0, 0)


def test_fuse_is_reciprocal_rank() -> None:
    from db.vectors import fuse

    fused = fuse([["a", "b", "c"], ["c", "a"]], 3)
    assert [i for i, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


# --- stats ---------------------------------------------------------------------------------------------

def test_stats(connection) -> None:  # type: ignore[no-untyped-def]
    from db.stats import summary

    result = summary(connection)
    assert result["papers"] == 8
    months = {row["month"]: row for row in result["per_month"]}
    assert months["2026-04"]["pruning"] == 1 and months["2026-04"]["irrelevant"] == 1
    assert months["2026-05"]["unclassified"] == 1
    assert result["status"] == {"listed": 4, "proposed": 1, "rejected": 1, "seen": 2}
    agreement = result["agreement"]
    assert agreement["proposals"] == {"open": 1, "merged": 2, "rejected": 1, "withdrawn": 0}
    assert (agreement["decided"], agreement["merged_same_label"], agreement["merged_relabelled"],
            agreement["rejected"]) == (3, 1, 1, 1)
    assert agreement["proposal_agreement"] == pytest.approx(1 / 3, abs=1e-4)
    assert (agreement["listed_with_prediction"], agreement["list_agreement"]) == (2, 1.0)


# --- export --------------------------------------------------------------------------------------------

def test_bibtex_keys_are_stable_unique_and_escaped() -> None:
    from bot.cli.export import bibtex_entry, bibtex_escape, bibtex_keys

    rows = [{"arxiv_id": "2401.00002", "title": "The Token Trick", "authors": ["Ada Lovelace"],
             "published": "2024-01-02T00:00:00+00:00"},
            {"arxiv_id": "2401.00001", "title": "Token {merging} & 50% of $x_i$",
             "authors": ["Zoë Lövelace", "B and C Lab"], "published": "2024-01-01T00:00:00+00:00",
             "primary_category": "cs.CV"}]
    keys = bibtex_keys(rows)
    assert keys == {"2401.00001": "lovelace2024token", "2401.00002": "lovelace2024tokenb"}
    assert bibtex_keys(list(reversed(rows))) == keys
    entry = bibtex_entry(rows[1], keys["2401.00001"])
    assert r"title = {{Token \{merging\} \& 50\% of \$x\_i\$}}" in entry
    assert "author = {Zoë Lövelace and {B and C Lab}}" in entry
    assert entry.count("{") - entry.count(r"\{") == entry.count("}") - entry.count(r"\}")
    assert bibtex_escape("a\\b~^\n#") == r"a\textbackslash{}b\textasciitilde{}\textasciicircum{} \#"


def test_export_formats(connection) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import export
    from db.query import Filters
    from db.records import export_rows

    def run(fmt: str, **kw: object) -> str:
        out = io.StringIO()
        export.write(export_rows(connection, Filters(**kw)), fmt, out,  # type: ignore[arg-type]
                     sections={"pruning": "Pruning and Sparsity for Diffusion Models"})
        return out.getvalue()

    assert len(json.loads(run("json"))) == 8
    assert json.loads(run("json", labels=("other",))) == []
    lines = run("jsonl", labels=("pruning",)).splitlines()
    assert [json.loads(line)["arxiv_id"] for line in lines] == ["2604.00555", "2312.00858", "2303.17604"]
    csv_text = run("csv", labels=("quantization",))
    assert csv_text.splitlines()[0] == ",".join(export.CSV_COLUMNS)
    assert "Xiuyu Li; Yijiang Liu; Kurt Keutzer" in csv_text
    markdown = run("markdown", labels=("pruning",))
    assert markdown == (
        "## Pruning and Sparsity for Diffusion Models\n\n"
        "- [arxiv] Sparse Attention for Video Diffusion: Pruning \\{Heads\\} &amp; 50% of Tokens "
        "[[arXiv](https://arxiv.org/abs/2604.00555)]\n"
        "- [arxiv] DeepCache: Accelerating Diffusion Models for Free [[arXiv](https://arxiv.org/abs/2312.00858)]\n"
        "- [arxiv] Token Merging for Fast Stable Diffusion [[arXiv](https://arxiv.org/abs/2303.17604)]\n")
    bib = run("bibtex", labels=("quantization",))
    assert bib.count("@misc{") == 2 and "@misc{li2023qdiffusion," in bib


def test_paper_detail(connection) -> None:  # type: ignore[no-untyped-def]
    from db.records import paper_detail

    detail = paper_detail(connection, "2604.00555")
    assert detail is not None
    assert detail["status"] == "listed"
    assert detail["prediction"]["label"] == "pruning" and detail["prediction"]["needs_review"] is True
    assert list(detail["prediction"]["probabilities"])[0] == "pruning"
    assert detail["proposals"] == [{"pr_number": 7, "label": "pruning", "state": "merged",
                                    "final_label": "other", "proposed_at": "2026-04-20T00:00:00+00:00",
                                    "decided_at": "2026-04-22T00:00:00+00:00"}]
    assert detail["links"]["pdf"] == "https://arxiv.org/pdf/2604.00555"
    assert paper_detail(connection, "2604.99999") is None


def test_connect_refuses_other_databases(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from db.query import QueryError, connect

    with pytest.raises(QueryError, match="SQLite"):
        connect("postgresql://localhost/papers")
    with pytest.raises(QueryError, match="no database"):
        connect(f"sqlite:///{tmp_path / 'missing.db'}")
