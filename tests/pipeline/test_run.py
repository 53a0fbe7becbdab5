"""bot/pipeline/run.py. The main job end to end, as the cron runs it: a loopback arXiv serving a month of real
papers, a loopback GitHub holding the real list, the real embedding model, `paperbot run --open-pr` through
the CLI; and the candidates it proposes, on a migrated database.
"""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.awesome.feedback import listed_labels
from bot.awesome.insert import parse_list
from bot.awesome.prbody import parse_declined, parse_pr_body_marker
from bot.core.config import ListSettings
from bot.core.labels import Label
from bot.core.models import Prediction
from db import store
from db.session import session_scope
from tests.support.arxiv_server import ArxivServer, EntrySpec
from tests.support.github_server import FakeGitHub
from tests.support.paths import DEV_FILE, REAL_LIST_FILE
from tests.support.store import paper

REAL_LIST = REAL_LIST_FILE.read_text(encoding="utf-8")
DEV = [json.loads(line) for line in DEV_FILE.read_text().splitlines()]
LISTED_TITLE = "DeepCache: Accelerating Diffusion Models for Free"  # on the list, with no link


def spec(row: dict, *, arxiv_id: str | None = None, title: str | None = None) -> EntrySpec:
    published = datetime.fromisoformat(row["published"]).replace(tzinfo=UTC)
    return EntrySpec(arxiv_id=arxiv_id or row["arxiv_id"], version=1, published=published, updated=published,
                     title=title or row["title"], summary=row["abstract"] or "",
                     authors=tuple(row["authors"] or ("Anonymous",)), categories=tuple(row["categories"]),
                     primary_category=row["categories"][0])


def config(tmp: Path) -> None:
    (tmp / "paperbot.toml").write_text(
        # the loopback server filters on dates, categories and a ti:"phrase": a plain query keeps all
        '[arxiv]\nquery = "abs:diffusion"\ndelay_seconds = 0.01\n'
        "backoff_base_seconds = 0.01\nbackoff_max_seconds = 0.05\n"
        "read_timeout_seconds = 5.0\nretry_budget_seconds = 20.0\n"
        "[github]\nseconds_between_requests = 0.0\nseconds_between_writes = 0.0\nbackoff_seconds = 0.01\n")


@pytest.fixture
def world(cli_env: Path, arxiv_server: ArxivServer, github_server: FakeGitHub, model_db_url: str):  # type: ignore[no-untyped-def]
    config(cli_env)
    github_server.push({"README.md": REAL_LIST}, message="the real list")
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url, "PAPERBOT_DB_URL": model_db_url,
           "GITHUB_API_URL": github_server.url, "GITHUB_TOKEN": github_server.token,
           "GITHUB_REPOSITORY": github_server.repo.full_name}
    return env


def added_lines(before: str, after: str) -> list[str]:
    diff = list(difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)))
    assert not [line for line in diff if line.startswith("- ")], "human lines changed"
    return [line[2:] for line in diff if line.startswith("+ ")]


def proposed_sections(readme: str) -> dict[str, str]:
    return {i: label.value for i, label in listed_labels(parse_list(readme), ListSettings()).items()}


