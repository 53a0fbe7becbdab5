"""The LLM judge in the pipeline, against the loopback OpenAI-compatible server: the band, the cap, the cache,
every failure leaving the local label, the judge's label filing the paper and its reason escaped in the PR."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.awesome.prbody import render_pr_body
from bot.core.config import Settings
from bot.core.labels import Label
from bot.core.models import Prediction, RunReport
from bot.pipeline import judging
from bot.pipeline.run import RunOptions, candidates, run
from classifier.embed import HashingEmbedder
from db import store
from db.session import session_scope
from tests.support.cli import small_list
from tests.support.llm_server import LLMServer
from tests.support.store import paper

# id -> (local label, P(relevant), needs review)
LOCAL = {"2601.00001": (Label.PRUNING, 0.95, False),      # sure: never asked
         "2601.00002": (Label.QUANTIZATION, 0.52, True),  # the least confident: asked first
         "2601.00003": (Label.OTHER, 0.70, False),        # filed, in the band
         "2601.00004": (Label.IRRELEVANT, 0.25, False),   # dropped, in the band
         "2601.00005": (Label.IRRELEVANT, 0.05, False)}   # sure: never asked


def prediction(label: Label, relevant: float, review: bool) -> Prediction:
    section = label if label.is_section else Label.OTHER
    probabilities = {x.value: 0.0 for x in Label} | {section.value: relevant, "irrelevant": 1 - relevant}
    probability = relevant if label.is_section else 1 - relevant
    return Prediction(label, probability, probabilities, Label.IRRELEVANT, 1 - relevant, review,
                      f"local says {label.value}", "seeded")


@pytest.fixture
def seeded(engine: Engine) -> dict[str, Prediction]:
    predictions = {i: prediction(*v) for i, v in LOCAL.items()}
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper(i, title=f"Paper {i}") for i in LOCAL])
        store.save_predictions(s, predictions)
    return predictions


def settings_for(server: LLMServer, **judge: object) -> Settings:
    """The judge on the loopback server, asking about P(relevant) in 0.2-0.8: papers 2, 3 and 4 (no share
    cap: these are five papers, the share cap's test is below)."""
    return replace(Settings(), judge=server.settings(
        **{"band_low": 0.2, "band_high": 0.8, "max_share_per_run": 1.0} | judge))


def asked(server: LLMServer) -> list[str]:
    return [r.data["arxiv_id"] for r in server.requests]


def test_the_band_and_the_cap_least_confident_first(llm_server: LLMServer, engine: Engine,
                                                    seeded: dict[str, Prediction]) -> None:
    outcome = judging.judge_predictions(settings_for(llm_server, max_papers_per_run=2), engine, seeded)
    assert asked(llm_server) == ["2601.00002", "2601.00003"]  # the labels' P: 0.52, 0.70 (0.00004: 0.75)
    assert outcome.asked == 2 and set(outcome.verdicts) == {"2601.00002", "2601.00003"}


def test_a_run_asks_at_most_its_share_of_the_papers(llm_server: LLMServer, engine: Engine,
                                                    seeded: dict[str, Prediction]) -> None:
    # 40% of the five papers, rounded up: 2 of the 3 in the band, least sure first; 10%: the least sure one
    judging.judge_predictions(settings_for(llm_server, max_share_per_run=0.4), engine, seeded)
    assert asked(llm_server) == ["2601.00002", "2601.00003"]
    judging.judge_predictions(settings_for(llm_server, max_share_per_run=0.1, model="other/model"), engine,
                              seeded)
    assert asked(llm_server)[2:] == ["2601.00002"]


def test_the_default_rule_asks_a_toss_up_between_sections_and_not_a_sure_paper(
        llm_server: LLMServer, engine: Engine) -> None:
    def split(first: Label, p_first: float, second: Label, p_second: float) -> Prediction:
        probabilities = {x.value: 0.0 for x in Label} | {first.value: p_first, second.value: p_second,
                                                          "irrelevant": 1 - p_first - p_second}
        return Prediction(first, p_first, probabilities, second, p_second, False, "local", "seeded")

    predictions = {"2601.00011": split(Label.PRUNING, 0.52, Label.OTHER, 0.45),  # relevant: which section?
                   "2601.00012": split(Label.PRUNING, 0.93, Label.OTHER, 0.04),  # sure of both: never asked
                   "2601.00013": split(Label.IRRELEVANT, 0.60, Label.OTHER, 0.40)}  # needs review
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper(i, title=f"Paper {i}") for i in predictions])
        store.save_predictions(s, predictions)
    # the rule's defaults (label_below 0.62, the needs-review band), without the share cap
    rule = replace(Settings(), judge=llm_server.settings(max_share_per_run=1.0))
    outcome = judging.judge_predictions(rule, engine, predictions)
    assert asked(llm_server) == ["2601.00011", "2601.00013"]  # least sure first: 0.52, then 0.60
    assert outcome.asked == 2
    # every default: 15% of three papers, rounded up, is one: the least sure
    defaults = replace(Settings(), judge=llm_server.settings(model="other/model"))
    assert judging.judge_predictions(defaults, engine, predictions).asked == 1
    assert asked(llm_server)[2:] == ["2601.00011"]


