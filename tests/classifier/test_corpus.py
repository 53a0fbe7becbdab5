"""classifier/corpus.py: how the training corpus labels what the list files loosely."""

from __future__ import annotations

from bot.core.labels import Label
from classifier.corpus import LabelledPaper


def test_loose_list_filings_are_trained_as_irrelevant() -> None:
    from classifier.corpus import rubric_label

    fsq = "Finite Scalar Quantization: VQ-VAE Made Simple"
    vq4dit = "VQ4DiT: Post-Training Vector Quantization for Diffusion Transformers"
    tokenizer = LabelledPaper(None, fsq, None, Label.QUANTIZATION, source="awesome-list")
    weights = LabelledPaper(None, vq4dit, None, Label.QUANTIZATION, source="awesome-list")
    annotated = LabelledPaper(None, fsq, None, Label.QUANTIZATION)
    assert rubric_label(tokenizer) == Label.IRRELEVANT.value
    assert rubric_label(weights) == Label.QUANTIZATION.value
    assert rubric_label(annotated) == Label.QUANTIZATION.value  # rubric-read labels are never changed


def test_two_readers_the_model_learns_what_they_settled() -> None:
    from classifier.corpus import UNSETTLED_WEIGHT, parse_row, settle_readers

    row = {"title": "Sparse attention for video DiTs", "label": "pruning", "secondary": None}
    alone = parse_row(row)
    agreed = parse_row({**row, "second_reader": {"label": "pruning", "secondary": "other"}})
    settled = parse_row({**row, "second_reader": {"label": "other"},
                         "third_reader": {"label": "other", "secondary": "pruning", "confidence": "low"}})
    unsettled = parse_row({**row, "second_reader": {"label": "other"}, "third_reader": None})
    assert settle_readers(alone) == alone and settle_readers(agreed) == agreed
    assert agreed.second_reader is not None and agreed.second_reader.secondary is Label.OTHER
    assert (settle_readers(settled).label, settle_readers(settled).secondary) == (Label.OTHER, Label.PRUNING)
    assert settle_readers(settled).weight == 1.0
    assert settle_readers(unsettled).label is Label.PRUNING  # the first reader's label, trusted less
    assert settle_readers(unsettled).weight == UNSETTLED_WEIGHT


def test_a_malformed_reader_field_is_a_row_error() -> None:
    import pytest

    from classifier.corpus import parse_row

    for value, message in [("other", "second_reader must be an object"),
                           ({"label": "fast"}, "unknown second_reader label 'fast'")]:
        with pytest.raises(ValueError, match=message):
            parse_row({"title": "T", "label": "pruning", "second_reader": value})


def test_the_shipped_corpus_settles_every_disagreement_its_readers_had() -> None:
    """Each shipped row whose two readers differ carries the third reader's label, which the model learns."""
    from classifier.corpus import corpus_rows, training_corpus

    rows, trained = corpus_rows(), training_corpus()
    assert len(rows) == len(trained)
    differ = [i for i, p in enumerate(rows) if p.second_reader and p.second_reader.label is not p.label]
    assert differ and all(rows[i].third_reader is not None for i in differ)
    third = [rows[i].third_reader for i in differ]
    assert [trained[i].label for i in differ] == [reading.label for reading in third if reading]
