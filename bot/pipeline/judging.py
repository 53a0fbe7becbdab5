"""The optional LLM judge in the pipeline: after the local prediction, ask about the least confident papers.

Only the papers the local model is least sure of are asked about (``classifier.hybrid.asking_order``): those
whose P(relevant) = 1 - P(irrelevant) lies in ``[judge.band_low, judge.band_high]`` or of whose label the
model is less sure than ``judge.label_below`` (and, with ``judge.section_share_below``, the filed papers
whose section is a toss-up), least sure first, at most ``judge.max_papers_per_run`` a run and
``judge.max_share_per_run`` of the papers put to the rule (``classifier.hybrid.asking_cap``). A paper with a
cached verdict of this judge (model and prompt version, ``db/judge.py``) is never asked again. Each verdict
is stored as it comes, so an interrupted run keeps the answers it paid for. The local prediction is kept
beside it; ``bot/pipeline/run.py`` files a judged paper under the judge's label. Nothing here fails a run:
the judge is advice, and without a verdict the local prediction stands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.core.config import Settings
from bot.core.models import JudgeVerdict, Prediction
from bot.judge.prompt import PROMPT_VERSION
from classifier.hybrid import asking_cap, asking_order
from db import judge as verdict_store
from db import store
from db.session import session_scope

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


@dataclass
class JudgeOutcome:
    asked: int = 0  # papers asked about this run
    cached: int = 0  # papers in the band that already had this judge's verdict
    requests: int = 0  # HTTP requests sent (retries included)
    verdicts: dict[str, JudgeVerdict] = field(default_factory=dict)  # the new ones


def judged(settings: Settings, engine: Engine) -> dict[str, JudgeVerdict]:
    """Every cached verdict of the configured judge ({} when the judge is off)."""
    if not settings.judge.enabled:
        return {}
    with session_scope(engine) as session:
        return verdict_store.cached_verdicts(session, settings.judge.model, PROMPT_VERSION)


def judge_predictions(settings: Settings, engine: Engine, predictions: Mapping[str, Prediction], *,
                      transport: httpx.BaseTransport | None = None,
                      sleep: Callable[[float], None] = time.sleep) -> JudgeOutcome:
    """Ask the judge about the least confident of ``predictions`` (at most the per-run cap), store the
    verdicts; a no-op when the judge is off."""
    outcome = JudgeOutcome()
    config = settings.judge
    cap = asking_cap(config, len(predictions))
    if not config.enabled or cap <= 0:
        return outcome
    band = asking_order(config, predictions)
    if not band:
        return outcome
    with session_scope(engine) as session:
        cached = verdict_store.cached_verdicts(session, config.model, PROMPT_VERSION, band)
        wanted = [arxiv_id for arxiv_id in band if arxiv_id not in cached][:cap]
        papers = store.get_papers(session, wanted)
    outcome.cached = len(cached)
    if not wanted:
        return outcome
    from bot.judge.client import Judge
    from classifier.corpus import rubric_text

    with Judge(config, rubric_text(), transport=transport, sleep=sleep) as client:
        for arxiv_id in wanted:
            paper = papers.get(arxiv_id)
            if paper is None:
                continue
            outcome.asked += 1
            try:
                verdict = client.ask(paper)
            except Exception as exc:  # advice only: nothing the judge does may fail the run
                log.warning("judge: %s failed for %s (%s); keeping the local prediction", client.host,
                            arxiv_id, type(exc).__name__)
                verdict = None
            if verdict is None:
                continue
            with session_scope(engine) as session:
                verdict_store.save_verdict(session, arxiv_id, verdict)
            outcome.verdicts[arxiv_id] = verdict
        outcome.requests = client.requests
    log.info("judge: asked about %d papers (%d verdicts, %d requests); %d had a verdict already",
             outcome.asked, len(outcome.verdicts), outcome.requests, outcome.cached)
    return outcome