def test_a_good_verdict_is_cached_and_a_rerun_asks_nothing(llm_server: LLMServer, engine: Engine,
                                                          seeded: dict[str, Prediction]) -> None:
    settings = settings_for(llm_server)
    first = judging.judge_predictions(settings, engine, seeded)
    assert set(first.verdicts) == {"2601.00002", "2601.00003", "2601.00004"}
    sent = len(llm_server.requests)
    again = judging.judge_predictions(settings, engine, seeded)
    assert len(llm_server.requests) == sent and again.asked == 0 and again.cached == 3
    # another model asks afresh
    judging.judge_predictions(settings_for(llm_server, model="other/model"), engine, seeded)
    assert len(llm_server.requests) == 2 * sent


def test_the_judges_label_files_the_paper_and_the_local_one_is_kept(
        llm_server: LLMServer, engine: Engine, seeded: dict[str, Prediction]) -> None:
    llm_server.verdicts["2601.00002"] = {"label": "pruning", "secondary": None, "reason": "Token pruning."}
    llm_server.verdicts["2601.00003"] = {"label": "irrelevant", "secondary": None, "reason": "An LLM paper."}
    llm_server.verdicts["2601.00004"] = {"label": "other", "secondary": None, "reason": "A fast solver."}
    settings = settings_for(llm_server)
    judging.judge_predictions(settings, engine, seeded)
    additions, review, _, _ = candidates(settings, engine, {})
    filed = {a.paper.arxiv_id: a for a in additions}
    assert set(filed) == {"2601.00001", "2601.00002", "2601.00004"} and review == []
    judged = filed["2601.00002"]
    assert judged.label is Label.PRUNING and judged.local_label is Label.QUANTIZATION
    assert filed["2601.00004"].judge_reason == "A fast solver."
    assert filed["2601.00001"].local_label is None  # never asked: the local model's
    with session_scope(engine) as s:  # the local prediction is kept
        assert store.predictions(s)["2601.00002"].label is Label.QUANTIZATION
    # the judge turned off: the local predictions file the papers again
    local = candidates(Settings(), engine, {})
    assert {a.paper.arxiv_id for a in local.additions} == {"2601.00001", "2601.00003"}


@pytest.mark.parametrize("kind", ["500", "429", "stall", "invalid_json", "bad_label"])
def test_every_failure_leaves_the_run_green_with_the_local_label(
        llm_server: LLMServer, engine: Engine, seeded: dict[str, Prediction], kind: str,
        caplog: pytest.LogCaptureFixture) -> None:
    llm_server.fail(kind, times=100, retry_after=0, seconds=0.6)
    caplog.set_level(logging.DEBUG)
    settings = settings_for(llm_server, max_retries=1, timeout_seconds=0.3)
    outcome = judging.judge_predictions(settings, engine, seeded)
    assert outcome.verdicts == {} and outcome.asked == 3
    assert judging.judged(settings, engine) == {}
    filed = {a.paper.arxiv_id: a.label for a in candidates(settings, engine, {}).additions}
    assert filed == {"2601.00001": Label.PRUNING, "2601.00003": Label.OTHER}
    assert "sk-LOOPBACK-SECRET" not in caplog.text and "Labelling rubric" not in caplog.text


def test_a_judge_that_is_off_asks_nothing(llm_server: LLMServer, engine: Engine,
                                          seeded: dict[str, Prediction]) -> None:
    assert judging.judge_predictions(Settings(), engine, seeded).asked == 0
    capped = settings_for(llm_server, max_papers_per_run=0)
    assert judging.judge_predictions(capped, engine, seeded).asked == 0
    assert llm_server.requests == []


