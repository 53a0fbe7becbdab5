"""Publish the list's changes as one rolling pull request, and keep paperbot's state on GitHub.

Runs last in the cron pipeline, after ``bot/awesome/insert.py`` has rendered the new README. Reads the
list from the default branch (read from the API each run). Writes one commit on a fixed branch
(``settings.branch``), rebuilt from the current default-branch head on every run and force-updated, so the
PR never conflicts; then opens or updates the one PR (the model of the create-pull-request action). Also
reads the bot's past PRs for the learning loop, keeps a snapshot file on ``settings.state_branch`` and one
alarm issue.

``Publisher`` is what the pipeline and the CLI need of GitHub; ``GitHubPublisher`` is it, over PyGithub.
Only ``bot/github/`` imports ``github``. Nothing here reads the environment.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from github import GithubException, InputGitTreeElement
from github.PullRequest import PullRequest

from bot.core.config import GitHubSettings
from bot.core.errors import PublishError
from bot.github.client import (
    MAX_BODY_CHARS,
    GitHubClient,
    fit_body,
    git_blob_sha,
    github_message,
)
from bot.github.state import ALARM_MARKER, StateBranch, ensure_alarm, resolve_alarm

__all__ = ["ALARM_MARKER", "CLOSED_MARKER", "MAX_BODY_CHARS", "ClosedPR", "GitHubPublisher", "OpenPR",
           "Publisher", "PullResult"]

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 256
CLOSED_MARKER = "<!-- paperbot:closed-by-bot -->"
DEFAULT_COMMIT_MESSAGE = "paperbot: add new papers"


@dataclass(frozen=True)
class OpenPR:
    """The bot's open pull request, with the list as it stands on its branch."""

    number: int
    url: str
    title: str
    body: str
    head_sha: str
    readme: str | None


@dataclass(frozen=True)
class PullResult:
    number: int
    url: str
    created: bool
    changed: bool


@dataclass(frozen=True)
class ClosedPR:
    """One of the bot's past PRs: merged (accepted, maybe edited) or closed unmerged (rejected)."""

    number: int
    url: str
    merged: bool
    merged_at: datetime | None
    closed_at: datetime | None
    closed_by_bot: bool  # closed by close_pr() because nothing was left: not a rejection
    body: str
    head_sha: str
    readme_at_head: str | None


class Publisher(Protocol):
    """What the pipeline and the CLI need of the list's repository (``GitHubPublisher`` over the REST API)."""

    def close(self) -> None: ...

    def read_file(self, path: str, ref: str | None = None) -> tuple[str, str]: ...

    def open_pr(self, path: str = "README.md") -> OpenPR | None: ...

    def bot_pull_requests(self, state: str = "closed", path: str | None = "README.md",
                          limit: int = 30) -> list[ClosedPR]: ...

    def publish(self, path: str, new_text: str, title: str, body: str,
                labels: Sequence[str] | None = None, commit_message: str = DEFAULT_COMMIT_MESSAGE, *,
                base_sha: str | None = None) -> PullResult: ...

    def close_pr(self, comment: str = "", body: str | None = None) -> int | None: ...

    def pull_snapshot(self, path: str) -> bytes | None: ...

    def push_snapshot(self, path: str, data: bytes, message: str) -> str: ...

    def ensure_alarm_issue(self, title: str, body: str) -> int: ...

    def resolve_alarm_issue(self, comment: str = "") -> int | None: ...


def open_publisher(settings: GitHubSettings, repository: str | None = None) -> Publisher:
    """The GitHub side, paced as ``settings`` say; ``repository`` overrides GITHUB_REPOSITORY."""
    return GitHubPublisher(replace(settings, repository=repository) if repository else settings)


