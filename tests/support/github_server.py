"""A loopback fake of the GitHub REST API, stateful, for tests.

A real HTTP server on 127.0.0.1 (stdlib ``ThreadingHTTPServer`` in a thread) that speaks the endpoints
PyGithub calls for paperbot: repos, contents, branches, the Git Data API (refs, blobs, trees, commits), pulls,
issues, comments, labels and ``/user``. Every ``url`` in its JSON is built from its own address, because
PyGithub asserts the host of each URL it follows.

Tests act as maintainers through helpers (``push``, ``merge_pull``, ``edit_pull_body``, ``close_pull``,
``open_fork_pull``), inject failures with ``fail()`` and assert on ``requests`` / ``writes()``. Register the
``github_server`` fixture with ``pytest_plugins = ["tests.support.github_server"]`` in the top-level
``conftest.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import pytest

DOCS_URL = "https://docs.github.com/rest"
README = """# Awesome Efficient Diffusion

## Knowledge Distillation for Diffusion Models

- [Progressive Distillation](https://arxiv.org/abs/2202.00512)

## Quantization for Diffusion Models

- [Q-Diffusion](https://arxiv.org/abs/2302.04304)
"""
NOT_PERMITTED = "GitHub Actions is not permitted to create or approve pull requests."
NOT_ACCESSIBLE = "Resource not accessible by integration"


def git_blob_sha(data: bytes) -> str:
    """The SHA-1 git gives a blob, so tests and the bot can compare content without fetching it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _digest(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ApiError(Exception):
    """Raised inside a handler to answer with a GitHub-shaped error."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS_URL, "status": str(status)}
        if errors:
            self.body["errors"] = errors


def already_exists_body(label: str) -> dict[str, Any]:
    """The exact 422 GitHub sends when an open PR already has this head and base."""
    return ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                              "message": f"A pull request already exists for {label}."}]).body


@dataclass
class Commit:
    sha: str
    tree: str
    parents: list[str]
    message: str
    date: str


@dataclass
class Repo:
    owner: str
    name: str
    default_branch: str = "main"
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/x" -> commit sha
    parent: Repo | None = None
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Pull:
    number: int
    head_repo: Repo
    head_ref: str
    base_ref: str
    title: str
    body: str | None
    user: str
    head_sha: str
    created_at: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    merged_at: str | None = None
    closed_at: str | None = None
    merge_commit_sha: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Issue:
    number: int
    title: str
    body: str | None
    user: str
    created_at: str
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    closed_at: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int  # 0 = drop the connection without answering
    body: Any
    headers: dict[str, str]
    times: int
    apply: bool  # run the real handler first (the write happens), then answer with the fault


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


Handler = Callable[..., tuple[int, Any] | tuple[int, Any, dict[str, str]]]


class FakeGitHub:
    """State plus the HTTP server. All state changes happen under one lock."""

    def __init__(self, owner: str = "octo", name: str = "papers", *, token: str = "test-token",
                 login: str = "github-actions[bot]", readme: str = README) -> None:
        self.token = token
        self.login = login
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, str]] = {}  # flat: "dir/file" -> blob sha
        self.commits: dict[str, Commit] = {}
        self.pulls: dict[str, dict[int, Pull]] = {}
        self.issues: dict[str, dict[int, Issue]] = {}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.user_error: tuple[int, str] | None = None  # e.g. (403, NOT_ACCESSIBLE) as for GITHUB_TOKEN
        self.read_only = False  # every write -> 403 "Resource not accessible by integration"
        self.allow_actions_prs = True  # False -> POST pulls 403 "not permitted" (G1)
        self.ignore_head_filter = False  # True -> list pulls ignores ?head= (GitHub's fork/list bug)
        self._clock = datetime(2026, 1, 1, tzinfo=UTC)
        self._ids = 1000
        self.repo = self.create_repo(owner, name, files={"README.md": readme})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- test API: faults and the request log ------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, message: str | None = None, *,
             body: Any = None, headers: dict[str, str] | None = None, times: int = 1,
             apply: bool = False) -> None:
        """Answer the next ``times`` requests matching ``method`` and the regex ``path`` with ``status``.

        ``status=0`` drops the connection; ``apply=True`` performs the real request first (a write that
        happened although the client saw an error, as after a timeout).
        """
        if body is None and status:
            body = ApiError(status, message or "Server Error").body
        self.faults.append(Fault(method.upper(), re.compile(path), status, body, headers or {}, times, apply))

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.search(path, r.path)]

    def clear_log(self) -> None:
        self.requests.clear()

    # -- test API: acting as a maintainer ------------------------------------------------------------------

    def create_repo(self, owner: str, name: str, *, files: dict[str, str] | None = None,
                    fork_of: Repo | None = None, default_branch: str = "main") -> Repo:
        with self.lock:
            repo = Repo(owner, name, default_branch, parent=fork_of)
            self.repos[repo.full_name] = repo
            self.pulls[repo.full_name] = {}
            self.issues[repo.full_name] = {}
            if fork_of is not None:
                repo.refs = dict(fork_of.refs)
                repo.default_branch = fork_of.default_branch
            else:
                repo.refs[f"refs/heads/{default_branch}"] = self.commit(files or {}, [], "Initial commit")
            return repo

    def commit(self, files: Mapping[str, str | bytes | None], parents: list[str], message: str) -> str:
        """Store a commit whose tree is the first parent's with ``files`` applied (None deletes)."""
        with self.lock:
            tree = dict(self.trees[self.commits[parents[0]].tree]) if parents else {}
            for path, content in files.items():
                if content is None:
                    tree.pop(path, None)
                else:
                    tree[path] = self.store_blob(content.encode() if isinstance(content, str) else content)
            return self._store_commit(self._store_tree(tree), parents, message)

    def push(self, files: Mapping[str, str | bytes | None], *, branch: str | None = None,
             message: str = "Maintainer edit", repo: Repo | None = None) -> str:
        """Commit ``files`` on top of ``branch`` (default branch if None) and move the branch."""
        with self.lock:
            repo = repo or self.repo
            ref = f"refs/heads/{branch or repo.default_branch}"
            # a new branch starts from the default branch, as on github.com
            parent = repo.refs.get(ref) or repo.refs[f"refs/heads/{repo.default_branch}"]
            sha = self.commit(files, [parent], message)
            repo.refs[ref] = sha
            return sha

    def rename_default_branch(self, new: str) -> None:
        with self.lock:
            repo = self.repo
            repo.refs[f"refs/heads/{new}"] = repo.refs.pop(f"refs/heads/{repo.default_branch}")
            for pull in self.pulls[repo.full_name].values():
                if pull.base_ref == repo.default_branch:
                    pull.base_ref = new
            repo.default_branch = new

    def file(self, path: str, ref: str | None = None, repo: Repo | None = None) -> str | None:
        """The text of ``path`` at a branch name or commit sha (default branch if None)."""
        with self.lock:
            repo = repo or self.repo
            sha = self._resolve(repo, ref or repo.default_branch)
            blob = self.trees[self.commits[sha].tree].get(path) if sha else None
            return self.blobs[blob].decode() if blob else None

    def head(self, branch: str, repo: Repo | None = None) -> str | None:
        return (repo or self.repo).refs.get(f"refs/heads/{branch}")

    def pull(self, number: int) -> Pull:
        return self.pulls[self.repo.full_name][number]

    def open_pulls(self) -> list[Pull]:
        return [p for p in self.pulls[self.repo.full_name].values() if p.state == "open"]

    def merge_pull(self, number: int, *, edit: dict[str, str | bytes | None] | None = None,
                   delete_branch: bool = False) -> str:
        """Merge like the button does; ``edit`` is a maintainer commit pushed on the PR branch first."""
        with self.lock:
            pull = self.pull(number)
            if edit:
                self.push(edit, branch=pull.head_ref, repo=pull.head_repo, message="Maintainer edit on PR")
            head = self._pull_head(pull)
            base_ref = f"refs/heads/{pull.base_ref}"
            base = self.repo.refs[base_ref]
            ancestor = self._merge_base(head, base)
            before = self.trees[self.commits[ancestor].tree] if ancestor else {}
            after = self.trees[self.commits[head].tree]
            changes: dict[str, str | bytes | None] = {
                path: (self.blobs[after[path]] if path in after else None)
                for path in set(before) | set(after) if before.get(path) != after.get(path)
            }
            merged = self.commit(changes, [base, head], f"Merge pull request #{number}")
            self.repo.refs[base_ref] = merged
            pull.head_sha, pull.state = head, "closed"
            pull.merged_at = pull.closed_at = self._now()
            pull.merge_commit_sha = merged
            if delete_branch:
                pull.head_repo.refs.pop(f"refs/heads/{pull.head_ref}", None)
            return merged

    def edit_pull_body(self, number: int, body: str) -> None:
        """A maintainer edits the PR's description (ticking a task-list box is such an edit)."""
        with self.lock:
            self.pull(number).body = body

    def close_pull(self, number: int) -> None:
        with self.lock:
            pull = self.pull(number)
            pull.head_sha, pull.state, pull.closed_at = self._pull_head(pull), "closed", self._now()

    def open_pull(self, branch: str, *, user: str, title: str = "Manual PR", body: str = "",
                  base: str | None = None) -> Pull:
        """Someone opens a PR from a branch of this repository (it must exist)."""
        with self.lock:
            return self._open_pull(self.repo, branch, base or self.repo.default_branch, title, body, user)

    def open_fork_pull(self, fork_owner: str, branch: str, files: dict[str, str | bytes | None], *,
                       title: str = "Add my paper", body: str = "") -> Pull:
        """A human opens a PR from a fork, on a branch that may share the bot's name."""
        with self.lock:
            fork = self.repos.get(f"{fork_owner}/{self.repo.name}") or self.create_repo(
                fork_owner, self.repo.name, fork_of=self.repo)
            self.push(files, branch=fork.default_branch, repo=fork)
            fork.refs[f"refs/heads/{branch}"] = fork.refs[f"refs/heads/{fork.default_branch}"]
            return self._open_pull(fork, branch, self.repo.default_branch, title, body, fork_owner)

    # -- git object store ----------------------------------------------------------------------------------

    def store_blob(self, data: bytes) -> str:
        sha = git_blob_sha(data)
        self.blobs[sha] = data
        return sha

    def _store_tree(self, entries: dict[str, str]) -> str:
        sha = _digest("tree", sorted(entries.items()))
        self.trees[sha] = dict(entries)
        return sha

    def _store_commit(self, tree: str, parents: list[str], message: str) -> str:
        date = self._now()
        sha = _digest("commit", tree, parents, message, date)
        self.commits[sha] = Commit(sha, tree, list(parents), message, date)
        return sha

    def _ancestors(self, sha: str) -> list[str]:
        seen, todo = [], [sha]
        while todo:
            current = todo.pop(0)
            if current not in seen:
                seen.append(current)
                todo.extend(self.commits[current].parents)
        return seen

    def _merge_base(self, a: str, b: str) -> str | None:
        of_b = set(self._ancestors(b))
        return next((sha for sha in self._ancestors(a) if sha in of_b), None)

    def _resolve(self, repo: Repo, ref: str) -> str | None:
        for name in (ref, f"refs/heads/{ref}", f"refs/{ref}"):
            if name in repo.refs:
                return repo.refs[name]
        return ref if ref in self.commits else None

    def _now(self) -> str:
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _pull_head(self, pull: Pull) -> str:
        if pull.state == "open":
            return pull.head_repo.refs.get(f"refs/heads/{pull.head_ref}", pull.head_sha)
        return pull.head_sha

    def _open_pull(self, head_repo: Repo, head_ref: str, base_ref: str, title: str, body: str | None,
                   user: str) -> Pull:
        repo = self.repo
        pull = Pull(repo.next_number, head_repo, head_ref, base_ref, title, body, user,
                    head_repo.refs[f"refs/heads/{head_ref}"], self._now())
        repo.next_number += 1
        self.pulls[repo.full_name][pull.number] = pull
        return pull

    # -- HTTP dispatch -------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: Any
               ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(raw_path)
        path, query = split.path, dict(parse_qsl(split.query))
        with self.lock:
            if headers.get("authorization") not in (f"token {self.token}", f"Bearer {self.token}"):
                return self._log(method, path, query, body, 401, ApiError(401, "Bad credentials").body, {})
            fault = next((f for f in self.faults if f.method == method and f.pattern.search(path)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                if fault.apply:
                    self._route(method, path, query, body)
                return self._log(method, path, query, body, fault.status, fault.body, fault.headers)
            status, payload, extra = self._route(method, path, query, body)
            return self._log(method, path, query, body, status, payload, extra)

    def _log(self, method: str, path: str, query: dict[str, str], body: Any, status: int, payload: Any,
             headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        self.requests.append(Request(method, path, query, body, status))
        return status, payload, headers

    def _route(self, method: str, path: str, query: dict[str, str], body: Any
               ) -> tuple[int, Any, dict[str, str]]:
        try:
            if path == "/user" and method == "GET":
                if self.user_error:
                    raise ApiError(*self.user_error)
                return 200, self._user(self.login), {}
            match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
            if not match or f"{match[1]}/{match[2]}" not in self.repos:
                raise ApiError(404, "Not Found")
            repo = self.repos[f"{match[1]}/{match[2]}"]
            rest = unquote(match[3] or "")
            if method != "GET" and self.read_only:
                raise ApiError(403, NOT_ACCESSIBLE)
            for verb, pattern, handler in ROUTES:
                found = re.fullmatch(pattern, rest)
                if verb == method and found:
                    result = handler(self, repo, query, body or {}, *found.groups())
                    status, payload = result[0], result[1]
                    return status, payload, (result[2] if len(result) > 2 else {})  # type: ignore[misc]
            raise ApiError(404, "Not Found")
        except ApiError as exc:
            return exc.status, exc.body, {}

    # -- JSON shapes ---------------------------------------------------------------------------------------

    def _repo_url(self, repo: Repo) -> str:
        return f"{self.url}/repos/{repo.full_name}"

    def _user(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": abs(hash(login)) % 10**6, "node_id": f"U_{login}",
                "type": "Bot" if login.endswith("[bot]") else "User",
                "url": f"{self.url}/users/{quote(login)}", "html_url": f"{self.url}/{quote(login)}"}

    def _repo_json(self, repo: Repo) -> dict[str, Any]:
        data = {"id": abs(hash(repo.full_name)) % 10**6, "node_id": f"R_{repo.full_name}", "name": repo.name,
                "full_name": repo.full_name, "owner": self._user(repo.owner), "private": False,
                "fork": repo.parent is not None, "url": self._repo_url(repo),
                "html_url": f"{self.url}/{repo.full_name}", "default_branch": repo.default_branch,
                "permissions": {"admin": False, "push": True, "pull": True}}
        if repo.parent is not None:
            data["parent"] = data["source"] = self._repo_json(repo.parent)
        return data

    def _ref_json(self, repo: Repo, ref: str) -> dict[str, Any]:
        sha = repo.refs[ref]
        return {"ref": ref, "node_id": f"REF_{ref}", "url": f"{self._repo_url(repo)}/git/{ref}",
                "object": {"sha": sha, "type": "commit", "url": f"{self._repo_url(repo)}/git/commits/{sha}"}}

    def _commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        commit = self.commits[sha]
        person = {"name": self.login, "email": "bot@example.invalid", "date": commit.date}
        base = self._repo_url(repo)
        return {"sha": sha, "node_id": f"C_{sha}", "url": f"{base}/git/commits/{sha}",
                "html_url": f"{self.url}/{repo.full_name}/commit/{sha}", "author": person,
                "committer": person, "message": commit.message,
                "tree": {"sha": commit.tree, "url": f"{base}/git/trees/{commit.tree}"},
                "parents": [{"sha": p, "url": f"{base}/git/commits/{p}"} for p in commit.parents],
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None}}

    def _label_json(self, repo: Repo, name: str) -> dict[str, Any]:
        return {"id": abs(hash(name)) % 10**6, "node_id": f"L_{name}", "name": name, "color": "ededed",
                "url": f"{self._repo_url(repo)}/labels/{quote(name)}", "default": False, "description": None}

    def _pull_json(self, repo: Repo, pull: Pull, *, full: bool = False) -> dict[str, Any]:
        base = self._repo_url(repo)
        head_sha = self._pull_head(pull)
        data: dict[str, Any] = {
            "url": f"{base}/pulls/{pull.number}", "id": pull.number + 5000, "node_id": f"PR_{pull.number}",
            "html_url": f"{self.url}/{repo.full_name}/pull/{pull.number}", "number": pull.number,
            "issue_url": f"{base}/issues/{pull.number}", "state": pull.state, "locked": False,
            "title": pull.title, "user": self._user(pull.user), "body": pull.body,
            "labels": [self._label_json(repo, name) for name in pull.labels],
            "created_at": pull.created_at, "updated_at": pull.created_at, "closed_at": pull.closed_at,
            "merged_at": pull.merged_at, "merge_commit_sha": pull.merge_commit_sha, "draft": False,
            "head": {"label": f"{pull.head_repo.owner}:{pull.head_ref}", "ref": pull.head_ref,
                     "sha": head_sha, "user": self._user(pull.head_repo.owner),
                     "repo": self._repo_json(pull.head_repo)},
            "base": {"label": f"{repo.owner}:{pull.base_ref}", "ref": pull.base_ref,
                     "sha": repo.refs.get(f"refs/heads/{pull.base_ref}"), "user": self._user(repo.owner),
                     "repo": self._repo_json(repo)},
            "author_association": "NONE",
        }
        if full:  # only GET /pulls/{n} carries these, as on GitHub
            data.update({"merged": pull.merged_at is not None, "mergeable": True, "mergeable_state": "clean",
                         "comments": len(pull.comments), "commits": 1, "changed_files": 1})
        return data

    def _issue_json(self, repo: Repo, item: Issue | Pull) -> dict[str, Any]:
        base = self._repo_url(repo)
        data = {"url": f"{base}/issues/{item.number}", "repository_url": base, "id": item.number + 9000,
                "node_id": f"I_{item.number}", "number": item.number, "title": item.title, "body": item.body,
                "html_url": f"{self.url}/{repo.full_name}/issues/{item.number}",
                "user": self._user(item.user),
                "labels": [self._label_json(repo, name) for name in item.labels], "state": item.state,
                "state_reason": getattr(item, "state_reason", None), "locked": False,
                "comments": len(item.comments), "comments_url": f"{base}/issues/{item.number}/comments",
                "created_at": item.created_at, "updated_at": item.created_at, "closed_at": item.closed_at}
        if isinstance(item, Pull):
            data["pull_request"] = {"url": f"{base}/pulls/{item.number}", "merged_at": item.merged_at}
        return data

    def _comment_json(self, repo: Repo, number: int, comment: dict[str, Any]) -> dict[str, Any]:
        base = self._repo_url(repo)
        return {"id": comment["id"], "node_id": f"IC_{comment['id']}", "body": comment["body"],
                "url": f"{base}/issues/comments/{comment['id']}", "issue_url": f"{base}/issues/{number}",
                "html_url": f"{self.url}/{repo.full_name}/issues/{number}#issuecomment-{comment['id']}",
                "user": self._user(comment["user"]), "created_at": comment["created_at"],
                "updated_at": comment["created_at"]}

    def _page(self, path: str, query: dict[str, str], items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if page < last:
            def link(n: int) -> str:
                return f"{self.url}{path}?{urlencode({**query, 'page': n})}"
            headers["Link"] = f'<{link(page + 1)}>; rel="next", <{link(last)}>; rel="last"'
        return 200, items[(page - 1) * per_page: page * per_page], headers

    # -- handlers (ROUTES below) ---------------------------------------------------------------------------

    def get_repo(self, repo: Repo, q: dict[str, str], b: Any) -> tuple[int, Any]:
        return 200, self._repo_json(repo)

    def get_branch(self, repo: Repo, q: dict[str, str], b: Any, name: str) -> tuple[int, Any]:
        sha = repo.refs.get(f"refs/heads/{name}")
        if sha is None:
            raise ApiError(404, "Branch not found")
        commit = {"sha": sha, "url": f"{self._repo_url(repo)}/commits/{sha}",
                  "commit": self._commit_json(repo, sha)}
        return 200, {"name": name, "commit": commit, "protected": False,
                     "_links": {"self": f"{self._repo_url(repo)}/branches/{name}"}}

    def _contents_json(self, repo: Repo, path: str, blob: str, ref: str) -> dict[str, Any]:
        data = self.blobs[blob]
        url = f"{self._repo_url(repo)}/contents/{quote(path)}?ref={quote(ref)}"
        return {"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
                "path": path, "sha": blob, "content": base64.encodebytes(data).decode(), "url": url,
                "git_url": f"{self._repo_url(repo)}/git/blobs/{blob}",
                "html_url": f"{self.url}/{repo.full_name}/blob/{ref}/{path}", "download_url": None}

    def get_contents(self, repo: Repo, q: dict[str, str], b: Any, path: str) -> tuple[int, Any]:
        ref = q.get("ref", repo.default_branch)
        sha = self._resolve(repo, ref)
        if sha is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        blob = self.trees[self.commits[sha].tree].get(path)
        if blob is None:
            raise ApiError(404, "Not Found")
        return 200, self._contents_json(repo, path, blob, ref)

    def put_contents(self, repo: Repo, q: dict[str, str], body: Any, path: str) -> tuple[int, Any]:
        branch = body.get("branch", repo.default_branch)
        head = repo.refs.get(f"refs/heads/{branch}")
        if head is None:
            raise ApiError(404, f"Branch {branch} not found")
        current = self.trees[self.commits[head].tree].get(path)
        if current is not None and "sha" not in body:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if current is not None and body["sha"] != current:
            raise ApiError(409, f"{path} does not match {body['sha']}")
        sha = self.commit({path: base64.b64decode(body["content"])}, [head], body["message"])
        repo.refs[f"refs/heads/{branch}"] = sha
        blob = self.trees[self.commits[sha].tree][path]
        return (200 if current else 201), {"content": self._contents_json(repo, path, blob, branch),
                                           "commit": self._commit_json(repo, sha)}

    def get_ref(self, repo: Repo, q: dict[str, str], b: Any, ref: str) -> tuple[int, Any]:
        full = f"refs/{ref}"
        if full not in repo.refs:
            raise ApiError(404, "Not Found")
        return 200, self._ref_json(repo, full)

    def create_ref(self, repo: Repo, q: dict[str, str], body: Any) -> tuple[int, Any]:
        ref, sha = body.get("ref", ""), body.get("sha", "")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
        if ref in repo.refs:
            raise ApiError(422, "Reference already exists")
        if sha not in self.commits:
            raise ApiError(422, "Object does not exist")
        repo.refs[ref] = sha
        return 201, self._ref_json(repo, ref)

    def update_ref(self, repo: Repo, q: dict[str, str], body: Any, ref: str) -> tuple[int, Any]:
        full, sha = f"refs/{ref}", body.get("sha", "")
        if full not in repo.refs:
            raise ApiError(422, "Reference does not exist")
        if sha not in self.commits:
            raise ApiError(422, "Object does not exist")
        if not body.get("force") and repo.refs[full] not in self._ancestors(sha):
            raise ApiError(422, "Update is not a fast forward")
        repo.refs[full] = sha
        return 200, self._ref_json(repo, full)

    def delete_ref(self, repo: Repo, q: dict[str, str], b: Any, ref: str) -> tuple[int, Any]:
        full = f"refs/{ref}"
        if full not in repo.refs:
            raise ApiError(422, "Reference does not exist")
        del repo.refs[full]
        for pull in self.pulls[repo.full_name].values():  # GitHub closes PRs whose head branch is deleted
            if pull.state == "open" and pull.head_repo is repo and f"refs/heads/{pull.head_ref}" == full:
                pull.state, pull.closed_at = "closed", self._now()
        return 204, None

    def create_blob(self, repo: Repo, q: dict[str, str], body: Any) -> tuple[int, Any]:
        content = body.get("content", "")
        data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
        sha = self.store_blob(data)
        return 201, {"sha": sha, "url": f"{self._repo_url(repo)}/git/blobs/{sha}"}

    def get_blob(self, repo: Repo, q: dict[str, str], b: Any, sha: str) -> tuple[int, Any]:
        if sha not in self.blobs:
            raise ApiError(404, "Not Found")
        data = self.blobs[sha]
        return 200, {"sha": sha, "node_id": f"B_{sha}", "size": len(data), "encoding": "base64",
                     "url": f"{self._repo_url(repo)}/git/blobs/{sha}",
                     "content": base64.encodebytes(data).decode()}

    def create_tree(self, repo: Repo, q: dict[str, str], body: Any) -> tuple[int, Any]:
        base = body.get("base_tree")
        if base is not None and base not in self.trees:
            raise ApiError(422, "Invalid tree info")
        entries = dict(self.trees[base]) if base else {}
        for item in body.get("tree", []):
            if item.get("content") is not None:
                entries[item["path"]] = self.store_blob(item["content"].encode())
            elif item.get("sha") is None:
                entries.pop(item["path"], None)
            elif item["sha"] in self.blobs:
                entries[item["path"]] = item["sha"]
            else:
                raise ApiError(422, "Invalid tree info: tree.sha is not a blob")
        return 201, self._tree_json(repo, self._store_tree(entries), recursive=True)

    def _tree_json(self, repo: Repo, sha: str, *, recursive: bool) -> dict[str, Any]:
        base, entries, items = self._repo_url(repo), self.trees[sha], []
        subtrees: dict[str, dict[str, str]] = {}
        for path, blob in sorted(entries.items()):
            top, _, rest = path.partition("/")
            if rest and not recursive:
                subtrees.setdefault(top, {})[rest] = blob
                continue
            items.append({"path": path, "mode": "100644", "type": "blob", "sha": blob,
                          "size": len(self.blobs[blob]), "url": f"{base}/git/blobs/{blob}"})
        for top, sub in subtrees.items():
            sub_sha = self._store_tree(sub)
            items.append({"path": top, "mode": "040000", "type": "tree", "sha": sub_sha,
                          "url": f"{base}/git/trees/{sub_sha}"})
        return {"sha": sha, "url": f"{base}/git/trees/{sha}", "tree": items, "truncated": False}

    def get_tree(self, repo: Repo, q: dict[str, str], b: Any, sha: str) -> tuple[int, Any]:
        if sha not in self.trees:
            raise ApiError(404, "Not Found")
        return 200, self._tree_json(repo, sha, recursive=bool(q.get("recursive")))

    def create_commit(self, repo: Repo, q: dict[str, str], body: Any) -> tuple[int, Any]:
        parents = body.get("parents", [])
        if body.get("tree") not in self.trees or any(p not in self.commits for p in parents):
            raise ApiError(422, "Tree SHA does not exist" if body.get("tree") not in self.trees
                           else "Parent SHA does not exist or is not a commit object")
        sha = self._store_commit(body["tree"], parents, body.get("message", ""))
        return 201, self._commit_json(repo, sha)

    def get_commit(self, repo: Repo, q: dict[str, str], b: Any, sha: str) -> tuple[int, Any]:
        if sha not in self.commits:
            raise ApiError(404, "Not Found")
        return 200, self._commit_json(repo, sha)

    def list_pulls(self, repo: Repo, q: dict[str, str], b: Any) -> tuple[int, Any, dict[str, str]]:
        state, head, base = q.get("state", "open"), q.get("head"), q.get("base")
        found = []
        for pull in sorted(self.pulls[repo.full_name].values(), key=lambda p: -p.number):
            if state != "all" and pull.state != state:
                continue
            # GitHub silently ignores a head filter without "owner:" (PyGithub#1566)
            if head and ":" in head and not self.ignore_head_filter \
                    and head != f"{pull.head_repo.owner}:{pull.head_ref}":
                continue
            if base and pull.base_ref != base:
                continue
            found.append(self._pull_json(repo, pull))
        return self._page(f"/repos/{repo.full_name}/pulls", q, found)

    def create_pull(self, repo: Repo, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if not self.allow_actions_prs and self.login == "github-actions[bot]":
            raise ApiError(403, NOT_PERMITTED)
        owner, _, ref = body.get("head", "").rpartition(":")
        head_repo = next((r for r in self.repos.values() if r.owner == owner and r.name == repo.name), repo) \
            if owner else repo
        base = body.get("base", "")
        for name, missing in (("base", f"refs/heads/{base}" not in repo.refs),
                              ("head", f"refs/heads/{ref}" not in head_repo.refs)):
            if missing:
                raise ApiError(422, "Validation Failed",
                               [{"resource": "PullRequest", "field": name, "code": "invalid"}])
        label = f"{head_repo.owner}:{ref}"
        for pull in self.pulls[repo.full_name].values():
            if pull.state == "open" and pull.base_ref == base and \
                    f"{pull.head_repo.owner}:{pull.head_ref}" == label:
                return 422, already_exists_body(label)
        if head_repo.refs[f"refs/heads/{ref}"] == repo.refs[f"refs/heads/{base}"]:
            raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                      "message": f"No commits between {base} and {ref}"}])
        pull = self._open_pull(head_repo, ref, base, body.get("title", ""), body.get("body"), self.login)
        return 201, self._pull_json(repo, pull, full=True)

    def get_pull(self, repo: Repo, q: dict[str, str], b: Any, number: str) -> tuple[int, Any]:
        pull = self.pulls[repo.full_name].get(int(number))
        if pull is None:
            raise ApiError(404, "Not Found")
        return 200, self._pull_json(repo, pull, full=True)

    def edit_pull(self, repo: Repo, q: dict[str, str], body: Any, number: str) -> tuple[int, Any]:
        pull = self.pulls[repo.full_name].get(int(number))
        if pull is None:
            raise ApiError(404, "Not Found")
        for key in ("title", "body"):
            if key in body:
                setattr(pull, key, body[key])
        if "base" in body:
            pull.base_ref = body["base"]
        if body.get("state") == "closed" and pull.state == "open":
            pull.head_sha, pull.state, pull.closed_at = self._pull_head(pull), "closed", self._now()
        elif body.get("state") == "open" and pull.state == "closed" and pull.merged_at is None:
            pull.state, pull.closed_at = "open", None
        return 200, self._pull_json(repo, pull, full=True)

    def _item(self, repo: Repo, number: str) -> Issue | Pull:
        item = self.issues[repo.full_name].get(int(number)) or self.pulls[repo.full_name].get(int(number))
        if item is None:
            raise ApiError(404, "Not Found")
        return item

    def list_issues(self, repo: Repo, q: dict[str, str], b: Any) -> tuple[int, Any, dict[str, str]]:
        state, creator = q.get("state", "open"), q.get("creator")
        labels = [name for name in q.get("labels", "").split(",") if name]
        items: list[Issue | Pull] = [*self.issues[repo.full_name].values(),
                                     *self.pulls[repo.full_name].values()]
        found = [self._issue_json(repo, item) for item in sorted(items, key=lambda i: -i.number)
                 if (state == "all" or item.state == state) and (not creator or item.user == creator)
                 and all(name in item.labels for name in labels)]
        return self._page(f"/repos/{repo.full_name}/issues", q, found)

    def create_issue(self, repo: Repo, q: dict[str, str], body: Any) -> tuple[int, Any]:
        if not body.get("title"):
            raise ApiError(422, "Validation Failed",
                           [{"resource": "Issue", "field": "title", "code": "missing_field"}])
        issue = Issue(repo.next_number, body["title"], body.get("body"), self.login, self._now(),
                      labels=list(body.get("labels", [])))
        repo.next_number += 1
        self.issues[repo.full_name][issue.number] = issue
        return 201, self._issue_json(repo, issue)

    def get_issue(self, repo: Repo, q: dict[str, str], b: Any, number: str) -> tuple[int, Any]:
        return 200, self._issue_json(repo, self._item(repo, number))

    def edit_issue(self, repo: Repo, q: dict[str, str], body: Any, number: str) -> tuple[int, Any]:
        item = self._item(repo, number)
        for key in ("title", "body", "state_reason"):
            if key in body:
                setattr(item, key, body[key])
        if body.get("state") in ("open", "closed"):
            item.state = body["state"]
            item.closed_at = self._now() if item.state == "closed" else None
        return 200, self._issue_json(repo, item)

    def list_comments(self, repo: Repo, q: dict[str, str], b: Any, number: str
                      ) -> tuple[int, Any, dict[str, str]]:
        item = self._item(repo, number)
        return self._page(f"/repos/{repo.full_name}/issues/{number}/comments", q,
                          [self._comment_json(repo, item.number, c) for c in item.comments])

    def create_comment(self, repo: Repo, q: dict[str, str], body: Any, number: str) -> tuple[int, Any]:
        item = self._item(repo, number)
        comment = {"id": self._next_id(), "body": body.get("body", ""), "user": self.login,
                   "created_at": self._now()}
        item.comments.append(comment)
        return 201, self._comment_json(repo, item.number, comment)

    def add_labels(self, repo: Repo, q: dict[str, str], body: Any, number: str) -> tuple[int, Any]:
        item = self._item(repo, number)
        names = body.get("labels", []) if isinstance(body, dict) else body
        item.labels.extend(name for name in names if name not in item.labels)
        return 200, [self._label_json(repo, name) for name in item.labels]


ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", r"", FakeGitHub.get_repo),
    ("GET", r"/branches/(.+)", FakeGitHub.get_branch),
    ("GET", r"/contents/(.+)", FakeGitHub.get_contents),
    ("PUT", r"/contents/(.+)", FakeGitHub.put_contents),
    ("GET", r"/git/refs?/(.+)", FakeGitHub.get_ref),
    ("POST", r"/git/refs", FakeGitHub.create_ref),
    ("PATCH", r"/git/refs/(.+)", FakeGitHub.update_ref),
    ("DELETE", r"/git/refs/(.+)", FakeGitHub.delete_ref),
    ("POST", r"/git/blobs", FakeGitHub.create_blob),
    ("GET", r"/git/blobs/(\w+)", FakeGitHub.get_blob),
    ("POST", r"/git/trees", FakeGitHub.create_tree),
    ("GET", r"/git/trees/(\w+)", FakeGitHub.get_tree),
    ("POST", r"/git/commits", FakeGitHub.create_commit),
    ("GET", r"/git/commits/(\w+)", FakeGitHub.get_commit),
    ("GET", r"/pulls", FakeGitHub.list_pulls),
    ("POST", r"/pulls", FakeGitHub.create_pull),
    ("GET", r"/pulls/(\d+)", FakeGitHub.get_pull),
    ("PATCH", r"/pulls/(\d+)", FakeGitHub.edit_pull),
    ("GET", r"/issues", FakeGitHub.list_issues),
    ("POST", r"/issues", FakeGitHub.create_issue),
    ("GET", r"/issues/(\d+)", FakeGitHub.get_issue),
    ("PATCH", r"/issues/(\d+)", FakeGitHub.edit_issue),
    ("GET", r"/issues/(\d+)/comments", FakeGitHub.list_comments),
    ("POST", r"/issues/(\d+)/comments", FakeGitHub.create_comment),
    ("POST", r"/issues/(\d+)/labels", FakeGitHub.add_labels),
]


def _make_handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class GitHubHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed ACKs

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload, extra = fake.handle(self.command, self.path, headers, body)
            if status == 0:  # simulate a dropped connection
                self.close_connection = True
                return
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

    return GitHubHandler


@pytest.fixture
def github_server() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub with repo ``octo/papers`` (branch ``main``, a small README)."""
    server = FakeGitHub().start()
    try:
        yield server
    finally:
        server.stop()
