"""Train the paper classifier from labelled papers and apply it.

Runs at the start of every classify/evaluate run: training takes seconds on cached embeddings, so the model
is derived from the data each time rather than saved to a file that drifts from it. Pure: reads labelled
papers and their vectors (from ``classifier.embed``), returns a ``Model`` and ``Prediction`` objects; it
neither embeds nor touches the database.

The model, chosen by stratified cross-validation on the training corpus (see ``classifier.evaluate``):
1. features: TF-IDF of word 1-2-grams and of character 3-5-grams inside words (``classifier.ngrams``), over
   title + abstract; the MiniLM sentence embedding; and the rubric term features of ``classifier.features``,
   side by side. The character n-grams carry the pieces of new method names (TeaCache, FastCache, Q-DiT,
   dLLM-Cache) that word n-grams see as unknown words;
2. a linear SVM over the five labels (balanced classes, per-paper weights from the label source; the
   rubric-read papers weigh more the later they were published, ``recency_factors``), which decides
   relevance, and a second linear SVM fitted on the relevant papers alone, which with it ranks the sections
   (``classifier.learner``); a logistic regression on the embedding alone, fitted on the relevant papers,
   then takes ``SECTION_LR_SHARE`` (0.3) of P(section | relevant) (``learner.blend_sections``): it moves
   the section, and how sure the model says it is of it, never P(relevant) or the relevance decision;
3. a shift of the irrelevant score that sets the relevant/irrelevant threshold, chosen to maximise
   relevance F1 on out-of-fold scores of the rubric-labelled rows, then a softmax whose temperature is
   fitted on the same out-of-fold scores (``classifier.calibrate``), so the probabilities mean something.
   The label is irrelevant when the SVMs' argmax is, else the blend's best section (whose probability can
   then fall below P(irrelevant) when the two disagree on the section): ``needs_review`` is set when
   P(relevant) falls inside the configured band. ``consensus`` is the least probability that any view
   gives the label (the blend, the SVMs alone, the regression times P(relevant)): the judge's asking rule
   reads it (``classifier.hybrid.asking_order``).
List entries that the rubric turns away (vector-quantized tokenizers, safety "distillation"), which some
lists file under a section, are trained on as ``irrelevant`` (``features.loose_filing``).
Each prediction's reason names the closest papers on the list (training papers with a section label) and
the rubric terms the paper uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from bot.core.errors import ClassifierError
from bot.core.labels import LABEL_VALUES, Label
from bot.core.models import Prediction
from classifier.calibrate import calibrate as fit_calibration
from classifier.calibrate import softmax
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper, rubric_label
from classifier.embed import paper_text
from classifier.features import decisive_terms, term_matrix
from classifier.learner import (
    IRRELEVANT_COLUMN,
    Learner,
    blend_sections,
    fit_learner,
    fit_section_regression,
    section_regression_probabilities,
)
from classifier.ngrams import Vocabulary, count_terms

# Bump when the features or the learner change, so Model.version changes with the code, not only the data.
CODE_VERSION = "svm-tfidf-words-chars-minilm-terms-recency-sections-embedding-lr-7"
NEIGHBOURS_IN_REASON = 2
# arXiv's topics drift month by month (diffusion language models, video DiTs, each new cache), and the papers
# the bot classifies are always later than any it learned from. So the rubric-read papers weigh more the later
# they appeared: linearly from 1x for the earliest to RECENCY_GAIN x for the latest, the maintainers' weight.
# Checked on four judges (train --seeds 3, --holdout-from 2025-09, --holdout-from 2025-06 --monthly, dev):
# it lost on none and gained most on the monthly one, which retrains as the bot does; 1.5x and 3x came close.
RECENCY_GAIN = 2.0


def data_version(examples: Sequence[LabelledPaper], seed: int) -> str:
    """A short hash of the code version, the seed and every training paper's text, label, weight and date."""
    digest = hashlib.sha256(f"{CODE_VERSION}\0{seed}".encode())
    for paper in examples:
        digest.update(f"\0{paper.text}\0{paper.label.value}\0{paper.weight:.6g}\0{paper.published}".encode())
    return f"{CODE_VERSION}@{digest.hexdigest()[:12]}"


