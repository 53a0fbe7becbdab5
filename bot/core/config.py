"""Settings: built once at the CLI edge from ``paperbot.toml``, the environment and flags.

This is the only module that reads ``os.environ``. Everything else receives a frozen ``Settings`` (or one
of its parts) explicitly. A bad value raises ``ConfigError`` naming the key and why, before any work.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.errors import ConfigError
from bot.core.labels import Label
from bot.core.secrets import MASK, mask_url
from bot.core.states import ListOrder
from bot.core.validate import validate

CONFIG_FILE = "paperbot.toml"

# arXiv asks for "no more than one request every three seconds" over one connection:
# https://info.arxiv.org/help/api/tou.html
ARXIV_MIN_DELAY_SECONDS = 3.0
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_GITHUB_API_URL = "https://api.github.com"

DEFAULT_CATEGORIES = ("cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV")

# The list is about diffusion-family models made cheaper. Papers say so in the abstract far more often than
# in the title (about one relevant paper in six names the efficiency only in its abstract), so every term is
# searched in the abstract as well as the title: the query is `(family) AND (efficiency)`.
DEFAULT_FAMILY_TERMS = (
    "diffusion", "denoising", "score-based", "flow matching", "rectified flow", "consistency model",
    "consistency models", "DiT", "DiTs", "latent diffusion", "stable diffusion", "text-to-image",
    "text-to-video", "video generation", "image generation",
)
DEFAULT_EFFICIENCY_TERMS = (
    "distillation", "distill", "distilled", "few-step", "one-step", "single-step", "step", "steps",
    "quantization", "quantized", "low-bit", "binarization", "pruning", "pruned", "sparse", "sparsity",
    "cache", "caching", "token merging", "efficient", "efficiency", "accelerate", "accelerating",
    "acceleration", "speedup", "speed-up", "faster", "fast", "latency", "inference", "sampling",
    "sampler", "solver", "compression", "lightweight", "real-time", "parallel", "memory", "mobile",
)


def build_query(family_terms: tuple[str, ...], efficiency_terms: tuple[str, ...]) -> str:
    """An arXiv ``search_query`` matching the two term groups in titles or abstracts."""

    def group(terms: tuple[str, ...]) -> str:
        parts = []
        for term in terms:
            quoted = f'"{term}"' if (" " in term or "-" in term) else term
            parts.append(f"ti:{quoted} OR abs:{quoted}")
        return "(" + " OR ".join(parts) + ")"

    return f"{group(family_terms)} AND {group(efficiency_terms)}"


DEFAULT_QUERY = build_query(DEFAULT_FAMILY_TERMS, DEFAULT_EFFICIENCY_TERMS)

DEFAULT_SECTIONS = {
    Label.DISTILLATION.value: "Knowledge Distillation for Diffusion Models",
    Label.PRUNING.value: "Pruning and Sparsity for Diffusion Models",
    Label.QUANTIZATION.value: "Quantization for Diffusion Models",
    Label.OTHER.value: "Other",
}


USER_AGENT = "paperbot/0.1 (+{home}; awesome-list maintenance bot)"
DEFAULT_USER_AGENT = USER_AGENT.format(home="https://github.com/paperbot")


@dataclass(frozen=True)
class ArxivSettings:
    api_url: str = DEFAULT_ARXIV_API_URL
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    query: str = DEFAULT_QUERY
    overlap_days: float = 3.0
    first_run_days: float = 7.0
    page_size: int = 200
    delay_seconds: float = ARXIV_MIN_DELAY_SECONDS
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    max_retries: int = 5
    retry_budget_seconds: float = 900.0
    backoff_base_seconds: float = 5.0
    backoff_max_seconds: float = 300.0
    # Unset: "paperbot/0.1 (+https://github.com/OWNER/NAME; awesome-list maintenance bot)", naming the
    # list's repository (GITHUB_REPOSITORY) so arXiv can tell whose bot is calling.
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True)
class ClassifierSettings:
    review_low: float = 0.35
    review_high: float = 0.65
    # A filed paper whose section holds less than this share of its relevance probability is marked
    # "section uncertain" in the pull request, with the runner-up section named (0 turns the mark off).
    uncertain_section_below: float = 0.6
    seed: int = 0
    # "all-MiniLM-L6-v2" (the real model), or "hashing-N": a model-free embedder for demos and plumbing
    # tests, useless for real classification.
    embedding_model: str = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class ListSettings:
    path: str = "README.md"
    sections: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SECTIONS))
    entry_template: str | None = None
    order: ListOrder = ListOrder.NEWEST_FIRST
    title_match_threshold: float = 92.0


@dataclass(frozen=True)
class GitHubSettings:
    token: str | None = field(default=None, repr=False)  # a secret: never printed
    repository: str | None = None
    api_url: str = DEFAULT_GITHUB_API_URL
    branch: str = "paperbot/new-papers"
    base: str | None = None
    labels: tuple[str, ...] = ("paperbot",)
    pr_title: str = "paperbot: new papers for the list"
    state_branch: str = "paperbot/state"
    # The bot's own login, for a GitHub App installation token ("my-app[bot]"), which cannot read /user;
    # unset, it is read from /user, or is github-actions[bot] for the Actions GITHUB_TOKEN.
    bot_login: str | None = None
    timeout_seconds: float = 15.0
    max_retries: int = 3
    retry_budget_seconds: float = 120.0
    # GitHub asks integrations to pace requests and wait at least a second between writes:
    # https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    backoff_seconds: float = 2.0


DEFAULT_JUDGE_MODEL = "openai/gpt-4.1-mini"  # a GitHub Models id; any name the endpoint serves


@dataclass(frozen=True)
class JudgeSettings:
    """The optional LLM judge: asked about the papers the local model is least sure of. Off without a URL."""

    url: str | None = None  # base URL of an OpenAI-compatible API: {url}/chat/completions
    model: str = DEFAULT_JUDGE_MODEL
    token: str | None = field(default=None, repr=False)  # a secret: never printed
    # asked about, least sure first (classifier.hybrid.asking_order): papers whose P(relevant) =
    # 1 - P(irrelevant) lies in [band_low, band_high] (default: the needs-review band), and papers of whose
    # label the model is less sure than label_below (the least probability its views give the label): a
    # toss-up about relevance or between sections
    band_low: float = 0.35
    band_high: float = 0.65
    label_below: float = 0.62
    # also asked about: filed papers whose section holds less than this share of their P(relevant) (0: off)
    section_share_below: float = 0.0
    # at most this many a run, and at most this share of the papers the run puts to the rule (rounded up;
    # 1: no share cap): the cost follows the feed, and the judge reads the least sure 15% at most
    max_papers_per_run: int = 30
    max_share_per_run: float = 0.15
    timeout_seconds: float = 60.0
    max_retries: int = 2
    retry_budget_seconds: float = 180.0
    # GitHub Models' free tier allows about 15 requests a minute for the small models
    seconds_between_requests: float = 4.0

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def describe_rule(self) -> str:
        """The asking rule in words, for the figures of ``--judge-answers``."""
        rule = f"with P(relevant) in {self.band_low:.2f}-{self.band_high:.2f}"
        if self.label_below > 0:
            rule += f" or a label under {self.label_below:.2f}"
        if self.section_share_below > 0:
            rule += f" or a section under {self.section_share_below:.0%} of P(relevant)"
        return rule

    def describe_cap(self, per: str = "a set") -> str:
        """The per-run caps in words, applied ``per`` set (a run, a scored set, a month)."""
        share = f" and {self.max_share_per_run:.0%}" if self.max_share_per_run < 1 else ""
        return f"at most {self.max_papers_per_run}{share} {per}"


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///paperbot.db"
    out_dir: str = "paperbot-out"
    schedule_cron: str = "37 6 * * *"
    max_new_papers: int = 200
    # the folder for vector indexes that cannot sit next to a SQLite file (db/vectors.py); "" = the user's
    # cache ($XDG_CACHE_HOME/paperbot/vectors, else ~/.cache/paperbot/vectors)
    vector_cache: str = ""
    arxiv: ArxivSettings = field(default_factory=ArxivSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    list: ListSettings = field(default_factory=ListSettings)
    github: GitHubSettings = field(default_factory=GitHubSettings)
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    source: str = "defaults"
    step_summary: str | None = None  # $GITHUB_STEP_SUMMARY on Actions: counts and the PR link go there

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets masked."""
        data = asdict(self)
        if data["github"]["token"]:
            data["github"]["token"] = MASK
        if data["judge"]["token"]:
            data["judge"]["token"] = MASK
        data["database_url"] = mask_url(data["database_url"])
        return data