def test_run_opens_one_pr_then_updates_it(world, invoke, arxiv_server, github_server) -> None:  # type: ignore[no-untyped-def]
    november = [r for r in DEV if r["published"] < "2025-11-16"]
    arxiv_server.add(*(spec(r) for r in november))
    listed_row = next(r for r in DEV if r["label"] == "pruning")
    arxiv_server.add(spec(listed_row, arxiv_id="2312.00858", title=LISTED_TITLE))

    first = invoke("run", "--open-pr", "--since", "2025-11-01", "--until", "2025-11-16", env=world)
    assert first.exit_code == 0, first.output
    pulls = github_server.open_pulls()
    assert len(pulls) == 1
    pr = pulls[0]
    after = github_server.file("README.md", ref=pr.head_ref)
    assert after is not None
    lines = added_lines(REAL_LIST, after)
    proposed = parse_pr_body_marker(pr.body)
    assert proposed and len(lines) == len(proposed)
    # each paper sits in the section of its label, in the list's own format, linked to arXiv
    assert proposed_sections(after) == {i: label.value for i, label in proposed.items()}
    for line in lines:
        assert line.startswith("- [") and "https://arxiv.org/abs/" in line
    # the listed paper (title only, no link on the list) is not proposed again
    assert "2312.00858" not in proposed
    assert LISTED_TITLE not in "".join(lines)
    # relevant papers of the fortnight mostly made it, irrelevant ones mostly did not (the classifier's
    # own figures are measured by `paperbot evaluate`; this checks the pipeline carries them through)
    truth = {r["arxiv_id"]: r["label"] for r in november}
    relevant = {i for i, label in truth.items() if label != "irrelevant"}
    assert len(relevant & set(proposed)) >= 0.6 * len(relevant)
    assert len(set(proposed) - relevant) <= 0.35 * len(proposed)

    # a second run with more papers updates the same pull request
    later = [r for r in DEV if r["published"] >= "2025-11-16"]
    arxiv_server.add(*(spec(r) for r in later))
    second = invoke("run", "--open-pr", "--since", "2025-11-01", "--until", "2025-12-31", env=world)
    assert second.exit_code == 0, second.output
    assert [p.number for p in github_server.open_pulls()] == [pr.number]
    updated = parse_pr_body_marker(github_server.pull(pr.number).body)
    assert set(proposed) < set(updated)
    final = github_server.file("README.md", ref=pr.head_ref)
    assert len(added_lines(REAL_LIST, final)) == len(updated)

    # a third run with nothing new makes no write at all
    github_server.clear_log()
    third = invoke("run", "--open-pr", "--no-fetch", env=world)
    assert third.exit_code == 0, third.output
    assert github_server.writes() == []

    # the database the runs filled answers the query commands
    some_id, some_label = sorted(updated.items())[0]
    shown = json.loads(invoke("show", some_id, "--json", env=world).output)
    assert shown["status"] == "proposed"
    assert [(p["label"], p["state"]) for p in shown["proposals"]] == [(some_label.value, "open")]
    found = json.loads(invoke("search", "diffusion", "--status", "proposed", "--limit", "500", "--json",
                              env=world).output)
    assert {row["arxiv_id"] for row in found} <= set(updated) and found
    stats = json.loads(invoke("stats", "--json", env=world).output)
    assert stats["status"]["proposed"] == len(updated)
    assert sum(stats["status"].values()) == stats["papers"]


def test_maintainers_merge_after_moving_and_deleting_and_the_bot_learns(world, invoke, arxiv_server,  # type: ignore[no-untyped-def]
                                                                      github_server) -> None:
    arxiv_server.add(*(spec(r) for r in DEV))
    assert invoke("run", "--open-pr", "--since", "2025-11-01", "--until", "2025-12-31",
                  env=world).exit_code == 0
    pr = github_server.open_pulls()[0]
    head = github_server.file("README.md", ref=pr.head_ref)
    proposed = parse_pr_body_marker(pr.body)
    assert len(proposed) >= 3
    by_label: dict[str, list[str]] = {}
    for arxiv_id, label in sorted(proposed.items()):
        by_label.setdefault(label.value, []).append(arxiv_id)
    deleted = sorted(proposed)[0]
    moved = next(i for i in sorted(proposed) if i != deleted)
    target = "other" if proposed[moved].value != "other" else "pruning"
    lines = head.splitlines(keepends=True)
    deleted_line = next(line for line in lines if f"abs/{deleted}" in line)
    moved_line = next(line for line in lines if f"abs/{moved}" in line)
    edited = [line for line in lines if line not in (deleted_line, moved_line)]
    heading = ListSettings().sections[target]
    at = next(k for k, line in enumerate(edited) if line.strip().lstrip("#").strip() == heading)
    # under the section heading (and its "### Papers" subheading, where it has one)
    insert_at = at + 1
    while insert_at < len(edited) and not edited[insert_at].startswith("- "):
        insert_at += 1
    edited.insert(insert_at, moved_line)
    github_server.merge_pull(pr.number, edit={"README.md": "".join(edited)})
    merged_list = github_server.file("README.md")
    assert f"abs/{deleted}" not in merged_list

    rerun = invoke("run", "--open-pr", "--since", "2025-11-01", "--until", "2025-12-31", env=world)
    assert rerun.exit_code == 0, rerun.output
    # nothing listed is proposed again, the deleted paper is never proposed again
    for pull in github_server.open_pulls():
        again = parse_pr_body_marker(pull.body)
        assert deleted not in again
        assert not set(again) & set(proposed)
    assert proposed_sections(github_server.file("README.md"))[moved] == target
    feedback = invoke("feedback", "--json", env=world)
    rows = {row["arxiv_id"]: row for row in json.loads(feedback.output)}
    assert rows[deleted]["decision"] == "rejected"
    assert rows[moved]["decision"] == "merged" and rows[moved]["final"] == target


