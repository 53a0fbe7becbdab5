"""One PyGithub client for paperbot: bounded retries, one-line errors, the token never shown.

Used by ``bot/github/pulls.py`` and ``bot/github/state.py``, the only modules beside it that import
``github``. Every call to GitHub goes through ``GitHubClient.call``, which retries what is transient (5xx,
rate limits, dropped connections) within ``settings.max_retries`` and ``settings.retry_budget_seconds``, and
turns everything else into a ``PublishError`` that says what failed and how to fix it, with the token
masked.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Collection
from typing import TypeVar

import requests
from github import Auth, Github, GithubException
from github.ContentFile import ContentFile
from github.GitRef import GitRef
from github.Repository import Repository

from bot.core.config import GitHubSettings
from bot.core.errors import PublishError
from bot.core.secrets import SecretFilter, mask

log = logging.getLogger(__name__)
T = TypeVar("T")

# Pacing (seconds between requests and between writes, the first backoff) is GitHubSettings' alone.
BACKOFF_MAX_SECONDS = 30.0
# GitHub: on a secondary rate limit without Retry-After, "wait for at least one minute".
SECONDARY_RATE_LIMIT_SECONDS = 60.0
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
# The login of the default GITHUB_TOKEN; installation tokens cannot call GET /user.
ACTIONS_BOT_LOGIN = "github-actions[bot]"
MAX_DETAIL_CHARS = 200
# GitHub rejects PR, issue and comment bodies over 65,536 characters with 422 "body is too long".
MAX_BODY_CHARS = 65_536
TRUNCATED_NOTICE = "\n\n…(truncated to fit GitHub's limit; the README diff lists every paper)\n"

TOKEN_HINT = "GITHUB_TOKEN is invalid or expired; pass a valid token (in Actions: secrets.GITHUB_TOKEN)"
PERMISSION_HINT = "give the job `contents: write` and `pull-requests: write`"
ISSUES_HINT = "give the job `issues: write`"
ACTIONS_PR_HINT = ("enable Settings → Actions → General → Workflow permissions → "
                   "Allow GitHub Actions to create and approve pull requests")
NOT_PERMITTED_MESSAGE = "not permitted to create or approve pull requests"


def git_blob_sha(data: bytes) -> str:
    """The SHA-1 git gives a blob: tells "already there" apart without downloading the content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fit_body(body: str) -> str:
    """Cut a PR, issue or comment body to GitHub's limit at a line boundary, saying so."""
    if len(body) <= MAX_BODY_CHARS:
        return body
    cut = body[: MAX_BODY_CHARS - len(TRUNCATED_NOTICE)]
    return cut[: cut.rfind("\n") if "\n" in cut else len(cut)] + TRUNCATED_NOTICE


def github_message(exc: GithubException) -> str:
    """GitHub's message plus any ``errors[].message`` (where "A pull request already exists" hides)."""
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or exc.message or "")]
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
        elif isinstance(error, str):
            parts.append(error)
    return "; ".join(part for part in parts if part)


