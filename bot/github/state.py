"""paperbot's own state on GitHub: a snapshot file on a branch of its own, and one alarm issue.

Used through ``bot/github/pulls.py``'s ``Publisher`` (``pull_snapshot``/``push_snapshot``,
``ensure_alarm_issue``/``resolve_alarm_issue``). The state branch holds ONE parentless commit with one file,
so old snapshots become unreachable instead of piling up in the repository's history. Writes are
single-writer: a push fails if the branch moved since this run read it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from github import GithubException, InputGitTreeElement
from github.Issue import Issue

from bot.core.errors import PublishError
from bot.github.client import ISSUES_HINT, GitHubClient, fit_body, git_blob_sha

ALARM_MARKER = "<!-- paperbot:alarm -->"
_UNREAD = "unread"


class StateBranch:
    """Compare-and-swap snapshots of one file on ``branch``."""

    def __init__(self, api: GitHubClient, branch: str) -> None:
        self.api = api
        self.branch = branch
        self._head: str | None = _UNREAD  # the head pull() saw: what push() expects to replace
        self._blobs: dict[str, str] = {}

    def pull(self, path: str) -> bytes | None:
        """The bytes of ``path`` on the branch, or None when the branch or the file is missing."""
        ref = self.api.ref(self.branch)
        self._head, self._blobs = (ref.object.sha if ref else None), {}
        if ref is None:
            return None
        repo, head = self.api.repo, ref.object.sha
        tree = self.api.call(f"reading {self.branch}", lambda: repo.get_git_tree(
            repo.get_git_commit(head).tree.sha, recursive="/" in path))
        entry = next((e for e in tree.tree if e.path == path and e.type == "blob"), None)
        if entry is None:
            return None
        self._blobs[path] = entry.sha
        blob = self.api.call(f"reading {path} from {self.branch}", lambda: repo.get_git_blob(entry.sha))
        return base64.b64decode(blob.content)

    def push(self, path: str, data: bytes, message: str) -> str:
        """Point the branch at one parentless commit holding only ``path``; return the commit sha.

        Fails if the head is not the one ``pull`` saw (without a pull: the one read at the start of this
        call). GitHub's ref API has no compare-and-swap on a forced update, so a writer that lands between
        our read and our PATCH (milliseconds) is not caught: the workflow's `concurrency` group is the lock.
        Unchanged data makes no write.
        """
        ref = self.api.ref(self.branch)
        current = ref.object.sha if ref else None
        expected = current if self._head == _UNREAD else self._head
        if current != expected:
            was, now = (expected or "absent")[:7], (current or "deleted")[:7]
            raise PublishError(f"state branch {self.branch} moved since this run read it ({was} → {now}): "
                               "another run wrote state; run again (and keep one `concurrency` group for "
                               "every paperbot workflow)")
        if current and self._blobs.get(path) == git_blob_sha(data):
            return current
        repo, encoded = self.api.repo, base64.b64encode(data).decode("ascii")

        def write_commit() -> str:
            blob = repo.create_git_blob(encoded, "base64")
            tree = repo.create_git_tree([InputGitTreeElement(path, "100644", "blob", sha=blob.sha)])
            return repo.create_git_commit(message, tree, []).sha

        sha = self.api.call(f"writing {path} to {self.branch}", write_commit)
        if ref is None:
            try:
                self.api.call(f"creating branch {self.branch}", lambda: repo.create_git_ref(
                    f"refs/heads/{self.branch}", sha), passthrough=(422,))
                created = True
            except GithubException:
                created = False  # "Reference already exists"
            if not created:
                raise PublishError(f"state branch {self.branch} appeared while this run was writing it: "
                                   "another run wrote state; run again")
        else:
            self.api.call(f"moving branch {self.branch}", lambda: ref.edit(sha, force=True))
        self._head, self._blobs = sha, {path: git_blob_sha(data)}
        return sha


def find_alarm(api: GitHubClient) -> Issue | None:
    """The open issue the bot opened with the alarm marker, if any."""
    repo, login = api.repo, api.login

    def find() -> Issue | None:
        for issue in repo.get_issues(state="open", creator=login):  # type: ignore[arg-type]  # PyGithub takes a login; its stubs say NamedUser
            if issue.pull_request is None and ALARM_MARKER in (issue.body or ""):
                return issue
        return None

    return api.call("looking up the alarm issue", find, hint=ISSUES_HINT)


def ensure_alarm(api: GitHubClient, title: str, body: str, labels: Sequence[str]) -> int:
    """Open the alarm issue once; later calls comment only when ``body`` differs from the last word."""
    issue = find_alarm(api)
    repo = api.repo
    if issue is None:
        created = api.call("opening the alarm issue", lambda: repo.create_issue(
            title=title, body=fit_body(f"{body}\n\n{ALARM_MARKER}"), labels=list(labels)), hint=ISSUES_HINT)
        return created.number
    found = issue

    def last_word() -> str:
        comments = list(found.get_comments()) if found.comments else []
        return comments[-1].body if comments else (found.body or "").replace(ALARM_MARKER, "")

    if api.call("reading the alarm issue", last_word, hint=ISSUES_HINT).strip() != body.strip():
        api.call("commenting on the alarm issue", lambda: found.create_comment(fit_body(body)),
                 hint=ISSUES_HINT)
    return found.number


def resolve_alarm(api: GitHubClient, comment: str) -> int | None:
    """Close the open alarm issue with ``comment``; None when there is none."""
    issue = find_alarm(api)
    if issue is None:
        return None
    if comment:
        api.call("commenting on the alarm issue", lambda: issue.create_comment(fit_body(comment)),
                 hint=ISSUES_HINT)
    api.call("closing the alarm issue", lambda: issue.edit(state="closed", state_reason="completed"),
             hint=ISSUES_HINT)
    return issue.number
