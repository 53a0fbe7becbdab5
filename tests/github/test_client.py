"""bot/github/client.py through the Publisher, against the loopback GitHub fake: retries within the limit
and the budget, one-line errors that say how to fix them, the token never shown, bodies cut to the limit."""

from __future__ import annotations

import logging

import pytest

from bot.core.config import GitHubSettings
from bot.core.errors import PublishError
from bot.github.client import MAX_BODY_CHARS
from bot.github.pulls import GitHubPublisher, Publisher
from tests.support.github import BRANCH, MakePublisher, run, write_paths
from tests.support.github_server import NOT_PERMITTED, FakeGitHub


def test_long_body_is_cut_under_githubs_limit(github_server: FakeGitHub, publisher: Publisher) -> None:
    _, result = run(publisher, body="- a paper line\n" * 5000)
    body = github_server.pull(result.number).body
    assert body is not None and len(body) <= MAX_BODY_CHARS
    assert body.endswith("the README diff lists every paper)\n")


def test_502_is_retried_then_succeeds(
        github_server: FakeGitHub, publisher: Publisher, sleeps: list[float]) -> None:
    github_server.fail("GET", r"^/repos/octo/papers$", 502)
    run(publisher)
    assert sleeps == [0.5] and len(github_server.open_pulls()) == 1


def test_a_dropped_connection_is_retried(
        github_server: FakeGitHub, publisher: Publisher, sleeps: list[float]) -> None:
    github_server.fail("GET", r"/pulls$", 0)
    run(publisher)
    assert sleeps == [0.5] and len(github_server.open_pulls()) == 1


def test_503_past_the_retry_limit_is_one_clear_line(github_server: FakeGitHub, publisher: Publisher,
                                                    sleeps: list[float]) -> None:
    github_server.fail("GET", r"^/repos/octo/papers$", 503, times=100)
    with pytest.raises(PublishError) as caught:
        publisher.read_file("README.md")
    message = str(caught.value)
    assert "\n" not in message and "HTTP 503 after 4 attempts" in message and "try again later" in message
    assert sleeps == [0.5, 1.0, 2.0] and len(github_server.requests) == 4


def test_retry_budget_bounds_the_total_wait(github_server: FakeGitHub, make_publisher: MakePublisher,
                                            sleeps: list[float]) -> None:
    github_server.fail("GET", r"^/repos/octo/papers$", 503, times=100)
    with pytest.raises(PublishError, match="of the 1 s retry budget"):
        make_publisher(max_retries=50, retry_budget_seconds=1.0).read_file("README.md")
    assert sum(sleeps) <= 1.0


def test_secondary_rate_limit_waits_retry_after(github_server: FakeGitHub, publisher: Publisher,
                                                sleeps: list[float]) -> None:
    github_server.fail("POST", r"/pulls$", 403, "You have exceeded a secondary rate limit. Please wait a few "
                       "minutes before you try again.", headers={"Retry-After": "7"})
    run(publisher)
    assert sleeps == [7.0] and len(github_server.open_pulls()) == 1


def test_rate_limit_longer_than_the_budget_fails_at_once(github_server: FakeGitHub, publisher: Publisher,
                                                         sleeps: list[float]) -> None:
    github_server.fail("POST", r"/pulls$", 403, "You have exceeded a secondary rate limit.",
                       headers={"Retry-After": "600"})
    with pytest.raises(PublishError, match="asked to wait 600 s more.*try again later"):
        run(publisher)
    assert sleeps == []


def test_could_not_resolve_to_a_node_is_retried_for_labels(github_server: FakeGitHub, publisher: Publisher,
                                                           sleeps: list[float]) -> None:
    github_server.fail("POST", r"/issues/\d+/labels$", 422,
                       "Could not resolve to a node with the global id of 'PR_1'")
    run(publisher)
    assert github_server.pull(1).labels == ["paperbot"] and sleeps == [0.5]


def test_bad_token(make_publisher: MakePublisher) -> None:
    expected = r"HTTP 401 \(Bad credentials\); GITHUB_TOKEN is invalid or expired"
    with pytest.raises(PublishError, match=expected):
        make_publisher(token="wrong-token").read_file("README.md")


def test_actions_not_permitted_to_open_prs_names_the_setting_then_reuses_the_branch(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    github_server.allow_actions_prs = False
    with pytest.raises(PublishError) as caught:
        run(make_publisher())
    assert str(caught.value) == (
        f"opening the pull request: GitHub answered HTTP 403 ({NOT_PERMITTED}); enable Settings → Actions → "
        "General → Workflow permissions → Allow GitHub Actions to create and approve pull requests")
    assert github_server.head(BRANCH) is not None  # G1: the branch was pushed
    github_server.allow_actions_prs = True
    github_server.clear_log()
    run(make_publisher())
    assert write_paths(github_server) == ["POST /pulls", "POST /issues/1/labels"]


def test_read_only_token_names_the_permissions(github_server: FakeGitHub, publisher: Publisher) -> None:
    github_server.read_only = True
    with pytest.raises(PublishError, match="give the job `contents: write` and `pull-requests: write`"):
        run(publisher)


def test_unknown_repository(github_server: FakeGitHub) -> None:
    settings = GitHubSettings(token=github_server.token, repository="octo/nope", api_url=github_server.url,
                              seconds_between_requests=0.0, seconds_between_writes=0.0)
    expected = r"reading repository octo/nope: .*HTTP 404.*check GITHUB_REPOSITORY"
    with pytest.raises(PublishError, match=expected):
        GitHubPublisher(settings).read_file("README.md")


@pytest.mark.parametrize(("settings", "hint"), [
    (GitHubSettings(repository="octo/papers"), "set GITHUB_TOKEN"),
    (GitHubSettings(token="t"), "set GITHUB_REPOSITORY"),
    (GitHubSettings(token="t", repository="papers"), "is not 'owner/name'"),
])
def test_missing_settings_are_refused_before_any_request(settings: GitHubSettings, hint: str) -> None:
    with pytest.raises(PublishError, match=hint):
        GitHubPublisher(settings)


def test_the_token_never_appears_in_errors_logs_or_reprs(
        github_server: FakeGitHub, publisher: Publisher, caplog: pytest.LogCaptureFixture) -> None:
    token = github_server.token
    github_server.fail("GET", r"/pulls$", 422, f"Validation Failed for token {token}")
    with caplog.at_level(logging.DEBUG, logger="github"), pytest.raises(PublishError) as caught:
        run(publisher)
    assert token not in str(caught.value) and "***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert "Validation Failed for token ***" in caplog.text and token not in caplog.text
    assert token not in repr(publisher) and token not in repr(publisher.api)