_SECTIONS = {"arxiv": ArxivSettings, "classifier": ClassifierSettings, "list": ListSettings,
             "github": GitHubSettings, "judge": JudgeSettings}
_TOP_LEVEL = {"database_url", "out_dir", "schedule_cron", "max_new_papers", "vector_cache"}
# Never read from the file: they come from the environment GitHub Actions sets.
_ENV_ONLY = {("github", "token"), ("judge", "token")}


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Check one value against the type of its default; return it in the dataclass's type."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected a whole number, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(key, f"expected a finite number, got {value!r}")
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(key, f"expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, Mapping):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(key, f"expected a table of strings, got {value!r}")
        return dict(value)
    if isinstance(default, StrEnum):
        try:
            return type(default)(value)
        except ValueError:
            raise ConfigError(key, "expected " + " or ".join(type(default)) + f", got {value!r}") from None
    if default is None or isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return value
    raise ConfigError(key, "unsupported setting")  # pragma: no cover - a programming error


def _apply(obj: Any, table: Mapping[str, Any], prefix: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if key not in known or (prefix.rstrip("."), key) in _ENV_ONLY:
            why = "set it in the environment, not in the file" if key in known else "unknown setting"
            raise ConfigError(name, why)
        changes[key] = _coerce(name, value, getattr(obj, key))
    return replace(obj, **changes)


def load_settings(config_path: str | Path | None = None, *, env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the effective settings: defaults < paperbot.toml < environment < flags.

    ``config_path`` None means ``./paperbot.toml`` if it exists. ``overrides`` are top-level keys from
    command-line flags (``database_url``, ``out_dir``).
    """
    environ = os.environ if env is None else env
    settings = Settings()
    path = Path(config_path) if config_path is not None else Path(CONFIG_FILE)
    if config_path is not None and not path.exists():
        raise ConfigError("--config", f"no such file: {path}")
    if path.exists() and path.is_dir():
        raise ConfigError(str(path), "is a folder, not a settings file")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), f"not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(str(path), f"cannot read it: {exc.strerror or exc}") from None
        top: dict[str, Any] = {}
        for key, value in data.items():
            if key in _SECTIONS:
                if not isinstance(value, dict):
                    raise ConfigError(key, "expected a table")
                settings = replace(settings, **{key: _apply(getattr(settings, key), value, f"{key}.")})
            elif key in _TOP_LEVEL:
                top[key] = _coerce(key, value, getattr(settings, key))
            else:
                raise ConfigError(key, "unknown setting")
        settings = replace(settings, source=str(path), **top)

    if environ.get("PAPERBOT_DB_URL"):
        settings = replace(settings, database_url=environ["PAPERBOT_DB_URL"])
    cache = environ.get("PAPERBOT_VECTOR_CACHE") or settings.vector_cache or str(
        Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperbot" / "vectors")
    settings = replace(settings, vector_cache=cache)
    if environ.get("PAPERBOT_LIST_PATH"):  # the action's `list` input
        settings = replace(settings, list=replace(settings.list, path=environ["PAPERBOT_LIST_PATH"]))
    if environ.get("PAPERBOT_ARXIV_API_URL"):
        settings = replace(settings, arxiv=replace(settings.arxiv, api_url=environ["PAPERBOT_ARXIV_API_URL"]))
    github = settings.github
    github = replace(
        github,
        token=environ.get("GITHUB_TOKEN") or None,
        repository=environ.get("GITHUB_REPOSITORY") or github.repository,
        api_url=(environ.get("GITHUB_API_URL") or github.api_url).rstrip("/"),
    )
    judge = settings.judge
    judge = replace(
        judge,
        url=(environ.get("PAPERBOT_LLM_URL") or judge.url or "").rstrip("/") or None,
        model=environ.get("PAPERBOT_LLM_MODEL") or judge.model,
        token=environ.get("PAPERBOT_LLM_TOKEN") or environ.get("GITHUB_TOKEN") or None,
    )
    settings = replace(settings, github=github, judge=judge,
                       step_summary=environ.get("GITHUB_STEP_SUMMARY") or None)
    if settings.arxiv.user_agent == DEFAULT_USER_AGENT and github.repository:
        home = (f"https://github.com/{github.repository}" if github.api_url == DEFAULT_GITHUB_API_URL
                else f"{github.api_url} {github.repository}")
        settings = replace(settings, arxiv=replace(settings.arxiv, user_agent=USER_AGENT.format(home=home)))
    if overrides:
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    validate(settings)
    return settings
