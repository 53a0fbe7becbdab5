"""The review list's checkboxes end to end: `paperbot run --open-pr` through the CLI against the loopback
arXiv and GitHub, a maintainer ticking boxes in the pull request's body, and the next run acting on them.

Which papers land in the needs-review band is a property of the test, not of a trained model: every
database the runs use is seeded with the papers and their predictions (``seed``, through the store), and a
run classifies only papers that have no prediction, so the stored ones stand. The papers, the list, the
publisher, the learning loop and the database are the real ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.awesome.feedback import decide_answers, listed_labels
from bot.awesome.insert import parse_list
from bot.awesome.prbody import parse_declined, parse_pr_body_marker, parse_review_guesses
from bot.awesome.review import REVIEW_NAME, parse_review_ticks
from bot.core.config import ListSettings
from bot.core.labels import Label
from bot.core.models import Paper, Prediction
from bot.core.states import Verdict
from bot.pipeline import stages
from classifier.corpus import MAINTAINER_WEIGHT
from db import decisions, store
from db.session import make_engine, open_database, session_scope, upgrade
from tests.support.arxiv_server import ArxivServer, EntrySpec
from tests.support.github_server import FakeGitHub

NOW = datetime.now(UTC)
LIST = """# Awesome Efficient Diffusion

## Knowledge Distillation for Diffusion Models

