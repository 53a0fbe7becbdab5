"""Bench: record an LLM judge's answers for the forward judge, to score the hybrid without a network later.

Run by hand; not part of the test suite. It retrains the local model month by month from 2026-02, as
``paperbot train --holdout-from 2026-02 --monthly`` does, and picks each month's papers the way a run
picks them (``classifier.hybrid.asking_order`` under the ``[judge]`` settings, at most ``asking_cap`` a
month). Then either

* ``--prompts FILE`` writes, for each picked paper, the chat-completions request body paperbot would send
  (``bot.judge.prompt.request_body``: the rubric as the system message, the paper as quoted data), one JSON
  object a line ``{"arxiv_id", "request"}``, to be answered by any means; or
* ``--answers FILE`` asks the endpoint of ``PAPERBOT_LLM_URL`` / ``PAPERBOT_LLM_MODEL`` (token from
  ``PAPERBOT_LLM_TOKEN`` or ``GITHUB_TOKEN``) through paperbot's own client, paced and retried as a run
  is, and writes the answers as ``paperbot judge export`` does, for ``--judge-answers``.

``--rule-share S`` widens the pick to the least sure S of each month (as well as the rule), so that one
recording can score several asking rules. ``bench/data/judge-answers-2026.jsonl`` holds answers recorded
this way; the README ("The LLM judge") says which model gave them and how.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from judge_ceiling import vectors_for

from bot.core.config import JudgeSettings
from bot.core.models import Paper
from bot.judge.prompt import request_body
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper, rubric_text, training_corpus
from classifier.forward import monthly_from
from classifier.hybrid import LocalPredictions, asking_cap, asking_order

START = "2026-02-01"


def picked(judge: JudgeSettings, share: float) -> list[LabelledPaper]:
    """The papers the forward judge's months would ask about, month by month, least sure first."""
    examples = training_corpus()
    local, chosen = LocalPredictions(), []

    def pick(train_part, train_vectors, test_part, test_vectors):  # type: ignore[no-untyped-def]
        predictions = local(train_part, train_vectors, test_part, test_vectors)
        by_id = {paper.arxiv_id: prediction for paper, prediction in zip(test_part, predictions, strict=True)
                 if paper.arxiv_id}
        order = asking_order(judge, by_id)[: asking_cap(judge, len(test_part))]
        least_sure = sorted(by_id, key=lambda key: (by_id[key].sureness, key))
        wanted = set(order) | set(least_sure[: round(share * len(test_part))])
        chosen.extend(paper for paper in test_part if paper.arxiv_id in wanted)
        return [p.label for p in predictions]

    monthly_from({"pick": pick}, examples, vectors_for(examples), start=START, score_sources=RUBRIC_SOURCES)
    return chosen


def as_paper(paper: LabelledPaper) -> Paper:
    return Paper(arxiv_id=paper.arxiv_id or "", title=paper.title, abstract=paper.abstract)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--prompts", metavar="FILE", help="write the request bodies (JSONL)")
    out.add_argument("--answers", metavar="FILE", help="ask PAPERBOT_LLM_URL, write its answers (JSONL)")
    parser.add_argument("--rule-share", type=float, default=0.0,
                        help="also pick the least sure share of each month (0..1)")
    args = parser.parse_args()
    judge = JudgeSettings(url=os.environ.get("PAPERBOT_LLM_URL") or None,
                          model=os.environ.get("PAPERBOT_LLM_MODEL") or JudgeSettings().model,
                          token=os.environ.get("PAPERBOT_LLM_TOKEN") or os.environ.get("GITHUB_TOKEN"))
    papers = picked(judge, args.rule_share)
    print(f"{len(papers)} papers picked over the months from {START[:7]}", file=sys.stderr)
    rubric = rubric_text()
    if args.prompts:
        with Path(args.prompts).open("w", encoding="utf-8") as handle:
            for paper in papers:
                body = request_body(as_paper(paper), rubric, judge.model, "json_schema")
                handle.write(json.dumps({"arxiv_id": paper.arxiv_id, "request": body}, ensure_ascii=False)
                             + "\n")
        return
    if not judge.enabled:
        raise SystemExit("--answers needs PAPERBOT_LLM_URL")
    from bot.judge.client import Judge

    answered = 0
    with Judge(judge, rubric) as client, Path(args.answers).open("w", encoding="utf-8") as handle:
        for paper in papers:
            verdict = client.ask(as_paper(paper))
            if verdict is None:
                continue
            answered += 1
            handle.write(json.dumps({"arxiv_id": paper.arxiv_id, "label": verdict.label.value,
                                     "secondary": verdict.secondary.value if verdict.secondary else None,
                                     "reason": verdict.reason, "model": verdict.model,
                                     "prompt_version": verdict.prompt_version}, ensure_ascii=False) + "\n")
    print(f"{answered} answers, {client.requests} requests", file=sys.stderr)


if __name__ == "__main__":
    main()
