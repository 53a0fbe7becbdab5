"""classifier/model.py with the real MiniLM model, trained on a stratified slice of the shipped corpus."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from bot.core.errors import ClassifierError
from bot.core.labels import LABEL_VALUES, Label
from bot.core.states import ProposalState
from classifier.corpus import MAINTAINER_WEIGHT, LabelledPaper, training_corpus
from classifier.embed import SentenceTransformerEmbedder
from classifier.model import Model, train

PER_LABEL = 40  # enough to learn the clear cases, small enough to embed in a few seconds

CLEAR = {
    Label.QUANTIZATION: (
        "Post-Training 4-bit Quantization of Diffusion Transformers",
        "We quantize the weights and activations of diffusion transformers to 4 bits with a post-training "
        "quantization method that calibrates over timesteps, keeping image quality close to full precision "
        "while cutting memory by 3.5x and latency by 2x.",
    ),
    Label.PRUNING: (
        "Structured Pruning and Feature Caching for Faster Diffusion Models",
        "We prune redundant channels and layers of the denoising U-Net and cache and reuse features across "
        "adjacent sampling steps, removing 50% of the computation of Stable Diffusion with no retraining.",
    ),
    Label.DISTILLATION: (
        "One-Step Text-to-Image Generation by Distilling a Diffusion Teacher",
        "We distill a pretrained multi-step diffusion model into a one-step student generator with "
        "distribution matching and an adversarial loss, matching the teacher's quality with a single "
        "network evaluation.",
    ),
    Label.OTHER: (
        "A Fast High-Order ODE Solver for Training-Free Diffusion Sampling",
        "We propose a training-free high-order ODE solver for the probability flow of diffusion models that "
        "produces high-quality samples in 10 function evaluations, without retraining the model.",
    ),
    Label.IRRELEVANT: (
        "A Benchmark of Graph Neural Networks for Molecule Property Prediction",
        "We compare graph neural network architectures on molecular property prediction datasets and "
        "report accuracy, calibration and robustness under distribution shift.",
    ),
}


def _slice(papers: Sequence[LabelledPaper]) -> list[LabelledPaper]:
    """The first PER_LABEL papers with an abstract of each label, in file order."""
    chosen: list[LabelledPaper] = []
    for label in Label:
        chosen += [p for p in papers if p.label is label and p.abstract][:PER_LABEL]
    return chosen

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def data(embedder: SentenceTransformerEmbedder) -> tuple[list[LabelledPaper], np.ndarray]:
    papers = _slice(training_corpus())
    return papers, embedder.embed([paper.text for paper in papers])


@pytest.fixture(scope="module")
def model(data: tuple[list[LabelledPaper], np.ndarray]) -> Model:
    return train(*data, seed=0)


@pytest.fixture(scope="module")
def clear_vectors(embedder: SentenceTransformerEmbedder) -> np.ndarray:
    return embedder.embed([f"{title}. {abstract}" for title, abstract in CLEAR.values()])


def test_clear_examples_of_every_label_are_classified(model: Model, clear_vectors: np.ndarray) -> None:
    predictions = model.predict(list(CLEAR.values()), clear_vectors)
    assert [p.label for p in predictions] == list(CLEAR)


def test_prediction_carries_probabilities_runner_up_and_reason(model: Model,
                                                              clear_vectors: np.ndarray) -> None:
    for prediction in model.predict(list(CLEAR.values()), clear_vectors):
        assert set(prediction.probabilities) == set(LABEL_VALUES)
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        assert prediction.probability == max(prediction.probabilities.values())
        assert prediction.runner_up is not prediction.label
        assert prediction.runner_up_probability == sorted(prediction.probabilities.values())[-2]
        assert prediction.reason.startswith("closest listed: ")
        assert "terms: " in prediction.reason
        assert prediction.model_version == model.version
    quantization = model.predict([CLEAR[Label.QUANTIZATION]], clear_vectors[:1])[0]
    assert "(quantization, " in quantization.reason and "quantiz" in quantization.reason


def test_needs_review_follows_the_configured_band(model: Model, clear_vectors: np.ndarray) -> None:
    pairs = list(CLEAR.values())
    relevance = [1 - p.probabilities["irrelevant"] for p in model.predict(pairs, clear_vectors)]
    flagged = model.predict(pairs, clear_vectors, review_low=0.0, review_high=1.0)
    assert all(p.needs_review for p in flagged)
    banded = model.predict(pairs, clear_vectors, review_low=0.35, review_high=0.65)
    assert [p.needs_review for p in banded] == [0.35 <= r <= 0.65 for r in relevance]


def test_training_is_deterministic(data: tuple[list[LabelledPaper], np.ndarray], model: Model,
                                   clear_vectors: np.ndarray) -> None:
    again = train(*data, seed=0)
    assert again.version == model.version
    pairs = list(CLEAR.values())
    np.testing.assert_array_equal(again.probabilities(pairs, clear_vectors),
                                  model.probabilities(pairs, clear_vectors))
    assert again.predict(pairs, clear_vectors) == model.predict(pairs, clear_vectors)


def test_maintainer_examples_are_accepted_and_change_the_version(
        data: tuple[list[LabelledPaper], np.ndarray], model: Model, embedder: SentenceTransformerEmbedder,
) -> None:
    papers, vectors = data
    decision = LabelledPaper("2501.00001", "TinyCache: caching attention maps in video diffusion", None,
                             Label.PRUNING, source=ProposalState.MERGED, weight=MAINTAINER_WEIGHT)
    extended = train([*papers, decision], np.vstack([vectors, embedder.embed([decision.text])]))
    assert extended.version != model.version
    assert extended.n_train == model.n_train + 1
    assert "TinyCache: caching attention maps in video diffusion" in extended.listed_titles


def test_bad_inputs_raise_classifier_error(data: tuple[list[LabelledPaper], np.ndarray],
                                           model: Model) -> None:
    papers, vectors = data
    with pytest.raises(ClassifierError, match="vectors"):
        train(papers, vectors[:-1])
    with pytest.raises(ClassifierError, match="two labels"):
        train(papers[:3], vectors[:3])
    with pytest.raises(ClassifierError, match="vectors"):
        model.predict([("a title", None)], vectors[:2])
    assert model.predict([], vectors[:0]) == []


def test_remembered_counts_equal_fresh_counts_and_keep_shared_terms_only() -> None:
    from classifier.ngrams import count_terms as _count_terms

    texts = ["Quantized diffusion transformers run fast", "Pruned diffusion transformers run fast",
             "Distilled diffusion students", "zebra"]
    vocabulary, counts = _count_terms(texts)
    again_vocabulary, again = _count_terms(list(reversed(texts)))  # every row now comes from memory
    np.testing.assert_array_equal(again_vocabulary.columns, vocabulary.columns)
    np.testing.assert_array_equal(again.toarray()[::-1], counts.toarray())
    np.testing.assert_array_equal(vocabulary.transform(texts).toarray(), counts.toarray())
    assert counts[3].nnz == 0  # "zebra" is in one paper only: none of its words or letters are kept
    assert counts[0].nnz > 0 and vocabulary.transform(["zebra zebra"]).nnz == 0
    with pytest.raises(ValueError, match="no word"):
        _count_terms(["alpha beta", "gamma delta"])


def test_later_rubric_read_papers_weigh_more() -> None:
    from classifier.model import RECENCY_GAIN, recency_factors

    def paper(published: str | None, source: str = "annotated") -> LabelledPaper:
        return LabelledPaper(None, "a title", None, Label.PRUNING, source=source, published=published)

    papers = [paper("2025-03-01"), paper("2025-03-31"), paper("2025-05-30"), paper(None),
              paper("2025-06-01", source="awesome-list"), paper("2025-04-15", source=ProposalState.MERGED)]
    factors = recency_factors(papers)
    assert factors[0] == 1.0 and factors[2] == RECENCY_GAIN  # the earliest and the latest rubric-read paper
    assert factors[1] == pytest.approx(1.0 + (RECENCY_GAIN - 1.0) * 30 / 90)  # 30 of the 90 days
    assert list(factors[3:]) == [1.0, 1.0, 1.0]  # undated, list entries and maintainers' decisions: as given
    assert list(recency_factors([paper("2025-03-01"), paper("2025-03-01")])) == [1.0, 1.0]
    assert list(recency_factors([paper(None)])) == [1.0]


def test_irrelevant_bias_is_fitted_within_its_grid(model: Model) -> None:
    from classifier.calibrate import BIAS_GRID

    assert BIAS_GRID.min() <= model.irrelevant_bias <= BIAS_GRID.max()


def test_relevance_is_the_five_label_svms_and_sections_are_ranked_with_the_section_svm(
        data: tuple[list[LabelledPaper], np.ndarray], model: Model) -> None:
    from classifier.features import term_matrix
    from classifier.learner import label_columns as _label_columns

    papers, vectors = data
    learner = model.learner
    assert learner.section_svm is not None
    assert sorted(learner.section_svm.classes_) == sorted(label.value for label in Label if label.is_section)
    counts = model.vocabulary.transform([paper.text for paper in papers])
    terms = term_matrix([(paper.title, paper.abstract) for paper in papers])
    scores = learner.scores(counts, vectors, terms)
    x = learner.features.transform(counts, vectors, terms)
    five, section = _label_columns(learner.svm, x), _label_columns(learner.section_svm, x)
    irrelevant = LABEL_VALUES.index(Label.IRRELEVANT.value)
    sections = [i for i in range(len(LABEL_VALUES)) if i != irrelevant]
    np.testing.assert_array_equal(scores[:, irrelevant], five[:, irrelevant])
    np.testing.assert_allclose(scores[:, sections].max(axis=1), five[:, sections].max(axis=1))
    blended = five[:, sections] + section[:, sections]
    np.testing.assert_array_equal(scores[:, sections].argmax(axis=1), blended.argmax(axis=1))
    assert np.any(five[:, sections].argmax(axis=1) != blended.argmax(axis=1))  # the section SVM has a say


def test_the_embeddings_section_regression_moves_sections_never_relevance(
        data: tuple[list[LabelledPaper], np.ndarray], model: Model) -> None:
    from dataclasses import replace

    papers, vectors = data
    assert model.section_regression is not None
    pairs = [(paper.title, paper.abstract) for paper in papers]
    svms_only = replace(model, section_regression=None)
    blended, plain = model.probabilities(pairs, vectors), svms_only.probabilities(pairs, vectors)
    irrelevant = LABEL_VALUES.index(Label.IRRELEVANT.value)
    np.testing.assert_array_equal(blended[:, irrelevant], plain[:, irrelevant])
    np.testing.assert_allclose(blended.sum(axis=1), 1.0)
    with_blend, without = model.predict(pairs, vectors), svms_only.predict(pairs, vectors)
    assert [p.label.is_section for p in with_blend] == [p.label.is_section for p in without]
    assert np.abs(blended - plain).max() > 0.01  # it has a say in P(section | relevant)
    for prediction in with_blend:
        if prediction.label.is_section:  # the section is the blend's best
            best = max((x for x in Label if x.is_section), key=lambda x: prediction.probabilities[x.value])
            assert prediction.label is best


def test_the_consensus_is_the_least_any_view_gives_the_label(
        data: tuple[list[LabelledPaper], np.ndarray], model: Model) -> None:
    from dataclasses import replace

    papers, vectors = data
    pairs = [(paper.title, paper.abstract) for paper in papers]
    predictions = model.predict(pairs, vectors)
    plain = replace(model, section_regression=None).probabilities(pairs, vectors)
    assert model.section_regression is not None
    regression = model.section_regression.predict_proba(vectors)
    columns = list(model.section_regression.classes_)
    split = 0
    for row, p in enumerate(predictions):
        assert p.consensus is not None and p.sureness == p.consensus <= p.probability
        if not p.label.is_section:  # P(irrelevant) is the same in every view
            assert p.consensus == p.probability
            continue
        views = (p.probability, plain[row, LABEL_VALUES.index(p.label.value)],
                 p.relevance * regression[row, columns.index(p.label.value)])
        assert p.consensus == pytest.approx(min(views), abs=1e-3)
        split += p.consensus < p.probability - 0.05
    assert split > 0  # the views do disagree on some sections


def test_one_section_among_the_relevant_papers_trains_without_a_section_svm(
        data: tuple[list[LabelledPaper], np.ndarray], model: Model, clear_vectors: np.ndarray) -> None:
    papers, vectors = data
    rows = [i for i, paper in enumerate(papers) if paper.label in (Label.PRUNING, Label.IRRELEVANT)]
    narrow = train([papers[i] for i in rows], vectors[rows])
    assert narrow.learner.section_svm is None
    predicted = {p.label for p in narrow.predict(list(CLEAR.values()), clear_vectors)}
    assert predicted <= {Label.PRUNING, Label.IRRELEVANT} and Label.PRUNING in predicted