def recency_factors(examples: Sequence[LabelledPaper]) -> np.ndarray:
    """Each paper's weight multiplier: 1 for the earliest rubric-read paper with a date, rising linearly
    with the date to ``RECENCY_GAIN`` for the latest; 1 for every other paper."""
    factors = np.ones(len(examples))
    dated = [(row, date.fromisoformat(paper.published[:10]).toordinal()) for row, paper in enumerate(examples)
             if paper.published and paper.source in RUBRIC_SOURCES]
    if not dated:
        return factors
    rows, days = np.array([row for row, _ in dated]), np.array([day for _, day in dated], dtype=np.float64)
    span = days.max() - days.min()
    if span > 0:
        factors[rows] = 1.0 + (RECENCY_GAIN - 1.0) * (days - days.min()) / span
    return factors


@dataclass
class Model:
    """A trained classifier: call ``predict`` with the papers and their embedding vectors."""

    version: str
    vocabulary: Vocabulary
    learner: Learner
    temperature: float
    irrelevant_bias: float
    listed_vectors: np.ndarray
    listed_titles: list[str]
    listed_labels: list[str]
    n_train: int
    section_regression: Any | None = None  # the embedding's second opinion on the section (learner)

    def probabilities(self, titles_abstracts: Sequence[tuple[str, str | None]],
                      vectors: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, 5)`` in ``LABEL_VALUES`` order; rows sum to 1."""
        return self._probabilities(titles_abstracts, vectors)[1]

    def _probabilities(self, titles_abstracts: Sequence[tuple[str, str | None]],
                       vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The SVMs' calibrated probabilities; the same with the sections blended with the embedding's
        regression (``learner.blend_sections``); and the regression's P(section | relevant) (None without)."""
        texts = [paper_text(title, abstract) for title, abstract in titles_abstracts]
        counts = self.vocabulary.transform(texts)
        scores = self.learner.scores(counts, vectors, term_matrix(titles_abstracts))
        scores[:, IRRELEVANT_COLUMN] += self.irrelevant_bias
        plain = softmax(scores, self.temperature)
        regression = section_regression_probabilities(self.section_regression,
                                                      np.asarray(vectors, dtype=np.float32))
        return plain, blend_sections(plain, regression), regression

    def predict(self, titles_abstracts: Sequence[tuple[str, str | None]], vectors: np.ndarray, *,
                review_low: float = 0.35, review_high: float = 0.65) -> list[Prediction]:
        """One Prediction per ``(title, abstract)``; ``vectors`` are their embeddings, row for row."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(titles_abstracts) != len(vectors):
            raise ClassifierError(f"{len(titles_abstracts)} papers but {len(vectors)} vectors")
        if len(titles_abstracts) == 0:
            return []
        if vectors.shape[1] != self.listed_vectors.shape[1]:
            raise ClassifierError(f"vectors have {vectors.shape[1]} dimensions, the model was trained on "
                                  f"{self.listed_vectors.shape[1]}")
        plain, probs, regression = self._probabilities(titles_abstracts, vectors)
        similarity = vectors @ self.listed_vectors.T if len(self.listed_titles) else None
        predictions = []
        for row, (title, abstract) in enumerate(titles_abstracts):
            p = probs[row]
            relevance = 1.0 - float(p[IRRELEVANT_COLUMN])
            order = [int(i) for i in np.argsort(-p, kind="stable")]
            # relevance is the SVMs' decision alone (irrelevant when it wins their argmax), the section the
            # blend's best; the blend moves only P(section | relevant)
            irrelevant = int(np.argmax(plain[row])) == IRRELEVANT_COLUMN
            best = IRRELEVANT_COLUMN if irrelevant else next(i for i in order if i != IRRELEVANT_COLUMN)
            second = next(i for i in order if i != best)
            label = Label(LABEL_VALUES[best])
            # the views' consensus on the label: a section must be likely in the blend, in the SVMs alone and
            # in the embedding's regression (times P(relevant)); P(irrelevant) is the same in all of them
            views = [float(p[best])]
            if best != IRRELEVANT_COLUMN:
                views.append(float(plain[row, best]))
                if regression is not None:
                    views.append(relevance * float(regression[row, best]))
            predictions.append(Prediction(
                label=label,
                probability=round(float(p[best]), 4),
                probabilities={name: round(float(p[i]), 4) for i, name in enumerate(LABEL_VALUES)},
                runner_up=Label(LABEL_VALUES[second]),
                runner_up_probability=round(float(p[second]), 4),
                needs_review=review_low <= relevance <= review_high,
                reason=self._reason(label, None if similarity is None else similarity[row], title, abstract),
                model_version=self.version,
                consensus=round(min(views), 4),
            ))
        return predictions

    def _reason(self, label: Label, similarity: np.ndarray | None, title: str, abstract: str | None) -> str:
        parts = []
        if similarity is not None:
            candidates = np.arange(len(self.listed_titles))
            if label.is_section:
                same = np.array([name == label.value for name in self.listed_labels])
                if same.any():
                    candidates = candidates[same]
            top = candidates[np.argsort(-similarity[candidates], kind="stable")[:NEIGHBOURS_IN_REASON]]
            closest = "; ".join(f'"{_short(self.listed_titles[i])}" ({self.listed_labels[i]}, '
                                f"{similarity[i]:.2f})" for i in top)
            parts.append(f"closest listed: {closest}")
        terms = decisive_terms(title, abstract)
        parts.append(f"terms: {', '.join(terms)}" if terms else "terms: none of the rubric's")
        return " | ".join(parts)


def _short(title: str, limit: int = 70) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def train(examples: Sequence[LabelledPaper], vectors: np.ndarray, *, seed: int = 0,
          calibrate: bool = True) -> Model:
    """Fit the classifier on labelled papers and their vectors (row for row). Deterministic for a seed."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(examples) != len(vectors):
        raise ClassifierError(f"{len(examples)} labelled papers but {len(vectors)} vectors")
    labels = np.array([rubric_label(paper) for paper in examples])
    if len(set(labels)) < 2:
        raise ClassifierError("training needs papers of at least two labels")
    texts = [paper.text for paper in examples]
    try:
        vocabulary, counts = count_terms(texts)
    except ValueError:  # every term in fewer than two papers: too little text to learn from
        raise ClassifierError(f"the {len(texts)} training papers share no terms") from None
    terms = term_matrix([(paper.title, paper.abstract) for paper in examples])
    weights = np.array([paper.weight for paper in examples], dtype=np.float64) * recency_factors(examples)
    learner = fit_learner(counts, vectors, terms, labels, weights, seed)
    rubric_rows = np.array([paper.source in RUBRIC_SOURCES for paper in examples])
    bias, temperature = (fit_calibration(counts, vectors, terms, labels, weights, rubric_rows, seed)
                         if calibrate else (0.0, 1.0))
    listed = [i for i, label in enumerate(labels) if label != Label.IRRELEVANT.value]
    regression = fit_section_regression(vectors, labels, weights)
    return Model(
        version=data_version(examples, seed),
        vocabulary=vocabulary,
        learner=learner,
        temperature=temperature,
        irrelevant_bias=bias,
        listed_vectors=vectors[listed],
        listed_titles=[examples[i].title for i in listed],
        listed_labels=[str(labels[i]) for i in listed],
        n_train=len(examples),
        section_regression=regression,
    )


def paperbot_predictor(train_part: Sequence[LabelledPaper], train_vectors: np.ndarray,
                       test_part: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Label]:
    """``train`` then ``predict`` labels, in the shape ``classifier.evaluate`` compares."""
    model = train(train_part, train_vectors)
    pairs = [(paper.title, paper.abstract) for paper in test_part]
    return [prediction.label for prediction in model.predict(pairs, test_vectors)]
