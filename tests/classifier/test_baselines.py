"""classifier/baselines.py: the keyword baseline paperbot is compared against."""

from __future__ import annotations

from classifier.baselines import keyword_label
from tests.support.classifier import IR, P, Q


def test_keyword_baseline_needs_a_family_term_and_a_technique() -> None:
    assert keyword_label("Q-Diffusion: Quantizing Diffusion Models") is Q
    assert keyword_label("DeepCache: Accelerating Diffusion Models for Free") is P
    assert keyword_label("Quantizing Large Language Models") is IR
    assert keyword_label("Diffusion Models Beat GANs") is IR
