"""``paperbot search``, ``show`` and ``similar`` (bot/cli/query.py) through the real click group, on the
small database; the commands of bot/cli/report.py share its --help check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier.embed import HashingEmbedder
from tests.support.database import PAPERS, paper_count

SEARCH_FIELDS = ["arxiv_id", "title", "authors", "published", "label", "probability", "status", "score",
                 "url"]


def test_search_json_exact(invoke, any_query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "search", '"token merging"', "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{
        "arxiv_id": "2303.17604", "title": "Token Merging for Fast Stable Diffusion",
        "authors": ["Daniel Bolya", "Judy Hoffman"], "published": "2023-03-30", "label": "pruning",
        "probability": 0.91, "status": "listed", "score": json.loads(result.output)[0]["score"],
        "url": "https://arxiv.org/abs/2303.17604"}]


def test_search_table_exact(invoke, any_query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "search", "--label", "quantization", "--table")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "arxiv_id    published   label         probability  status    score  authors           title"
        "                                            \n"
        "2603.01234  2026-03-12  quantization  0.88         proposed         Ana Souza et al.  "
        "Quantizing Video Diffusion Transformers to 4 Bits\n"
        "2302.04304  2023-02-08  quantization  0.95         listed           Xiuyu Li et al.   "
        "Q-Diffusion: Quantizing Diffusion Models         \n")


def test_search_csv_and_nl(invoke, any_query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "search", "caching", "--csv")
    lines = result.output.splitlines()
    assert lines[0] == ",".join(SEARCH_FIELDS)
    assert lines[1].startswith("2604.00077,KV Caching for Faster Large Language Model Serving,Ravi Kumar,")
    result = invoke("--db", any_query_db, "search", "caching", "--label", "irrelevant", "--nl")
    assert [json.loads(line)["arxiv_id"] for line in result.output.splitlines()] == ["2604.00077"]


def test_search_filters_from_the_issue(invoke, any_query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "search", "quantiz* video diffusion", "--since", "2026-03",
                    "--json")
    assert [row["arxiv_id"] for row in json.loads(result.output)] == ["2603.01234"]
    result = invoke("--db", any_query_db, "search", "--until", "2022", "--status", "listed", "--json")
    assert [row["arxiv_id"] for row in json.loads(result.output)] == ["2202.00512"]  # all of 2022
    result = invoke("--db", any_query_db, "search", "--author", "müller", "--category", "cs.CV", "--json")
    assert [row["arxiv_id"] for row in json.loads(result.output)] == ["2604.00555"]
    result = invoke("--db", any_query_db, "search", "--since", "March", "--json")
    assert result.exit_code == 2 and "'March' is not a date" in result.output


HOSTILE = ["'; DROP TABLE papers; --", '"unbalanced', "NEAR", "-", ":", "title:", "a OR", "((", "%_%",
           "Robert'); DROP TABLE classifications;--", "Ünïcødé ✓ 扩散", "\\", "*quant", "x" * 400]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_a_result_or_one_line(invoke, any_query_db: str, query: str) -> None:  # type: ignore[no-untyped-def]
    for extra in ([], ["--author", query], ["--category", query]):
        result = invoke("--db", any_query_db, "search", query, *extra, "--json")
        if result.exit_code == 0:
            assert isinstance(json.loads(result.output), list)
        else:
            assert result.exit_code == 1
            assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert paper_count(any_query_db) == len(PAPERS)


@pytest.mark.parametrize("query", ["*", "-", "()", '"'])
def test_query_without_words_is_one_line_error(invoke, any_query_db: str, query: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "search", query)
    assert result.exit_code == 1
    assert result.output == (f"Error: nothing to search for in {query!r}: "
                             "give words, \"a phrase\" or a prefix*\n")


def test_empty_query_lists_newest_and_empty_result_exits_zero(invoke, any_query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "search", "", "--limit", "2", "--json")
    assert [row["arxiv_id"] for row in json.loads(result.output)] == ["2605.00001", "2604.00555"]
    result = invoke("--db", any_query_db, "search", "nothingmatchesthis", "--json")
    assert (result.exit_code, result.output) == (0, "[]\n")


def test_semantic_and_hybrid(invoke, query_db: str, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    # the stored vectors are the model-free hashing-64 ones: embed the query the same way
    (cli_env / "paperbot.toml").write_text(f'[classifier]\nembedding_model = "{HashingEmbedder().name}"\n')
    result = invoke("--db", query_db, "search", "token merging stable diffusion", "--semantic", "--json")
    rows = json.loads(result.output)
    assert rows[0]["arxiv_id"] == "2303.17604" and len(rows) == 7  # the unclassified one has no vector
    assert rows[0]["score"] >= rows[1]["score"]
    result = invoke("--db", query_db, "search", "quantization", "--hybrid", "--label", "quantization",
                    "--json")
    assert {row["arxiv_id"] for row in json.loads(result.output)} == {"2302.04304", "2603.01234"}
    result = invoke("--db", query_db, "search", "--semantic")
    assert (result.exit_code, result.output) == (1, "Error: --semantic needs a QUERY\n")


def test_hybrid_falls_back_to_keyword_without_vectors(invoke, query_db: str) -> None:  # type: ignore[no-untyped-def]
    # The stored vectors are hashing-64; the real model's name has none, so the model is never loaded.
    result = invoke("--db", query_db, "search", "caching", "--hybrid", "--json")
    assert result.exit_code == 0
    assert "no stored all-MiniLM-L6-v2 embeddings; run `paperbot embed` first; keyword results only" in \
        result.stderr
    assert [row["arxiv_id"] for row in json.loads(result.stdout)] == ["2604.00077", "2312.00858"]
    result = invoke("--db", query_db, "search", "caching", "--semantic")
    assert (result.exit_code, result.output) == (
        1, "Error: no stored all-MiniLM-L6-v2 embeddings; run `paperbot embed` first\n")


def test_show(invoke, any_query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "show", "https://arxiv.org/abs/2604.00555v2")
    detail = json.loads(result.output)
    assert detail["arxiv_id"] == "2604.00555" and detail["status"] == "listed"
    assert detail["prediction"]["reason"] == "nearest labelled papers are pruning"
    assert [p["state"] for p in detail["proposals"]] == ["merged"]
    result = invoke("--db", any_query_db, "show", "2303.17604", "--text")
    assert result.output.splitlines()[:3] == [
        "Token Merging for Fast Stable Diffusion",
        "arXiv: 2303.17604v1    status: listed",
        "authors: Daniel Bolya, Judy Hoffman"]
    assert "listed: [arxiv] Token Merging for Fast Stable Diffusion (section 'Pruning and Sparsity for " \
           "Diffusion Models', line 40)" in result.output
    assert "links: https://arxiv.org/abs/2303.17604  https://arxiv.org/pdf/2303.17604" in result.output


@pytest.mark.parametrize("arxiv_id, message", [
    ("2609.99999", "Error: 2609.99999 is not in the database\n"),
    ("not-an-id", "Error: not an arXiv id: 'not-an-id'; expected an id such as 2401.01234, 2401.01234v2 "
                  "or its URL\n"),
])
def test_show_errors(invoke, any_query_db: str, arxiv_id: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "show", arxiv_id)
    assert (result.exit_code, result.output) == (1, message)


def test_similar(invoke, query_db: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", query_db, "similar", "2303.17604v1", "--model", "hashing-64", "--json")
    rows = json.loads(result.output)
    assert len(rows) == 6 and "2303.17604" not in [row["arxiv_id"] for row in rows]
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    result = invoke("--db", query_db, "similar", "2303.17604", "--model", "hashing-64",
                    "--label", "quantization", "--json")
    assert {row["arxiv_id"] for row in json.loads(result.output)} == {"2302.04304", "2603.01234"}
    result = invoke("--db", query_db, "similar", "2605.00001", "--model", "hashing-64")
    assert (result.exit_code, result.output) == (
        1, "Error: 2605.00001 has no stored hashing-64 embedding; run `paperbot embed` first\n")


def test_every_command_has_an_example(invoke) -> None:  # type: ignore[no-untyped-def]
    for command in ("search", "show", "similar", "stats", "export"):
        result = invoke(command, "--help")
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output and f"paperbot {command}" in result.output


def test_missing_database_is_one_line(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", f"sqlite:///{tmp_path / 'none.db'}", "search", "x")
    assert result.exit_code == 1
    assert result.output == (f"Error: no database at {tmp_path / 'none.db'}; "
                             "run `paperbot fetch` first or pass --db\n")
