"""bot/github/pulls.py against the loopback GitHub fake: real HTTP, real PyGithub, nothing of ours mocked."""

from __future__ import annotations

import pytest

from bot.core.errors import PublishError
from bot.github.pulls import CLOSED_MARKER, Publisher
from tests.support.github import BRANCH, ENTRY, SECTION, MakePublisher, add_entry, run, write_paths
from tests.support.github_server import NOT_ACCESSIBLE, FakeGitHub

# -- the rolling pull request ------------------------------------------------------------------------------


def test_first_run_opens_one_pr_with_one_commit_on_the_base(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    new, result = run(publisher)
    pull = github_server.pull(result.number)
    assert result.created and result.changed
    assert (pull.title, pull.body, pull.labels, pull.user) == (
        "paperbot: new papers", "Adds 1 paper.", ["paperbot"], "github-actions[bot]")
    head = github_server.commits[github_server.head(BRANCH)]  # type: ignore[index]
    assert head.parents == [github_server.head("main")]
    assert github_server.file("README.md", BRANCH) == new
    assert write_paths(github_server) == ["POST /git/trees", "POST /git/commits", "POST /git/refs",
                                          "POST /pulls", "POST /issues/1/labels"]


def test_second_run_updates_the_same_pr(github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    _, first = run(make_publisher())
    github_server.clear_log()
    second_entry = ENTRY + "- [Tiny DiT](https://arxiv.org/abs/2501.00002)\n"
    new, second = run(make_publisher(), second_entry, body="Adds 2 papers.")
    assert second.number == first.number and not second.created and second.changed
    assert len(github_server.open_pulls()) == 1
    assert github_server.pull(first.number).body == "Adds 2 papers."
    assert github_server.file("README.md", BRANCH) == new
    assert write_paths(github_server) == ["POST /git/trees", "POST /git/commits",
                                          f"PATCH /git/refs/heads/{BRANCH}", "PATCH /pulls/1"]


def test_identical_rerun_makes_zero_writes(github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    run(make_publisher())
    github_server.clear_log()
    _, again = run(make_publisher())
    assert not again.created and not again.changed
    assert github_server.writes() == []


def test_main_edited_between_runs_rebuilds_the_branch_from_the_new_main(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    run(make_publisher())
    human = github_server.file("README.md").replace("# Awesome Efficient Diffusion\n",  # type: ignore[union-attr]
                                                    "# Awesome Efficient Diffusion\n\nMaintained by hand.\n")
    new_main = github_server.push({"README.md": human})
    new, result = run(make_publisher())
    branch_head = github_server.commits[github_server.head(BRANCH)]  # type: ignore[index]
    assert branch_head.parents == [new_main]
    assert "Maintained by hand." in new and ENTRY in new
    assert github_server.file("README.md", BRANCH) == new
    github_server.merge_pull(result.number)
    assert github_server.file("README.md") == new


def test_list_changed_on_main_during_the_run_is_never_overwritten(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    text, base_sha = publisher.read_file("README.md")
    github_server.push({"README.md": text + "- a maintainer's paper\n"})
    moved = r"README.md changed on main during this run \(\w{7} → \w{7}\); run again"
    with pytest.raises(PublishError, match=moved):
        publisher.publish("README.md", add_entry(text), "t", "b", base_sha=base_sha)
    assert github_server.head(BRANCH) is None and github_server.writes() == []


def test_unrelated_change_on_main_during_the_run_is_fine(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    text, base_sha = publisher.read_file("README.md")
    moved = github_server.push({"CONTRIBUTING.md": "Be nice.\n"})
    publisher.publish("README.md", add_entry(text), "t", "b", base_sha=base_sha)
    assert github_server.commits[github_server.head(BRANCH)].parents == [moved]  # type: ignore[index]
    assert github_server.file("CONTRIBUTING.md", BRANCH) == "Be nice.\n"


def test_three_hundred_papers_take_the_same_writes_as_one(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    entries = "".join(f"- [Paper {i}](https://arxiv.org/abs/2501.{i:05d})\n" for i in range(300))
    run(publisher, entries, body="Adds 300 papers.")
    assert len(github_server.writes()) == 5


def test_a_human_commit_on_the_bot_branch_is_replaced(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    new, _ = run(make_publisher())
    github_server.push({"README.md": new + "- pushed by hand\n"}, branch=BRANCH)
    run(make_publisher())
    assert github_server.commits[github_server.head(BRANCH)].parents == [github_server.head("main")]  # type: ignore[index]
    assert github_server.file("README.md", BRANCH) == new


def test_publishing_the_base_content_is_a_caller_error(publisher: Publisher) -> None:
    text, _ = publisher.read_file("README.md")
    with pytest.raises(ValueError, match="close_pr"):
        publisher.publish("README.md", text, "t", "b")


def test_renamed_default_branch_is_read_from_the_api(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    run(make_publisher())
    github_server.rename_default_branch("trunk")
    github_server.push({"README.md": "# Renamed\n\n" + SECTION}, branch="trunk")
    new, result = run(make_publisher())
    assert new.startswith("# Renamed") and github_server.pull(result.number).base_ref == "trunk"
    assert github_server.commits[github_server.head(BRANCH)].parents == [github_server.head("trunk")]  # type: ignore[index]


# -- finding the PR: create-or-update, and PRs that are not ours ---------------------------------------------


def test_already_exists_is_found_and_updated(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    _, first = run(make_publisher())
    github_server.fail("GET", r"/pulls$", 200, body=[])  # the lookup misses it (eventual consistency)
    _, again = run(make_publisher(), body="Updated body")
    assert again.number == first.number and not again.created
    assert len(github_server.open_pulls()) == 1
    assert github_server.pull(first.number).body == "Updated body"
    assert [r.status for r in github_server.calls("POST", r"/pulls$")][-1] == 422


def test_post_that_timed_out_but_created_the_pr_ends_with_exactly_one(
        github_server: FakeGitHub, publisher: Publisher, sleeps: list[float]) -> None:
    github_server.fail("POST", r"/pulls$", 502, apply=True)  # the PR is created; the client sees a 502
    _, result = run(publisher)
    assert [r.status for r in github_server.calls("POST", r"/pulls$")] == [502, 422]
    assert len(github_server.open_pulls()) == 1 and result.number == 1
    assert github_server.pull(1).labels == ["paperbot"] and sleeps == [0.5]


def test_a_forks_pr_with_the_same_branch_name_is_ignored(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    fork_pr = github_server.open_fork_pull("alice", BRANCH, {"README.md": "alice's list\n"}, body="mine")
    assert publisher.open_pr() is None
    _, result = run(publisher)
    assert result.number != fork_pr.number and result.created
    assert (fork_pr.title, fork_pr.body, fork_pr.labels) == ("Add my paper", "mine", [])
    assert fork_pr.state == "open"
    assert not [r for r in github_server.writes() if r.path.endswith(f"/{fork_pr.number}")]


def test_the_fork_pr_stays_ignored_when_github_ignores_the_head_filter(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    github_server.ignore_head_filter = True
    fork_pr = github_server.open_fork_pull("alice", BRANCH, {"README.md": "alice's list\n"})
    run(publisher)
    found = publisher.open_pr()
    assert found is not None and found.number != fork_pr.number and ENTRY in found.readme  # type: ignore[operator]
    assert all(":" in r.query.get("head", ":") for r in github_server.calls("GET", r"/pulls$"))


def test_a_pr_on_our_branch_opened_by_someone_else_is_never_touched(
        github_server: FakeGitHub, publisher: Publisher) -> None:
    github_server.push({"README.md": "by hand\n"}, branch=BRANCH)
    human = github_server.open_pull(BRANCH, user="alice", title="Manual")
    with pytest.raises(PublishError, match="opened by alice.*never edits a PR it did not open"):
        run(publisher)
    assert github_server.writes() == [] and human.title == "Manual"


def test_the_bot_login_falls_back_when_the_token_cannot_read_user(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    github_server.user_error = (403, NOT_ACCESSIBLE)  # what GITHUB_TOKEN gets from GET /user
    _, first = run(make_publisher())
    github_server.clear_log()
    _, again = run(make_publisher())
    assert again.number == first.number and github_server.writes() == []


def test_a_github_app_token_names_its_bot_login_in_the_settings(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    github_server.login = "paperbot-app[bot]"  # an App installation token: its PRs are opened by the App
    github_server.user_error = (403, NOT_ACCESSIBLE)  # and it cannot read GET /user either
    _, first = run(make_publisher(bot_login="paperbot-app[bot]"))
    github_server.clear_log()
    _, again = run(make_publisher(bot_login="paperbot-app[bot]"))
    assert again.number == first.number and github_server.writes() == []
    assert github_server.calls("GET", r"/user$") == []
    with pytest.raises(PublishError, match=r"opened by paperbot-app\[bot\]"):  # unset: not its own PR
        run(make_publisher())


def test_close_when_nothing_is_left(github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    _, result = run(make_publisher())
    closer = make_publisher()
    assert closer.close_pr("Every paper is on main now.") == result.number
    pull = github_server.pull(result.number)
    assert pull.state == "closed" and pull.merged_at is None and CLOSED_MARKER in pull.body  # type: ignore[operator]
    assert [c["body"] for c in pull.comments] == ["Every paper is on main now."]
    assert github_server.head(BRANCH) is None
    github_server.clear_log()
    assert make_publisher().close_pr("again") is None and github_server.writes() == []


# -- history for the learning loop ---------------------------------------------------------------------------


def test_bot_pr_history_merged_with_edits_and_closed_unmerged(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    new, first = run(make_publisher(), body="<!-- paperbot:proposed 2501.00001 -->")
    edited = new.replace(ENTRY, "").replace("## Knowledge Distillation for Diffusion Models\n\n",
                                            "## Knowledge Distillation for Diffusion Models\n\n" + ENTRY)
    github_server.merge_pull(first.number, edit={"README.md": edited}, delete_branch=True)
    assert github_server.file("README.md") == edited
    _, second = run(make_publisher(), "- [Rejected](https://arxiv.org/abs/2501.00009)\n", body="rejected one")
    assert second.number != first.number and second.created
    github_server.close_pull(second.number)
    github_server.open_fork_pull("alice", BRANCH, {"README.md": "fork\n"})
    github_server.close_pull(3)

    history = make_publisher().bot_pull_requests()
    assert [(h.number, h.merged, h.closed_by_bot) for h in history] == [(2, False, False), (1, True, False)]
    assert history[1].readme_at_head == edited and history[1].merged_at is not None
    assert history[1].body == "<!-- paperbot:proposed 2501.00001 -->"
    assert "Rejected" in history[0].readme_at_head and history[0].merged_at is None  # type: ignore[operator]


def test_history_marks_prs_the_bot_closed_itself(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    run(make_publisher())
    make_publisher().close_pr("")
    [closed] = make_publisher().bot_pull_requests(path=None)
    assert closed.closed_by_bot and not closed.merged and closed.readme_at_head is None


# -- the maintainers' branches -----------------------------------------------------------------------------


def test_the_lists_own_branch_is_never_moved_as_the_bot_branch_or_the_state_branch(
        github_server: FakeGitHub, make_publisher: MakePublisher) -> None:
    main, readme = github_server.head("main"), github_server.file("README.md", "main")
    with pytest.raises(PublishError, match="state_branch is 'main', a branch the maintainers own"):
        make_publisher(state_branch="main").push_snapshot("paperbot.db", b"state", "state: run 1")
    text, base_sha = make_publisher().read_file("README.md")
    with pytest.raises(PublishError, match="branch is 'main', a branch the maintainers own"):
        make_publisher(branch="main").publish("README.md", add_entry(text), "t", "b", base_sha=base_sha)
    with pytest.raises(PublishError, match="branch is 'main', a branch the maintainers own"):
        make_publisher(branch="main").close_pr("nothing left to add")
    github_server.push({"README.md": readme}, branch="release")  # a configured base that is not the default
    with pytest.raises(PublishError, match="branch is 'release'"):
        make_publisher(base="release", branch="release").publish("README.md", add_entry(text), "t", "b")
    assert github_server.head("main") == main and github_server.file("README.md", "main") == readme
    assert github_server.writes() == []
