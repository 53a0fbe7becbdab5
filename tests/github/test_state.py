"""bot/github/state.py through the Publisher, against the loopback GitHub fake: the snapshot on its own
branch (one parentless commit, compare-and-swap) and the one alarm issue."""

from __future__ import annotations

import pytest

from bot.core.errors import PublishError
from bot.github.pulls import Publisher
from tests.support.github import MakePublisher
from tests.support.github_server import NOT_ACCESSIBLE, FakeGitHub

# -- snapshot state branch --------------------------------------------------------------------------------


def test_snapshot_round_trip(github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    data = bytes(range(256)) * 40
    first = make_publisher()
    assert first.pull_snapshot("paperbot.db") is None
    first.push_snapshot("paperbot.db", data, "state: run 1")
    second = make_publisher()
    assert second.pull_snapshot("paperbot.db") == data
    sha = second.push_snapshot("paperbot.db", data + b"\x00", "state: run 2")
    commit = github_server.commits[sha]
    assert commit.parents == [] and list(github_server.trees[commit.tree]) == ["paperbot.db"]
    assert make_publisher().pull_snapshot("other.db") is None
    github_server.clear_log()
    third = make_publisher()
    assert third.pull_snapshot("paperbot.db") == data + b"\x00"
    assert third.push_snapshot("paperbot.db", data + b"\x00", "unchanged") == sha
    assert github_server.writes() == []


def test_snapshot_compare_and_swap(github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    slow, fast = make_publisher(), make_publisher()
    assert slow.pull_snapshot("paperbot.db") is None and fast.pull_snapshot("paperbot.db") is None
    fast.push_snapshot("paperbot.db", b"fast", "fast run")
    with pytest.raises(PublishError, match="state branch paperbot/state moved since this run read it"):
        slow.push_snapshot("paperbot.db", b"slow", "slow run")
    again = make_publisher()
    assert again.pull_snapshot("paperbot.db") == b"fast"
    fast.push_snapshot("paperbot.db", b"fast 2", "fast run 2")
    with pytest.raises(PublishError, match="moved"):
        again.push_snapshot("paperbot.db", b"late", "late run")
    assert make_publisher().pull_snapshot("paperbot.db") == b"fast 2"


# -- alarm issue ------------------------------------------------------------------------------------------


def test_alarm_issue_is_opened_once_then_commented_then_resolved(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    number = make_publisher().ensure_alarm_issue("paperbot is unhealthy", "No run for 72 h.")
    github_server.clear_log()
    assert make_publisher().ensure_alarm_issue("paperbot is unhealthy", "No run for 72 h.") == number
    assert github_server.writes() == []
    assert make_publisher().ensure_alarm_issue("paperbot is unhealthy", "No run for 96 h.") == number
    assert make_publisher().ensure_alarm_issue("paperbot is unhealthy", "No run for 96 h.") == number
    issue = github_server.issues["octo/papers"][number]
    assert [c["body"] for c in issue.comments] == ["No run for 96 h."] and issue.labels == ["paperbot"]
    assert len(github_server.issues["octo/papers"]) == 1
    assert make_publisher().resolve_alarm_issue("Healthy again.") == number
    assert issue.state == "closed" and issue.comments[-1]["body"] == "Healthy again."
    assert make_publisher().resolve_alarm_issue("again") is None
    assert make_publisher().ensure_alarm_issue("paperbot is unhealthy", "Down again.") != number


def test_alarm_without_issues_permission_says_so(github_server: FakeGitHub, publisher: Publisher) -> None:
    github_server.fail("POST", r"/issues$", 403, NOT_ACCESSIBLE)
    with pytest.raises(PublishError, match="opening the alarm issue: .*give the job `issues: write`"):
        publisher.ensure_alarm_issue("t", "b")