- [arxiv] Progressive Distillation for Fast Sampling of Diffusion Models [[arXiv](https://arxiv.org/abs/2202.00512)]

## Pruning and Sparsity for Diffusion Models

- [arxiv] Token Merging for Fast Stable Diffusion [[arXiv](https://arxiv.org/abs/2303.17604)]

## Quantization for Diffusion Models

- [arxiv] Q-Diffusion: Quantizing Diffusion Models [[arXiv](https://arxiv.org/abs/2302.04304)]

## Other

- [arxiv] DeepCache: Accelerating Diffusion Models for Free [[arXiv](https://arxiv.org/abs/2312.00858)]
"""
CLEAR, MAYBE, UNSURE, OLD = "2601.00001", "2601.00002", "2601.00003", "2601.00004"
# title word -> (label, P(relevant), needs review): the prediction stored for each paper
VERDICTS = {"Clear": (Label.PRUNING, 0.93, False), "Maybe": (Label.QUANTIZATION, 0.52, True),
            "Unsure": (Label.OTHER, 0.45, True), "Old": (Label.DISTILLATION, 0.48, True)}


def predicted(title: str) -> Prediction:
    """The prediction stored for a paper, from the first word of its title (VERDICTS); else irrelevant."""
    label, relevant, review = VERDICTS.get(title.split()[0], (Label.IRRELEVANT, 0.05, False))
    if label is Label.IRRELEVANT:
        probabilities = {x.value: 0.0125 for x in Label} | {"irrelevant": 0.95}
        return Prediction(label, 0.95, probabilities, Label.OTHER, 0.0125, False, "off-topic", "seeded")
    probabilities = {x.value: 0.0 for x in Label} | {label.value: relevant, "irrelevant": 1 - relevant}
    return Prediction(label, relevant, probabilities, Label.IRRELEVANT, 1 - relevant, review,
                      f"seeded as {label.value}", "seeded")


def spec(arxiv_id: str, title: str, days_ago: float) -> EntrySpec:
    when = NOW - timedelta(days=days_ago)
    return EntrySpec(arxiv_id=arxiv_id, version=1, published=when, updated=when, title=title,
                     summary=f"{title}: a study of diffusion models.", authors=("Ada Lovelace",),
                     categories=("cs.CV",), primary_category="cs.CV")


PAPERS = [spec(CLEAR, "Clear Pruning of Diffusion Transformers", 3),
          spec(MAYBE, "Maybe Low-Bit Video Diffusion", 4),
          spec(UNSURE, "Unsure Streaming Avatars with Diffusion", 5),
          spec(OLD, "Old Few-Step Sampler for Diffusion", 45),
          spec("2601.00005", "Weather Forecasting with Diffusion", 6)]
WINDOW = ("--since", (NOW - timedelta(days=60)).date().isoformat(),
          "--until", (NOW + timedelta(days=1)).date().isoformat())


def seed(url: str) -> str:
    """The test's papers and their predictions, stored as a fetch and a classify would store them."""
    engine = open_database(url)
    try:
        with session_scope(engine) as session:
            store.upsert_papers(session, [paper(s) for s in PAPERS])
            store.save_predictions(session, {s.arxiv_id: predicted(s.title) for s in PAPERS})
    finally:
        engine.dispose()
    return url


def paper(spec: EntrySpec) -> Paper:
    return Paper(arxiv_id=spec.arxiv_id, title=spec.title, abstract=spec.summary, version=spec.version,
                 authors=spec.authors, categories=spec.categories, primary_category=spec.primary_category,
                 published=spec.published, updated=spec.updated)


def fresh_db(path: Path) -> str:
    """A lost database: a new, migrated file (seeded: the papers are fetched and classified again)."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return seed(url)


@pytest.fixture
def world(cli_env: Path, arxiv_server: ArxivServer, github_server: FakeGitHub, db_url: str) -> dict[str, str]:
    return make_world(cli_env, arxiv_server, github_server, db_url)


@pytest.fixture
def any_world(cli_env: Path, arxiv_server: ArxivServer, github_server: FakeGitHub,
              any_db_url: str) -> dict[str, str]:
    """``world`` on a SQLite file and on PostgreSQL."""
    return make_world(cli_env, arxiv_server, github_server, any_db_url)


def make_world(cli_env: Path, arxiv_server: ArxivServer, github_server: FakeGitHub,
               db_url: str) -> dict[str, str]:
    (cli_env / "paperbot.toml").write_text(
        '[arxiv]\nquery = "abs:diffusion"\ndelay_seconds = 0.01\nbackoff_base_seconds = 0.01\n'
        "backoff_max_seconds = 0.05\nread_timeout_seconds = 5.0\nretry_budget_seconds = 20.0\n"
        '[classifier]\nembedding_model = "hashing-64"\n'
        "[github]\nseconds_between_requests = 0.0\nseconds_between_writes = 0.0\nbackoff_seconds = 0.01\n")
    seed(db_url)
    arxiv_server.add(*PAPERS)
    github_server.push({"README.md": LIST}, message="the list")
    return {"PAPERBOT_ARXIV_API_URL": arxiv_server.url, "PAPERBOT_DB_URL": db_url,
            "GITHUB_API_URL": github_server.url, "GITHUB_TOKEN": github_server.token,
            "GITHUB_REPOSITORY": github_server.repo.full_name}


def tick(github: FakeGitHub, number: int, arxiv_id: str, *labels: str, untick: bool = False) -> None:
    """A maintainer clicks boxes in the PR's description: GitHub turns ``[ ]`` into ``[x]`` on that line."""
    lines = github.pull(number).body.splitlines(keepends=True)  # type: ignore[union-attr]
    for label in labels:
        at = next(i for i, line in enumerate(lines) if f"<!-- {REVIEW_NAME} {arxiv_id} {label} -->" in line)
        lines[at] = lines[at].replace("[x]", "[ ]", 1) if untick else lines[at].replace("[ ]", "[x]", 1)
    github.edit_pull_body(number, "".join(lines))


def run(invoke, env: dict[str, str], *args: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("run", "--open-pr", *(args or ("--no-fetch",)), env=env)
    assert result.exit_code == 0, result.output


def sections(readme: str | None) -> dict[str, Label]:
    assert readme is not None
    return listed_labels(parse_list(readme), ListSettings())


def labels_learned(db_url: str) -> dict[str, tuple[Label, str, float]]:
    """The maintainers' labels the classifier trains on: label, source and weight, by paper."""
    engine = open_database(db_url)
    try:
        with session_scope(engine) as session:
            sources = {p.arxiv_id: source for p, _, source in decisions.labelled_papers(session)}
        return {e.arxiv_id: (e.label, sources[e.arxiv_id], e.weight)
                for e in stages.training_examples(engine) if e.arxiv_id in sources}
    finally:
        engine.dispose()


def test_a_ticked_section_files_the_paper_and_not_for_this_list_rejects_it(  # type: ignore[no-untyped-def]
        any_world, invoke, github_server: FakeGitHub) -> None:
    world = any_world  # `run --open-pr`, learning and `feedback` on both backends
    run(invoke, world, *WINDOW)
    pr = github_server.open_pulls()[0]
    assert parse_pr_body_marker(pr.body) == {CLEAR: Label.PRUNING}
    assert parse_review_guesses(pr.body) == {MAYBE: Label.QUANTIZATION, UNSURE: Label.OTHER}
    assert "<summary>1 older paper that needed review (published more than 30 days ago" in pr.body
    assert f"abs/{OLD})" in pr.body and f"{REVIEW_NAME} {OLD}" not in pr.body

    tick(github_server, pr.number, MAYBE, "distillation")
    tick(github_server, pr.number, UNSURE, "irrelevant")
    run(invoke, world)
    assert [p.number for p in github_server.open_pulls()] == [pr.number]
    body = github_server.pull(pr.number).body
    # the ticked section files the paper in this run's README commit, like any proposal
    readme = github_server.file("README.md", ref=pr.head_ref)
    assert sections(readme) == sections(LIST) | {CLEAR: Label.PRUNING, MAYBE: Label.DISTILLATION}
    assert parse_pr_body_marker(body) == {CLEAR: Label.PRUNING, MAYBE: Label.DISTILLATION}
    # both answered papers leave the review list; "not for this list" is declined in the marker
    assert parse_review_guesses(body) == {} and parse_review_ticks(body) == {}
    assert parse_declined(body) == {UNSURE: Label.OTHER}
    # recorded as the maintainers' labels, weighed like merges and removals
    learned = labels_learned(world["PAPERBOT_DB_URL"])
    assert learned[MAYBE] == (Label.DISTILLATION, "open", MAINTAINER_WEIGHT)
    assert learned[UNSURE] == (Label.IRRELEVANT, "rejected", MAINTAINER_WEIGHT)

    # a run with nothing new writes nothing: the answers were recorded once
    github_server.clear_log()
    run(invoke, world)
    assert github_server.writes() == []

    # merged: the filed paper is on the list in its section; the rejected one is never proposed again
    github_server.merge_pull(pr.number)
    run(invoke, world, *WINDOW)
    assert sections(github_server.file("README.md"))[MAYBE] is Label.DISTILLATION
    assert UNSURE not in sections(github_server.file("README.md"))
    for pull in github_server.open_pulls():
        assert UNSURE not in parse_pr_body_marker(pull.body) | parse_review_guesses(pull.body)
    rows = {row["arxiv_id"]: row for row in json.loads(invoke("feedback", "--json", env=world).output)}
    assert (rows[MAYBE]["decision"], rows[MAYBE]["final"]) == ("merged", "distillation")
    assert (rows[UNSURE]["proposed"], rows[UNSURE]["decision"]) == ("other", "rejected")


def test_several_boxes_for_one_paper_decide_nothing_until_one_is_left(  # type: ignore[no-untyped-def]
        world, invoke, github_server: FakeGitHub) -> None:
    run(invoke, world, *WINDOW)
    number = github_server.open_pulls()[0].number
    tick(github_server, number, MAYBE, "pruning", "other")
    run(invoke, world)
    body = github_server.pull(number).body
    assert parse_review_ticks(body) == {MAYBE: frozenset({Label.PRUNING, Label.OTHER})}  # kept as ticked
    assert "several boxes are ticked: leave one ticked" in body
    assert MAYBE in parse_review_guesses(body) and MAYBE not in parse_pr_body_marker(body)
    assert MAYBE not in labels_learned(world["PAPERBOT_DB_URL"])

    tick(github_server, number, MAYBE, "other", untick=True)
    run(invoke, world)
    body = github_server.pull(number).body
    assert parse_pr_body_marker(body)[MAYBE] is Label.PRUNING and MAYBE not in parse_review_guesses(body)
    assert sections(github_server.file("README.md", ref=github_server.pull(number).head_ref))[MAYBE] \
        is Label.PRUNING


def test_ticks_are_read_from_the_body_when_the_database_is_lost(  # type: ignore[no-untyped-def]
        world, invoke, github_server: FakeGitHub, tmp_path: Path) -> None:
    run(invoke, world, *WINDOW)
    number = github_server.open_pulls()[0].number
    tick(github_server, number, MAYBE, "quantization")
    tick(github_server, number, UNSURE, "irrelevant")
    lost = dict(world, PAPERBOT_DB_URL=fresh_db(tmp_path / "lost.db"))
    run(invoke, lost, *WINDOW)
    body = github_server.pull(number).body
    assert parse_pr_body_marker(body) == {CLEAR: Label.PRUNING, MAYBE: Label.QUANTIZATION}
    assert parse_declined(body) == {UNSURE: Label.OTHER} and parse_review_guesses(body) == {}
    assert labels_learned(lost["PAPERBOT_DB_URL"])[MAYBE] == (Label.QUANTIZATION, "open", MAINTAINER_WEIGHT)
    # lost again, after the bot rewrote the body: the marker still declines the paper
    again = dict(world, PAPERBOT_DB_URL=fresh_db(tmp_path / "again.db"))
    run(invoke, again, *WINDOW)
    body = github_server.pull(number).body
    assert UNSURE not in parse_pr_body_marker(body) | parse_review_guesses(body)
    assert parse_pr_body_marker(body)[MAYBE] is Label.QUANTIZATION
    assert sections(github_server.file("README.md", ref=github_server.pull(number).head_ref))[MAYBE] \
        is Label.QUANTIZATION


def test_a_box_ticked_before_a_merge_is_read_from_the_closed_pull_request(  # type: ignore[no-untyped-def]
        world, invoke, github_server: FakeGitHub) -> None:
    run(invoke, world, *WINDOW)
    first = github_server.open_pulls()[0].number
    tick(github_server, first, MAYBE, "other")
    tick(github_server, first, UNSURE, "irrelevant")
    github_server.merge_pull(first)  # before the bot ran again
    run(invoke, world)
    (pr,) = github_server.open_pulls()
    assert pr.number != first and parse_pr_body_marker(pr.body) == {MAYBE: Label.OTHER}
    assert sections(github_server.file("README.md", ref=pr.head_ref))[MAYBE] is Label.OTHER
    assert parse_review_guesses(pr.body) == {}
    assert labels_learned(world["PAPERBOT_DB_URL"])[UNSURE][:2] == (Label.IRRELEVANT, "rejected")
    github_server.clear_log()
    run(invoke, world)  # read again on every run, recorded once
    assert github_server.writes() == []


def test_decide_answers() -> None:
    asked = {"2601.00001": Label.PRUNING, "2601.00002": Label.OTHER, "2601.00003": Label.OTHER,
             "2601.00004": Label.OTHER}
    ticks = {"2601.00001": frozenset({Label.OTHER}), "2601.00002": frozenset({Label.IRRELEVANT}),
             "2601.00003": frozenset({Label.OTHER, Label.IRRELEVANT}), "2601.00004": frozenset({Label.OTHER}),
             "2601.00009": frozenset({Label.OTHER})}  # not asked about: not read
    found = decide_answers(7, ticks, asked, listed={"2601.00004": Label.PRUNING})
    assert [(d.arxiv_id, d.proposed, d.state, d.final, d.pr_number) for d in found] == [
        ("2601.00001", Label.PRUNING, Verdict.FILED, Label.OTHER, 7),
        ("2601.00002", Label.OTHER, Verdict.REJECTED, None, 7)]
    assert found[0].describe() == \
        "2601.00001: filed as other by a tick in the review list (best guess pruning)"
