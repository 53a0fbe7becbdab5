"""Checks of the effective settings: every value in range, every URL safe, every branch distinct.

Called by ``bot.core.config.load_settings`` once the defaults, the settings file, the environment and
the flags are merged. A bad value raises ``ConfigError`` naming the key and why, before any work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.errors import ConfigError, ListError
from bot.core.labels import SECTION_LABELS
from bot.core.template import check_template

if TYPE_CHECKING:
    from bot.core.config import GitHubSettings, JudgeSettings, Settings

MAX_DAYS = 36500.0


def _check_api_url(key: str, url: str, credentials_why: str) -> None:
    """An API root must be an http(s) URL without a user or password in it (never echoed: a secret)."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError(key, f"expected an http(s) URL, got {url!r}")
    if "@" in url.partition("://")[2].split("/", 1)[0]:
        raise ConfigError(key, credentials_why)


def validate(s: Settings) -> None:
    """Raise ``ConfigError`` for the first value out of bounds."""
    a = s.arxiv
    if a.delay_seconds < 0:
        raise ConfigError("arxiv.delay_seconds", "must be zero or more")
    if not 1 <= a.page_size <= 2000:
        raise ConfigError("arxiv.page_size", "arXiv serves 1 to 2000 results a page")
    for key in ("connect_timeout_seconds", "read_timeout_seconds", "retry_budget_seconds",
                "backoff_base_seconds", "backoff_max_seconds"):
        if getattr(a, key) <= 0:
            raise ConfigError(f"arxiv.{key}", "must be more than zero")
    if a.max_retries < 0:
        raise ConfigError("arxiv.max_retries", "must be zero or more")
    if a.overlap_days < 0 or a.first_run_days <= 0:
        raise ConfigError("arxiv.overlap_days" if a.overlap_days < 0 else "arxiv.first_run_days",
                          "must be a positive number of days")
    for key in ("overlap_days", "first_run_days"):
        if getattr(a, key) > MAX_DAYS:
            raise ConfigError(f"arxiv.{key}", f"at most {MAX_DAYS} days (arXiv opened in 1991)")
    if not a.categories:
        raise ConfigError("arxiv.categories", "name at least one arXiv category")
    if not a.query.strip():
        raise ConfigError("arxiv.query", "must not be empty")
    _check_api_url("arxiv.api_url", a.api_url, "must not carry a user or password (arXiv's API is public)")
    c = s.classifier
    if not 0.0 <= c.review_low <= c.review_high <= 1.0:
        raise ConfigError("classifier.review_low", "needs 0 <= review_low <= review_high <= 1")
    if not 0.0 <= c.uncertain_section_below <= 1.0:
        raise ConfigError("classifier.uncertain_section_below", "must be between 0 and 1")
    model = c.embedding_model
    if model != "all-MiniLM-L6-v2" and not (model.startswith("hashing-") and model[8:].isdigit()):
        raise ConfigError("classifier.embedding_model", "expected all-MiniLM-L6-v2 or hashing-N")
    unknown = set(s.list.sections) - {label.value for label in SECTION_LABELS}
    if unknown:
        raise ConfigError("list.sections", f"unknown label(s) {sorted(unknown)}; use "
                          + ", ".join(label.value for label in SECTION_LABELS))
    if s.list.entry_template is not None:
        try:
            check_template(s.list.entry_template)
        except ListError as exc:
            why = str(exc).removeprefix("list.entry_template").lstrip(": ")
            raise ConfigError("list.entry_template", why) from None
    if not 0 < s.list.title_match_threshold <= 100:
        raise ConfigError("list.title_match_threshold", "expected a score between 0 and 100")
    if s.github.repository is not None and s.github.repository.count("/") != 1:
        raise ConfigError("GITHUB_REPOSITORY", f"expected OWNER/NAME, got {s.github.repository!r}")
    _validate_github(s.github)
    _validate_judge(s.judge)
    if not s.database_url or "://" not in s.database_url:
        raise ConfigError("database_url", "expected a SQLAlchemy URL such as sqlite:///paperbot.db")
    if s.max_new_papers <= 0:
        raise ConfigError("max_new_papers", "must be more than zero")
    if len(s.schedule_cron.split()) != 5:  # fully checked by `paperbot schedule` (APScheduler)
        raise ConfigError("schedule_cron", f"expected five cron fields, got {s.schedule_cron!r}")


def _validate_github(g: GitHubSettings) -> None:
    _check_api_url("GITHUB_API_URL", g.api_url,
                   "must not carry a user or token; the token goes in GITHUB_TOKEN")
    for key in ("branch", "state_branch", "pr_title"):
        if not getattr(g, key).strip():
            raise ConfigError(f"github.{key}", "must not be empty")
    # paperbot force-moves and deletes its PR branch and replaces its state branch wholesale: neither may
    # be the list's own branch, nor each other (the repository's default branch is checked at publish time).
    if g.branch == g.state_branch:
        raise ConfigError("github.state_branch", f"must differ from github.branch ({g.branch!r})")
    if g.base is not None and g.base in (g.branch, g.state_branch):
        key = "github.branch" if g.base == g.branch else "github.state_branch"
        raise ConfigError(key, f"must differ from github.base ({g.base!r}): paperbot force-moves it")
    for key in ("timeout_seconds", "retry_budget_seconds"):
        if getattr(g, key) <= 0:
            raise ConfigError(f"github.{key}", "must be more than zero")
    for key in ("seconds_between_requests", "seconds_between_writes", "backoff_seconds"):
        if getattr(g, key) < 0:
            raise ConfigError(f"github.{key}", "must be zero or more")
    if g.max_retries < 0:
        raise ConfigError("github.max_retries", "must be zero or more")


def _validate_judge(j: JudgeSettings) -> None:
    if j.url is not None:
        _check_api_url("PAPERBOT_LLM_URL", j.url,
                       "must not carry a user or token; the token goes in PAPERBOT_LLM_TOKEN")
    if not j.model.strip():
        raise ConfigError("judge.model", "must not be empty")
    if not 0.0 <= j.band_low <= j.band_high <= 1.0:
        raise ConfigError("judge.band_low", "needs 0 <= band_low <= band_high <= 1")
    if not 0.0 <= j.label_below <= 1.0:
        raise ConfigError("judge.label_below", "must be between 0 and 1")
    if not 0.0 <= j.section_share_below <= 1.0:
        raise ConfigError("judge.section_share_below", "must be between 0 and 1")
    if not 0.0 <= j.max_share_per_run <= 1.0:
        raise ConfigError("judge.max_share_per_run", "must be between 0 and 1")
    if j.max_papers_per_run < 0:
        raise ConfigError("judge.max_papers_per_run", "must be zero or more")
    for key in ("timeout_seconds", "retry_budget_seconds"):
        if getattr(j, key) <= 0:
            raise ConfigError(f"judge.{key}", "must be more than zero")
    if j.seconds_between_requests < 0:
        raise ConfigError("judge.seconds_between_requests", "must be zero or more")
    if j.max_retries < 0:
        raise ConfigError("judge.max_retries", "must be zero or more")
