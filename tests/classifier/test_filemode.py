"""classifier/filemode.py: JSONL in, predictions out, bad rows reported by line (hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.config import ClassifierSettings
from bot.core.errors import ClassifierError
from bot.core.labels import LABEL_VALUES, Label
from classifier.corpus import training_corpus
from classifier.embed import HashingEmbedder
from classifier.filemode import classify_file
from classifier.model import Model, train

EMBEDDER = HashingEmbedder(dim=64)


@pytest.fixture(scope="module")
def model() -> Model:
    papers = [p for label in Label for p in training_corpus() if p.label is label][::8]
    return train(papers, EMBEDDER.embed([p.text for p in papers]))


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_round_trip_keeps_order_and_writes_every_field(tmp_path: Path, model: Model) -> None:
    rows = [
        {"arxiv_id": "2401.00001", "title": "Q-DiT: 4-bit quantization of diffusion transformers",
         "abstract": "We quantize diffusion transformers to 4 bits.", "authors": ["A. B."],
         "categories": ["cs.CV"]},
        {"arxiv_id": "2401.00002", "title": "A graph neural network benchmark", "abstract": None},
    ]
    source = _write(tmp_path / "papers.jsonl", [json.dumps(row) for row in rows])
    result = classify_file(source, tmp_path / "out.jsonl", model, EMBEDDER, ClassifierSettings())
    assert result.n_written == 2 and result.errors == []
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["arxiv_id"] for row in written] == ["2401.00001", "2401.00002"]
    pairs = [(row["title"], row["abstract"]) for row in rows]
    expected = model.predict(pairs, EMBEDDER.embed([f"{rows[0]['title']}. {rows[0]['abstract']}",
                                                    rows[1]["title"]]))
    for row, prediction in zip(written, expected, strict=True):
        assert row["label"] == prediction.label.value and row["label"] in LABEL_VALUES
        assert row["probability"] == prediction.probability
        assert set(row["probabilities"]) == set(LABEL_VALUES)
        assert row["runner_up"] == prediction.runner_up.value
        assert row["needs_review"] is prediction.needs_review
        assert row["reason"] == prediction.reason and row["model_version"] == model.version


def test_bad_rows_are_reported_by_line_and_skipped(tmp_path: Path, model: Model) -> None:
    source = _write(tmp_path / "papers.jsonl", [
        json.dumps({"arxiv_id": "2401.00001", "title": "Token merging for fast stable diffusion"}),
        "{not json",
        "",
        json.dumps({"arxiv_id": "2401.00003", "title": "  ", "abstract": "No title here."}),
        json.dumps({"arxiv_id": "2401.00004", "abstract": "Missing title key."}),
        json.dumps(["a", "list"]),
        json.dumps({"arxiv_id": "2401.00007", "title": "Caching features in diffusion transformers"}),
    ])
    result = classify_file(source, tmp_path / "out.jsonl", model, EMBEDDER, ClassifierSettings())
    assert result.n_written == 2
    assert [(e.line, e.message.split(":")[0]) for e in result.errors] == [
        (2, "invalid JSON"), (4, "no title"), (5, "no title"), (6, "not a JSON object")]
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["arxiv_id"] for row in written] == ["2401.00001", "2401.00007"]


def test_rows_that_are_not_utf8_or_nest_too_deeply_are_bad_rows(tmp_path: Path, model: Model) -> None:
    source = tmp_path / "papers.jsonl"
    first = json.dumps({"arxiv_id": "2401.00001", "title": "Token merging"}).encode()
    last = json.dumps({"arxiv_id": "2401.00004", "title": "Feature caching"}).encode()
    source.write_bytes(b"\xef\xbb\xbf" + first + b'\n{"title": "Caf\xe9"}\n' + b"[" * 100_000 + b"\n"
                       + last + b"\n")
    result = classify_file(source, tmp_path / "out.jsonl", model, EMBEDDER, ClassifierSettings())
    assert result.n_written == 2  # the first line's byte-order mark is not an error
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "not UTF-8 text (byte 15)"), (3, "invalid JSON: nested too deeply")]


def test_missing_input_is_a_classifier_error(tmp_path: Path, model: Model) -> None:
    with pytest.raises(ClassifierError, match="cannot read"):
        classify_file(tmp_path / "absent.jsonl", tmp_path / "out.jsonl", model, EMBEDDER,
                      ClassifierSettings())
    assert not (tmp_path / "out.jsonl").exists()
