"""Two baselines paperbot must beat, scored on the same split by ``classifier.evaluate``.

Runs only for ``paperbot evaluate``/``train`` and the tests. Pure: labelled papers in, labels out.
- ``keyword_rules``: what digest bots do, regular expressions on the title alone, no training.
- ``tfidf_svm``: word 1-2-gram TF-IDF of title + abstract and a LinearSVC (balanced classes), trained on the
  same training papers as paperbot (vectors are ignored).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bot.core.labels import Label
from classifier.corpus import LabelledPaper

FAMILY_RE = re.compile(
    r"diffusion|denois|score-based|flow[- ]matching|rectified flow|consistency model|\bdits?\b|"
    r"text-to-(?:image|video)|stable diffusion|\bflux\b",
    re.IGNORECASE,
)
# First match wins, in the order the rubric resolves overlaps: low-bit first, caching/tokens to pruning.
TECHNIQUE_RULES: tuple[tuple[Label, re.Pattern[str]], ...] = (
    (Label.QUANTIZATION, re.compile(r"quantiz|low-bit|\d-bit|binar|ternary|int[48]\b|fp[48]\b", re.I)),
    (Label.PRUNING, re.compile(r"prun|spars|cach|token (?:merg|prun|reduc)|early exit|skip", re.I)),
    (Label.DISTILLATION, re.compile(r"distill|one-step|single-step|few-step|\d-step|consistency", re.I)),
    (Label.OTHER, re.compile(r"fast|efficien|accelerat|speed|solver|sampler|parallel|latency|real-time|"
                             r"lightweight|linear attention|mobile", re.I)),
)


def keyword_label(title: str) -> Label:
    """The keyword rule for one title: a diffusion-family term and a technique term, else irrelevant."""
    if not FAMILY_RE.search(title):
        return Label.IRRELEVANT
    for label, pattern in TECHNIQUE_RULES:
        if pattern.search(title):
            return label
    return Label.IRRELEVANT


def keyword_rules(train: Sequence[LabelledPaper], train_vectors: np.ndarray,
                  test: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Label]:
    return [keyword_label(paper.title) for paper in test]


def tfidf_svm(train: Sequence[LabelledPaper], train_vectors: np.ndarray,
              test: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Label]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode")
    features = vectorizer.fit_transform([paper.text for paper in train])
    svm = LinearSVC(C=1.0, class_weight="balanced", random_state=0)
    svm.fit(features, [paper.label.value for paper in train])
    return [Label(value) for value in svm.predict(vectorizer.transform([paper.text for paper in test]))]


BASELINES = {"keywords": keyword_rules, "tfidf-svm": tfidf_svm}
