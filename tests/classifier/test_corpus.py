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


def test_a_malformed_reader_field_is_a_row_error() -> None:
    import pytest

    from classifier.corpus import parse_row

    for value, message in [("other", "second_reader must be an object"),
                           ({"label": "fast"}, "unknown second_reader label 'fast'")]:
        with pytest.raises(ValueError, match=message):
            parse_row({"title": "T", "label": "pruning", "second_reader": value})

