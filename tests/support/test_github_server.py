"""The GitHub fake itself: the shapes PyGithub relies on and that other test files can trust."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.support.github_server import FakeGitHub, git_blob_sha

README_PATH = "README.md"



@pytest.fixture
def client(github_server: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=github_server.url,
                      headers={"Authorization": f"token {github_server.token}"}) as http:
        yield http


def test_bad_credentials_are_401_shaped_like_github(github_server: FakeGitHub) -> None:
    answer = httpx.get(f"{github_server.url}/repos/octo/papers", headers={"Authorization": "token nope"})
    assert answer.status_code == 401 and answer.json()["message"] == "Bad credentials"
    assert github_server.requests[-1].status == 401


def test_urls_point_at_the_fake(client: httpx.Client, github_server: FakeGitHub) -> None:
    repo = client.get("/repos/octo/papers").json()
    assert repo["url"] == f"{github_server.url}/repos/octo/papers" and repo["default_branch"] == "main"
    assert client.get("/repos/octo/nope").status_code == 404


def test_contents_match_git_blob_shas_and_stale_writes_conflict(client: httpx.Client) -> None:
    got = client.get(f"/repos/octo/papers/contents/{README_PATH}").json()
    assert got["sha"] == git_blob_sha(base64.b64decode(got["content"]))
    put = {"message": "edit", "content": base64.b64encode(b"new\n").decode(), "sha": "0" * 40}
    assert client.put(f"/repos/octo/papers/contents/{README_PATH}", json=put).status_code == 409
    put["sha"] = got["sha"]
    assert client.put(f"/repos/octo/papers/contents/{README_PATH}", json=put).status_code == 200


def test_head_filter_without_owner_is_ignored_like_github(
        client: httpx.Client, github_server: FakeGitHub) -> None:
    github_server.open_fork_pull("alice", "fix", {"README.md": "a\n"})
    github_server.open_fork_pull("bob", "other", {"README.md": "b\n"})
    assert len(client.get("/repos/octo/papers/pulls", params={"head": "fix"}).json()) == 2
    assert len(client.get("/repos/octo/papers/pulls", params={"head": "alice:fix"}).json()) == 1


def test_lists_are_paginated_with_link_headers(client: httpx.Client, github_server: FakeGitHub) -> None:
    for n in range(3):
        client.post("/repos/octo/papers/issues", json={"title": f"issue {n}"})
    first = client.get("/repos/octo/papers/issues", params={"per_page": 2})
    assert len(first.json()) == 2 and 'rel="next"' in first.headers["link"]
    second = client.get(first.links["next"]["url"])
    assert len(second.json()) == 1 and "link" not in second.headers


def test_faults_are_served_in_order_then_cleared(client: httpx.Client, github_server: FakeGitHub) -> None:
    github_server.fail("GET", r"^/repos/octo/papers$", 503, times=2)
    assert [client.get("/repos/octo/papers").status_code for _ in range(3)] == [503, 503, 200]


def test_merge_applies_the_branch_changes_onto_a_moved_main(github_server: FakeGitHub) -> None:
    github_server.push({"README.md": "bot\n"}, branch="feature")
    pull = github_server.open_pull("feature", user="github-actions[bot]")
    github_server.push({"NOTES.md": "human\n"})
    github_server.merge_pull(pull.number, delete_branch=True)
    assert github_server.file("README.md") == "bot\n" and github_server.file("NOTES.md") == "human\n"
    assert github_server.head("feature") is None and pull.merged_at is not None