def test_a_lost_database_proposes_no_duplicate_nor_a_paper_the_maintainers_removed(  # type: ignore[no-untyped-def]
        world, invoke, arxiv_server, github_server, tmp_path, model_db_template) -> None:
    import re
    import shutil

    arxiv_server.add(*(spec(r) for r in DEV[:120]))
    window = ("--since", "2025-11-01", "--until", "2025-12-31")
    assert invoke("run", "--open-pr", *window, env=world).exit_code == 0
    pr = github_server.open_pulls()[0]
    proposed = parse_pr_body_marker(pr.body)
    first = github_server.file("README.md", ref=pr.head_ref)
    # A maintainer removes one proposed paper from the PR, and drops the link from another's line to match
    # the list's own link-less entries: the first is declined, the second is still wanted.
    dropped, unlinked = (line.rstrip("\n") for line in added_lines(REAL_LIST, first)[:2])
    dropped_id, unlinked_id = (re.search(r"abs/(\d{4}\.\d{4,5})", line).group(1)  # type: ignore[union-attr]
                               for line in (dropped, unlinked))
    edited = first.replace(dropped + "\n", "").replace(unlinked, unlinked.split(" [[arXiv]")[0])
    github_server.push({"README.md": edited}, branch=pr.head_ref, message="Maintainer edit")
    assert invoke("run", "--open-pr", *window, env=world).exit_code == 0
    body = github_server.pull(pr.number).body
    assert dropped_id in parse_declined(body) and dropped_id not in parse_pr_body_marker(body)
    assert unlinked_id in parse_pr_body_marker(body) and unlinked_id not in parse_declined(body)
    before = parse_pr_body_marker(body)
    readme_before = github_server.file("README.md", ref=pr.head_ref)
    assert set(before) == set(proposed) - {dropped_id}
    # the snapshot is gone: start from an empty database (corpus vectors only)
    fresh = tmp_path / "fresh.db"
    shutil.copyfile(model_db_template, fresh)
    env = dict(world, PAPERBOT_DB_URL=f"sqlite:///{fresh}")
    again = invoke("run", "--open-pr", *window, env=env)
    assert again.exit_code == 0, again.output
    assert [p.number for p in github_server.open_pulls()] == [pr.number]
    after = parse_pr_body_marker(github_server.pull(pr.number).body)
    assert set(before) <= set(after) and dropped_id not in after
    assert dropped_id in parse_declined(github_server.pull(pr.number).body)
    readme_after = github_server.file("README.md", ref=pr.head_ref)
    ids = [line for line in added_lines(REAL_LIST, readme_after)]
    assert len(ids) == len(set(ids)) == len(after)
    assert readme_after.count("https://arxiv.org/abs/") == readme_before.count("https://arxiv.org/abs/") + \
        len(set(after) - set(before))


def test_a_toss_up_section_is_marked_with_its_runner_up(engine: Engine) -> None:
    from bot.core.config import ClassifierSettings, Settings
    from bot.pipeline.run import candidates

    def predicted(label: Label, probabilities: list[float]) -> Prediction:
        p = dict(zip(["distillation", "pruning", "quantization", "other", "irrelevant"], probabilities,
                     strict=True))
        return Prediction(label, p[label.value], p, Label.OTHER, p["other"], False, "why", "v1")

    clear = predicted(Label.PRUNING, [0.05, 0.80, 0.02, 0.08, 0.05])  # 0.80 of 0.95 relevant: 84 %
    toss_up = predicted(Label.DISTILLATION, [0.50, 0.02, 0.01, 0.42, 0.05])  # 0.50 of 0.95: 53 %
    assert clear.other_section(0.6) is None and toss_up.other_section(0.6) is Label.OTHER
    assert toss_up.other_section(0.5) is None and toss_up.other_section(0.0) is None
    assert predicted(Label.IRRELEVANT, [0.1, 0.1, 0.1, 0.1, 0.6]).other_section(1.0) is None
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002")])
        store.save_predictions(s, {"2501.00001": clear, "2501.00002": toss_up})
    additions, review, older, _ = candidates(Settings(), engine, listed={})
    assert {a.paper.arxiv_id: a.other_section for a in additions} == {"2501.00001": None,
                                                                      "2501.00002": Label.OTHER}
    assert review == [] and older == []
    off = Settings(classifier=ClassifierSettings(uncertain_section_below=0.0))
    assert [a.other_section for a in candidates(off, engine, listed={})[0]] == [None, None]


def test_a_paper_to_review_shows_its_best_section_and_its_chance_of_belonging(engine: Engine) -> None:
    from bot.core.config import Settings
    from bot.pipeline.run import candidates

    p = {"distillation": 0.04, "pruning": 0.03, "quantization": 0.02, "other": 0.33, "irrelevant": 0.58}
    unsure = Prediction(Label.IRRELEVANT, 0.58, p, Label.OTHER, 0.33, True, "why", "v1")
    with session_scope(engine) as s:
        store.upsert_papers(s, [paper("2501.00003")])
        store.save_predictions(s, {"2501.00003": unsure})
    additions, review, older, _ = candidates(Settings(), engine, listed={})
    assert additions == [] and [(a.label, round(a.probability, 2)) for a in review + older] == [
        (Label.OTHER, 0.42)]  # the runner-up section, and P(relevant), not P(irrelevant)