class GitHubPublisher:
    """paperbot's side of one GitHub repository. Settings come in (pacing included); nothing is read from
    the environment."""

    def __init__(self, settings: GitHubSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.api = GitHubClient(settings, sleep=sleep)
        self._state = StateBranch(self.api, settings.state_branch)

    def __repr__(self) -> str:
        return f"GitHubPublisher(repository={self.settings.repository!r}, branch={self.settings.branch!r})"

    def close(self) -> None:
        self.api.close()

    # -- reading -------------------------------------------------------------------------------------------

    def base_branch(self) -> str:
        """``settings.base``, else the repository's default branch as GitHub reports it now."""
        return self.settings.base or self.api.repo.default_branch

    def _own_branch(self, setting: str) -> str:
        """``settings.branch`` or ``settings.state_branch``, refused when it is the list's base branch or the
        repository's default branch: paperbot force-moves and deletes its own branches."""
        branch = getattr(self.settings, setting)
        if branch in {self.base_branch(), self.api.repo.default_branch}:
            raise PublishError(f"[github] {setting} is {branch!r}, a branch the maintainers own; paperbot "
                               f"force-moves and deletes its {setting.replace('_', ' ')}: set another name")
        return str(branch)

    def read_file(self, path: str, ref: str | None = None) -> tuple[str, str]:
        """``(text, commit_sha)`` of ``path`` on ``ref`` (default: the base branch), read at one commit."""
        branch = ref or self.base_branch()
        git_ref = self.api.ref(branch)
        sha = git_ref.object.sha if git_ref else branch
        text = self.api.text_at(path, sha)
        if text is None:
            raise PublishError(f"{path} not found on {branch} in {self.settings.repository}; "
                               "check [list] path in paperbot.toml")
        return text, sha

    def open_pr(self, path: str = "README.md") -> OpenPR | None:
        """The bot's one open PR (found by ``owner:branch``, verified head repo and author), or None."""
        pr = self._find_open_pr()
        if pr is None:
            return None
        return OpenPR(pr.number, pr.html_url, pr.title, pr.body or "", pr.head.sha,
                      self.api.text_at(path, pr.head.sha))

    def bot_pull_requests(self, state: str = "closed", path: str | None = "README.md",
                          limit: int = 30) -> list[ClosedPR]:
        """The bot's own PRs, newest first, each with ``path`` as it stood on its head (None: not read)."""
        pulls = self.api.call("listing paperbot's pull requests", lambda: self._own_pulls(state, limit))
        return [ClosedPR(pr.number, pr.html_url, pr.merged_at is not None, pr.merged_at, pr.closed_at,
                         CLOSED_MARKER in (pr.body or ""), pr.body or "", pr.head.sha,
                         self.api.text_at(path, pr.head.sha) if path else None)
                for pr in pulls]

    # -- the rolling pull request --------------------------------------------------------------------------

    def publish(self, path: str, new_text: str, title: str, body: str,
                labels: Sequence[str] | None = None, commit_message: str = DEFAULT_COMMIT_MESSAGE, *,
                base_sha: str | None = None) -> PullResult:
        """Make the bot branch one commit on the current base with ``new_text``; open or update the PR.

        ``base_sha`` is the commit ``read_file`` returned: if ``path`` changed on the base since, this
        raises rather than overwrite a maintainer's edit. An identical re-run makes no write at all.
        """
        title = title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
        body = fit_body(body)
        labels = tuple(self.settings.labels if labels is None else labels)
        base = self.base_branch()
        base_ref = self.api.ref(base)
        if base_ref is None:
            raise PublishError(f"base branch {base!r} not found in {self.settings.repository}; "
                               "fix [github] base in paperbot.toml or leave it empty for the default branch")
        head = base_ref.object.sha
        data = new_text.encode("utf-8")
        base_blob = self.api.blob_sha(path, head)
        if base_sha and base_sha != head and self.api.blob_sha(path, base_sha) != base_blob:
            raise PublishError(f"{path} changed on {base} during this run ({base_sha[:7]} → {head[:7]}); "
                               "run again so the new entries are added to the current list")
        if base_blob == git_blob_sha(data):
            raise ValueError(f"{path} on {base} already has this content: call close_pr(), not publish()")
        self._own_branch("branch")
        pr = self._find_open_pr()  # first: a PR we must not touch stops us before the branch moves
        changed = self._rebuild_branch(path, new_text, head, commit_message)
        created = False
        if pr is None:
            pr, created = self._create_pr(base, title, body)
        changed = self._sync_pr(pr, base, title, body) or changed or created
        changed = self._add_labels(pr, labels) or changed
        return PullResult(pr.number, pr.html_url, created, changed)

    def close_pr(self, comment: str = "", body: str | None = None) -> int | None:
        """Close the bot's open PR (nothing left to add) with a short comment and delete its branch;
        ``body`` replaces the PR's body first (it is marked as closed by the bot either way)."""
        self._own_branch("branch")
        pr = self._find_open_pr()
        if pr is None:
            return None
        if comment:
            self.api.call(f"commenting on pull request #{pr.number}",
                          lambda: pr.create_issue_comment(comment))
        body = fit_body(f"{CLOSED_MARKER}\n{pr.body or '' if body is None else body}")  # first: never cut
        self.api.call(f"closing pull request #{pr.number}", lambda: pr.edit(state="closed", body=body))
        ref = self.api.ref(self.settings.branch)
        if ref is not None:
            with contextlib.suppress(GithubException):  # 422: already gone
                self.api.call(f"deleting branch {self.settings.branch}", ref.delete, passthrough=(422,))
        return pr.number

    # -- paperbot's own state: snapshot branch and alarm issue (bot/github/state.py) -------------------------

    def pull_snapshot(self, path: str) -> bytes | None:
        """The bytes of ``path`` on ``settings.state_branch``; None when the branch or file is missing."""
        return self._state.pull(path)

    def push_snapshot(self, path: str, data: bytes, message: str) -> str:
        """Replace the state branch with one parentless commit holding only ``path`` (compare-and-swap)."""
        self._own_branch("state_branch")
        return self._state.push(path, data, message)

    def ensure_alarm_issue(self, title: str, body: str) -> int:
        """Open the alarm issue once; comment on it only when ``body`` is news. Returns its number."""
        return ensure_alarm(self.api, title, body, self.settings.labels)

    def resolve_alarm_issue(self, comment: str = "") -> int | None:
        """Close the open alarm issue with ``comment`` (healthy again); None when there is none."""
        return resolve_alarm(self.api, comment)

    # -- helpers -------------------------------------------------------------------------------------------

    def _is_mine(self, pr: PullRequest) -> bool:
        head_repo = pr.head.repo
        return (pr.head.ref == self.settings.branch and head_repo is not None
                and head_repo.full_name.lower() == (self.settings.repository or "").lower()
                and pr.user.login == self.api.login)

    def _own_pulls(self, state: str, limit: int) -> list[PullRequest]:
        found: list[PullRequest] = []
        pulls = self.api.repo.get_pulls(state=state, head=f"{self.api.owner}:{self.settings.branch}",
                                        sort="created", direction="desc")
        for pr in pulls:
            if self._is_mine(pr):
                found.append(pr)
                if len(found) >= limit:
                    break
        return found

    def _find_open_pr(self) -> PullRequest | None:
        branch, login = self.settings.branch, self.api.login
        pulls = self.api.call("looking up the open pull request", lambda: list(self.api.repo.get_pulls(
            state="open", head=f"{self.api.owner}:{branch}")))
        for pr in pulls:
            same_repo = pr.head.repo is not None and \
                pr.head.repo.full_name.lower() == (self.settings.repository or "").lower()
            if pr.head.ref == branch and same_repo and pr.user.login != login:
                raise PublishError(f"open pull request #{pr.number} from {branch} was opened by "
                                   f"{pr.user.login}, not {login}; paperbot never edits a PR it did not "
                                   "open: close it, or set another [github] branch")
        mine = [pr for pr in pulls if self._is_mine(pr)]
        return max(mine, key=lambda pr: pr.number) if mine else None

    def _rebuild_branch(self, path: str, text: str, base_head: str, message: str) -> bool:
        """Point the bot branch at one commit on ``base_head`` holding ``text``; False if it already does."""
        repo, branch = self.api.repo, self.settings.branch
        ref = self.api.ref(branch)
        if ref is not None:
            current = ref.object.sha
            parents = self.api.call(f"reading branch {branch}",
                                    lambda: [p.sha for p in repo.get_git_commit(current).parents])
            wanted = git_blob_sha(text.encode("utf-8"))
            if parents == [base_head] and self.api.blob_sha(path, current) == wanted:
                return False
            log.info("rebuilding %s from %s (commits on %s are replaced)", branch, base_head[:7], branch)

        def write_commit() -> str:
            base = repo.get_git_commit(base_head)
            element = InputGitTreeElement(path, "100644", "blob", content=text)
            return repo.create_git_commit(message, repo.create_git_tree([element], base.tree), [base]).sha

        sha = self.api.call(f"committing {path}", write_commit)
        if ref is None:
            self.api.call(f"creating branch {branch}",
                          lambda: repo.create_git_ref(f"refs/heads/{branch}", sha))
        else:
            self.api.call(f"updating branch {branch}", lambda: ref.edit(sha, force=True))
        return True

    def _create_pr(self, base: str, title: str, body: str) -> tuple[PullRequest, bool]:
        repo, branch = self.api.repo, self.settings.branch
        failure: PublishError | None = None
        try:
            pr = self.api.call("opening the pull request", lambda: repo.create_pull(
                base=base, head=branch, title=title, body=body), passthrough=(422,))
            return pr, True
        except GithubException as exc:
            if "a pull request already exists" not in github_message(exc).lower():
                failure = self.api.error("opening the pull request", exc)
        if failure is not None:
            raise failure  # outside `except`: GitHub's unmasked text is not chained
        # G3/G4: it exists (another run, or our own POST that timed out and was retried): adopt it.
        existing = self._find_open_pr()
        if existing is None:
            raise PublishError(f"GitHub says a pull request from {branch} already exists but paperbot cannot "
                               "find it by owner:branch; close it by hand and run again")
        return existing, False

    def _sync_pr(self, pr: PullRequest, base: str, title: str, body: str) -> bool:
        if (pr.title, pr.body or "", pr.base.ref) == (title, body, base):
            return False
        self.api.call(f"updating pull request #{pr.number}",
                      lambda: pr.edit(title=title, body=body, base=base))
        return True

    def _add_labels(self, pr: PullRequest, labels: Sequence[str]) -> bool:
        present = {label.name for label in pr.labels}
        missing = [name for name in labels if name not in present]
        if missing:
            # G7: right after a PR is created, labelling can fail 422 "Could not resolve to a node".
            self.api.call(f"labelling pull request #{pr.number}", lambda: pr.add_to_labels(*missing),
                          retry_messages=("could not resolve to a node",))
        return bool(missing)
