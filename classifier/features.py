"""Rubric-informed term features: what a maintainer looks for when filing a paper.

Pure and cheap (regular expressions, no model); used by ``classifier.model`` at training and prediction
time alongside the sentence embedding and TF-IDF. Each lexicon below is one question from the rubric
(``classifier/data/RUBRIC.md``): is the paper about a diffusion-family model, is efficiency its point, which
technique does it lead with, is it one of the look-alikes the rubric turns away. For each lexicon we record
whether the title says it, how often the abstract says it, and how early the abstract first says it
("pick the one the paper leads with"), plus family x technique interactions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np


def _lexicon(pattern: str) -> re.Pattern[str]:
    """Terms matched at a word start in lower-cased text (anchoring at word starts keeps this fast)."""
    return re.compile(rf"\b(?:{pattern})")


LEXICONS: dict[str, re.Pattern[str]] = {
    "family": _lexicon(
        r"diffusion|denois|score[- ]based|flow[- ]matching|"
        r"rectified[- ]flow|consistency (?:model|train|distill)|"
        r"\bdits?\b|\bmmdit|\bdllms?\b|stable[- ]diffusion|\bsdxl\b|\bsd ?3|\bflux\b|\bwan ?2|hunyuan|"
        r"latent (?:video|image)? ?generat|text-to-(?:image|video)|"
        r"\bt2[iv]\b|video generation|image generation|"
        r"meanflow|mean flow|flow models?|\bedm\b|\bddim\b|\bddpm\b"),
    "efficiency": _lexicon(
        r"efficien|accelerat|speed ?-?up|faster|\bfast\b|"
        r"latency|real[- ]time|throughput|inference (?:cost|time)|"
        r"computational (?:cost|overhead|burden)|memory|flops|\d+(?:\.\d+)? ?(?:×|x\b)|lightweight|on-device|"
        r"mobile|cheap|training-free|compress|reduc\w* (?:the )?(?:cost|compute|computation|steps)"),
    "quantization": _lexicon(
        r"quantiz|low-bit|\b\d{1,2}-bit|\bw\d+a\d+\b|binar|"
        r"ternary|\bint[248]\b|\bfp[48]\b|mixed[- ]precision|"
        r"\bptq\b|\bqat\b|precision"),
    "pruning": _lexicon(
        r"prun|sparse|sparsit|\bcach|kv[- ]cache|token (?:merg|prun|reduc|drop|downsampl|select)|\btome\b|"
        r"early[- ]exit|\bskip|reus|redundan|sliding[- ]window|"
        r"stitch|dynamic (?:network|width|depth|inference)"),
    "distillation": _lexicon(
        r"distill|one[- ]step|single[- ]step|few[- ]step|"
        r"\b[1-8][- ]steps?\b|consistency (?:model|distill|train)|"
        r"\blcm\b|student|teacher|distribution matching|\bdmd\b|adversarial (?:diffusion )?distill|reflow|"
        r"straight|shortcut|mean ?flow|flow maps?"),
    "other": _lexicon(
        r"solver|sampler|\bode\b|\bsde\b|schedul|parallel|"
        r"speculative|linear attention|\bkernel|hardware|fpga|"
        r"\bgpus?\b|compil|training (?:cost|efficien)|efficient training|survey|architecture|backbone|"
        r"decoding|distributed"),
    "not_family": _lexicon(
        r"\bllms?\b|large language model|autoregressive|\bvar\b|vision transformer|\bvits?\b|\bcnns?\b|"
        r"convolutional neural|\bbert\b|speech recogn|object detect"),
    "look_alike": _lexicon(
        r"dataset distillation|data distillation|vector[- ]quantiz|\bvq\b|\bvq-|tokeniz|codec|"
        r"image compression|video compression|concept eras|unlearn|safety|watermark|adversarial attack|"
        r"drafter|draft model|speculative decoding for (?:llm|autoregressive)"),
    "quality": _lexicon(
        r"editing|personaliz|controll|fidelity|alignment|preference|3d|reconstruct|restor|super-resolution|"
        r"inpaint|segment|medical|theor"),
}
LEXICON_NAMES: tuple[str, ...] = tuple(LEXICONS)
TECHNIQUES = ("quantization", "pruning", "distillation", "other")
_PER_LEXICON = 3  # in title, log count in abstract, earliness of first mention in abstract
N_FEATURES = len(LEXICONS) * _PER_LEXICON + 2 * len(TECHNIQUES) + 1


def term_features(title: str, abstract: str | None) -> np.ndarray:
    """The rubric features of one paper, a float32 vector of length ``N_FEATURES``."""
    title = title.lower()
    body = (abstract or "").lower()
    values: list[float] = []
    hits: dict[str, tuple[bool, float]] = {}
    for name, pattern in LEXICONS.items():
        in_title = pattern.search(title) is not None
        matches = list(pattern.finditer(body))
        earliness = 1.0 - matches[0].start() / max(len(body), 1) if matches else 0.0
        values += [float(in_title), math.log1p(len(matches)), earliness]
        hits[name] = (in_title, earliness)
    family = float(hits["family"][0] or hits["family"][1] > 0)
    efficiency = float(hits["efficiency"][0] or hits["efficiency"][1] > 0)
    for name in TECHNIQUES:
        in_title, earliness = hits[name]
        values += [family * float(in_title), family * earliness]
    values.append(family * efficiency)
    return np.asarray(values, dtype=np.float32)


@lru_cache(maxsize=1 << 16)
def _cached_features(title: str, abstract: str | None) -> tuple[float, ...]:
    return tuple(term_features(title, abstract).tolist())


def term_matrix(titles_abstracts: Sequence[tuple[str, str | None]]) -> np.ndarray:
    """``term_features`` for many papers, shape ``(n, N_FEATURES)``.

    Remembered per paper for the life of the process: cross-validation, ``feedback --scores`` and a
    long-running ``paperbot schedule`` train on the same corpus again and again.
    """
    if not titles_abstracts:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    return np.array([_cached_features(title, abstract) for title, abstract in titles_abstracts],
                    dtype=np.float32)


def decisive_terms(title: str, abstract: str | None, *, limit: int = 4) -> list[str]:
    """The distinct technique and family terms a paper uses, title first, for the prediction's reason."""
    found: list[str] = []
    for text in (title.lower(), (abstract or "").lower()):
        for name in ("family", *TECHNIQUES, "look_alike", "not_family"):
            for match in LEXICONS[name].finditer(text):
                term = match.group(0).lower().strip()
                if term not in found:
                    found.append(term)
                if len(found) >= limit:
                    return found
    return found


# The rubric's look-alikes that loosely kept lists file under a section (data/README.md): vector-quantized
# tokenizers under Quantization, safety or concept-removal work under Distillation, dataset distillation.
LOOSE_FILING = re.compile(
    r"tokeniz|vq-?vae|codebook|concept eras|unlearn|\bsafe|nsfw|dataset distill|watermark", re.IGNORECASE)


def loose_filing(title: str, abstract: str | None) -> bool:
    """True when a list entry's title or abstract is one of the rubric's look-alikes (``irrelevant``)."""
    return LOOSE_FILING.search(f"{title} {abstract or ''}") is not None
