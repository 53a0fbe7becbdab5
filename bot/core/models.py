"""Plain, typed domain objects shared by every stage.

Nothing here touches the network, the database or the model: ``db/store.py`` converts these to and from rows,
``bot/arxiv/client.py`` builds ``Paper`` objects from arXiv, the classifier returns ``Prediction`` objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.labels import SECTION_LABELS, Label
from bot.core.states import RunStatus

# arXiv identifiers (https://info.arxiv.org/help/arxiv_identifier.html): new style YYMM.NNNN(N) (4 digits for
# 0704-1412, 5 since 1501, 6 reserved for the future) and old style archive(.SUBJ)/YYMMNNN, each with an
# optional version suffix.
ARXIV_ID_RE = re.compile(
    r"^(?P<base>\d{4}\.\d{4,6}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?$"
)


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Split an arXiv id (optionally a URL, optionally with ``vN``) into ``(base_id, version)``.

    Raises ValueError for anything that is not an arXiv identifier.
    """
    candidate = text.strip()
    for prefix in ("https://", "http://"):
        if candidate.startswith(prefix):
            candidate = candidate[len(prefix):]
            host, _, path = candidate.partition("/")
            if host not in {"arxiv.org", "www.arxiv.org", "export.arxiv.org"}:
                raise ValueError(f"not an arXiv URL: {text!r}")
            for section in ("abs/", "pdf/", "html/"):
                if path.startswith(section):
                    path = path[len(section):]
                    break
            else:
                raise ValueError(f"not an arXiv abstract URL: {text!r}")
            candidate = path.removesuffix(".pdf").rstrip("/")
            break
    if candidate.lower().startswith("arxiv:"):
        candidate = candidate[len("arxiv:"):]
    match = ARXIV_ID_RE.match(candidate)
    if match is None:
        raise ValueError(f"not an arXiv id: {text!r}")
    version = match.group("version")
    return match.group("base"), int(version) if version else None


ABS_URL = "https://arxiv.org/abs/"  # + a base id: the abstract page, on the list, in exports and output


def abs_url(arxiv_id: str) -> str:
    """The version-less abstract page of a validated arXiv id."""
    base, _ = parse_arxiv_id(arxiv_id)
    return f"{ABS_URL}{base}"


@dataclass(frozen=True)
class Paper:
    """One arXiv paper, latest version known. ``arxiv_id`` never carries a version suffix."""

    arxiv_id: str
    title: str
    abstract: str | None = None
    version: int = 1
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def text(self) -> str:
        """What the classifier reads: title and abstract, or the title alone."""
        if self.abstract:
            return f"{self.title}. {self.abstract}"
        return self.title


@dataclass(frozen=True)
class Prediction:
    """What the classifier says of one paper."""

    label: Label
    probability: float
    probabilities: dict[str, float]
    runner_up: Label
    runner_up_probability: float
    needs_review: bool
    reason: str
    model_version: str = ""
    # the least probability that any of the model's views gives the label (classifier.model: the blend, the
    # SVMs alone, the embedding's section regression); None when not known (a prediction stored before it)
    consensus: float | None = None

    @property
    def sureness(self) -> float:
        """How sure the model is of its label, as the judge's asking rule reads it: ``consensus`` when known
        (no view of the model gives the label less), else ``probability``."""
        return self.probability if self.consensus is None else min(self.probability, self.consensus)

    @property
    def relevance(self) -> float:
        """The probability that the paper belongs on the list at all (in any section)."""
        return 1.0 - self.probabilities.get(Label.IRRELEVANT.value, 0.0)

    def other_section(self, min_share: float) -> Label | None:
        """The runner-up section when this paper's section is a toss-up, else None.

        A toss-up: the label holds less than ``min_share`` of the probability that the paper is relevant
        at all. Irrelevant predictions, and ``min_share`` 0, give None.
        """
        relevant = self.relevance
        if not self.label.is_section or min_share <= 0 or relevant <= 0:
            return None
        if self.probabilities.get(self.label.value, 0.0) >= min_share * relevant:
            return None
        others = [label for label in SECTION_LABELS if label is not self.label]
        return max(others, key=lambda label: self.probabilities.get(label.value, 0.0))


@dataclass(frozen=True)
class JudgeVerdict:
    """What the optional LLM judge said of one paper (``bot/judge``); cached per model and prompt version."""

    label: Label
    secondary: Label | None
    reason: str
    model: str
    prompt_version: str


@dataclass(frozen=True)
class Addition:
    """A paper the bot proposes to add to one section of the list."""

    paper: Paper
    label: Label
    probability: float = 1.0
    reason: str = ""
    code_url: str | None = None
    other_section: Label | None = None  # the runner-up section when the section is a toss-up
    # where the LLM judge and the local model disagree: the local model's label, the judge's reason
    local_label: Label | None = None
    judge_reason: str | None = None


@dataclass
class RunReport:
    """Counts and outcome of one pipeline run; printed as JSON and written to the output folder."""

    run_id: int | None = None
    status: RunStatus = RunStatus.RUNNING
    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0
    embedded: int = 0
    classified: int = 0
    judged: int = 0  # new verdicts of the LLM judge
    turned_away: int = 0  # recent papers the local model proposed or asked about and the judge turned away
    proposed: int = 0
    needs_review: int = 0
    already_listed: int = 0
    pr_url: str | None = None
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