class GitHubClient:
    """The PyGithub ``Github`` object for one repository, wrapped with retries and error translation."""

    def __init__(self, settings: GitHubSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        if not settings.token:
            raise PublishError("no GitHub token: set GITHUB_TOKEN (in Actions: `env: GITHUB_TOKEN: "
                               "${{ secrets.GITHUB_TOKEN }}`)")
        if not settings.repository or not re.fullmatch(r"[\w.-]+/[\w.-]+", settings.repository):
            raise PublishError(f"GitHub repository {settings.repository!r} is not 'owner/name': set "
                               "GITHUB_REPOSITORY (Actions sets it) or [github] repository in paperbot.toml")
        self.settings = settings
        self.owner, self.name = settings.repository.split("/")
        self._token = settings.token
        self._sleep = sleep
        self._retry_spent = 0.0
        # retry=None: PyGithub's GithubRetry retries POSTs, may wait without bound and ends in urllib3's
        # RetryError; our own loop below is bounded, injectable and speaks PublishError.
        self.github = Github(base_url=settings.api_url.rstrip("/"), auth=Auth.Token(settings.token),
                             timeout=max(1, math.ceil(settings.timeout_seconds)), retry=None,
                             seconds_between_requests=settings.seconds_between_requests,
                             seconds_between_writes=settings.seconds_between_writes)
        self._filter = SecretFilter([self._token])
        for name in ("github.Requester", "github.GithubRetry"):
            logging.getLogger(name).addFilter(self._filter)
        self._repo: Repository | None = None
        self._login: str | None = None

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.settings.repository!r}, api_url={self.settings.api_url!r})"

    def close(self) -> None:
        for name in ("github.Requester", "github.GithubRetry"):
            logging.getLogger(name).removeFilter(self._filter)
        self.github.close()

    def mask(self, text: str) -> str:
        return mask(text, [self._token])

    @property
    def repo(self) -> Repository:
        """The repository, read once per run (its default branch is never assumed)."""
        if self._repo is None:
            self._repo = self.call(f"reading repository {self.settings.repository}",
                                   lambda: self.github.get_repo(f"{self.owner}/{self.name}"))
        return self._repo

    @property
    def login(self) -> str:
        """The bot's login: ``github.bot_login`` when set, else the token's user, else
        ``github-actions[bot]`` (the Actions GITHUB_TOKEN cannot read ``/user``)."""
        if self._login is None and self.settings.bot_login:
            self._login = self.settings.bot_login
        if self._login is None:
            try:
                self._login = self.call("reading the token's user", lambda: self.github.get_user().login,
                                        passthrough=(403, 404))
            except GithubException:
                self._login = ACTIONS_BOT_LOGIN
        return self._login

    def ref(self, branch: str) -> GitRef | None:
        """The branch's ref (``ref.object.sha`` is its head), or None when it does not exist."""
        repo = self.repo
        try:
            return self.call(f"reading branch {branch}", lambda: repo.get_git_ref(f"heads/{branch}"),
                             passthrough=(404,))
        except GithubException:
            return None

    def contents(self, path: str, commit_sha: str) -> ContentFile | None:
        """``path`` at one commit, or None when it is not there."""
        repo = self.repo
        try:
            content = self.call(f"reading {path} at {commit_sha[:7]}",
                                lambda: repo.get_contents(path, ref=commit_sha), passthrough=(404,))
        except GithubException:
            return None
        if isinstance(content, list):
            raise PublishError(f"{path} is a directory in {self.settings.repository}; check [list] path")
        return content

    def text_at(self, path: str, commit_sha: str) -> str | None:
        content = self.contents(path, commit_sha)
        return content.decoded_content.decode("utf-8") if content else None

    def blob_sha(self, path: str, commit_sha: str) -> str | None:
        content = self.contents(path, commit_sha)
        return content.sha if content else None

    def call(self, action: str, fn: Callable[[], T], *, hint: str = PERMISSION_HINT,
             passthrough: Collection[int] = (), retry_messages: Collection[str] = ()) -> T:
        """Run ``fn`` (one or a few PyGithub calls), retrying transient failures within the budget.

        ``passthrough`` statuses are re-raised as ``GithubException`` for the caller to handle (404 "missing",
        422 "already exists"); ``retry_messages`` makes a 4xx with that text transient (422 "Could not
        resolve to a node" right after a PR is created).
        """
        attempt = 0
        while True:
            attempt += 1
            failure: PublishError | None = None  # raised outside `except`, so GitHub's text is not chained
            wait: float | None = None
            asked = False
            try:
                return fn()
            except GithubException as exc:
                if exc.status in passthrough:
                    raise
                wait, asked = self._transient_wait(exc, attempt, retry_messages)
                what = f"HTTP {exc.status}"
                if wait is None:
                    failure = self.error(action, exc, hint)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                wait, what = self._backoff(attempt), type(exc).__name__
            except requests.RequestException as exc:
                failure = PublishError(self.mask(f"{action}: cannot reach GitHub at {self.settings.api_url} "
                                                 f"({type(exc).__name__}); check GITHUB_API_URL"))
            budget = self.settings.retry_budget_seconds
            if failure is None and wait is not None and (
                    attempt > self.settings.max_retries or self._retry_spent + wait > budget):
                waited = f", asked to wait {wait:.0f} s more" if asked else ""
                failure = PublishError(self.mask(
                    f"{action}: GitHub kept failing ({what} after {attempt} attempts and "
                    f"{self._retry_spent:.0f} s of the {budget:.0f} s retry budget{waited}); "
                    "GitHub may be down or rate limiting: try again later"))
            if failure is not None or wait is None:
                raise failure or PublishError(f"{action}: unexpected state")
            log.debug("GitHub %s while %s; retry %d in %.1f s", what, action, attempt, wait)
            self._retry_spent += wait
            self._sleep(wait)

    def error(self, action: str, exc: GithubException, hint: str = PERMISSION_HINT) -> PublishError:
        """One masked line saying what failed, GitHub's message, and how to fix it."""
        status, detail = exc.status, " ".join(github_message(exc).split())[:MAX_DETAIL_CHARS]
        if status == 401:
            fix = TOKEN_HINT
        elif status == 403 and NOT_PERMITTED_MESSAGE in detail.lower():
            fix = ACTIONS_PR_HINT
        elif status == 404 and action.startswith("reading repository"):
            fix = f"check GITHUB_REPOSITORY ({self.settings.repository}) and GITHUB_API_URL, and {hint}"
        elif status in (403, 404):
            fix = hint
        elif status == 409:
            fix = "the branch moved while paperbot was writing; run again"
        else:
            fix = "this is not retried; see GitHub's message"
        detail = detail or "no message"
        return PublishError(self.mask(f"{action}: GitHub answered HTTP {status} ({detail}); {fix}"),
                            status=status)

    def _backoff(self, attempt: int) -> float:
        return float(min(BACKOFF_MAX_SECONDS, self.settings.backoff_seconds * 2 ** (attempt - 1)))

    def _transient_wait(self, exc: GithubException, attempt: int,
                        retry_messages: Collection[str]) -> tuple[float | None, bool]:
        """(seconds to wait before retrying or None if permanent, whether GitHub asked for that wait)."""
        headers = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}
        lowered = github_message(exc).lower()
        if exc.status in TRANSIENT_STATUSES:
            return self._backoff(attempt), False
        if exc.status in (403, 429) and ("retry-after" in headers or "rate limit" in lowered):
            if headers.get("retry-after", "").isdigit():
                return float(headers["retry-after"]), True
            if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
                return max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1, True
            return max(SECONDARY_RATE_LIMIT_SECONDS, self._backoff(attempt)), True
        if any(message.lower() in lowered for message in retry_messages):
            return self._backoff(attempt), False
        return None, False