def test_the_judges_reason_is_escaped_in_the_pr_body(llm_server: LLMServer, engine: Engine,
                                                     seeded: dict[str, Prediction]) -> None:
    evil = "Pruning. <img src=x onerror=alert(1)> | @maintainer [click](javascript:alert(1)) <!-- x -->"
    llm_server.verdicts["2601.00002"] = {"label": "pruning", "secondary": None, "reason": evil}
    settings = settings_for(llm_server)
    judging.judge_predictions(settings, engine, seeded)
    additions = candidates(settings, engine, {}).additions
    body = render_pr_body(additions, sections=settings.list.sections)
    row = next(line for line in body.splitlines() if "abs/2601.00002" in line)
    assert "**LLM judge**" in row and "local model: Quantization for Diffusion Models" in row
    for raw in ("<img", "<!-- x", "](javascript:", " @maintainer"):
        assert raw not in row
    assert row.count(" | ") == 4  # the reason's pipe cannot add a column


def recent(seeded_engine: Engine) -> None:
    """The seeded papers as published today: inside the PR body's review window."""
    with session_scope(seeded_engine) as s:
        store.upsert_papers(s, [replace(paper(i, title=f"Paper {i}"), published=store.utcnow(),
                                        updated=store.utcnow()) for i in LOCAL])


def run_once(settings: Settings, engine: Engine, tmp_path: Path) -> RunReport:
    tmp_path.mkdir(parents=True, exist_ok=True)
    listing = small_list(tmp_path)
    options = RunOptions(out_dir=tmp_path / "out", list_path=listing, fetch=False)
    return run(settings, engine, options, embedder=HashingEmbedder()).report


def test_a_run_asks_about_the_papers_left_for_review_by_earlier_runs(
        llm_server: LLMServer, engine: Engine, seeded: dict[str, Prediction], tmp_path: Path) -> None:
    recent(engine)
    settings = settings_for(llm_server, max_papers_per_run=5)
    report = run_once(settings, engine, tmp_path)  # nothing new to classify: only the review list is asked
    assert report.classified == 0 and asked(llm_server) == ["2601.00002"] and report.judged == 1
    sent = len(llm_server.requests)
    assert run_once(settings, engine, tmp_path / "again").judged == 0  # cached: nothing asked again
    assert len(llm_server.requests) == sent
    # within the cap: none left for this run
    other = settings_for(llm_server, model="other/model", max_papers_per_run=0)
    run_once(other, engine, tmp_path / "capped")
    assert len(llm_server.requests) == sent


def test_the_papers_the_judge_turned_away_are_listed_in_the_pr_body(
        llm_server: LLMServer, engine: Engine, seeded: dict[str, Prediction], tmp_path: Path) -> None:
    recent(engine)
    llm_server.verdicts["2601.00002"] = {"label": "irrelevant", "secondary": None,
                                         "reason": "A language model <b>paper</b> @someone."}
    for arxiv_id, why in (("2601.00003", "Not diffusion."), ("2601.00004", "Dropped anyway.")):
        llm_server.verdicts[arxiv_id] = {"label": "irrelevant", "secondary": None, "reason": why}
    settings = replace(settings_for(llm_server), step_summary=str(tmp_path / "summary.md"))
    judging.judge_predictions(settings, engine, seeded)
    report = run_once(settings, engine, tmp_path)
    assert report.turned_away == 2 and report.proposed == 1  # 00004 was dropped by the local model too
    summary = (tmp_path / "summary.md").read_text()
    assert "LLM judge: 0 new verdicts; 2 papers turned away (listed in the pull request)" in summary
    body = (tmp_path / "out" / "pr-body.md").read_text()
    assert "Turned away by the judge: 2" in body
    assert "The LLM judge turned away 2 papers (listed, collapsed, below)." in body
    block = body.split("2 papers turned away by the LLM judge", 1)[1].split("</details>", 1)[0]
    assert "[Paper 2601.00002](https://arxiv.org/abs/2601.00002)" in block
    assert "local model **Quantization for Diffusion Models** (relevant: 52%)" in block
    assert "**LLM judge**: Not diffusion." in block and "2601.00004" not in block
    assert "<b>" not in block and " @someone" not in block  # the judge's reason is escaped
    assert "abs/2601.00002" not in (tmp_path / "out" / "README.diff").read_text()
