"""The ``[judge]`` settings: off without a URL, the token from the environment only, checked like the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import DEFAULT_JUDGE_MODEL, load_settings
from bot.core.errors import ConfigError


def test_the_judge_is_off_without_a_url() -> None:
    judge = load_settings(env={"GITHUB_TOKEN": "ghp_x"}).judge
    assert not judge.enabled and judge.url is None and judge.model == DEFAULT_JUDGE_MODEL


def test_the_environment_turns_it_on_and_its_token_falls_back_to_the_github_token() -> None:
    judge = load_settings(env={"PAPERBOT_LLM_URL": "https://models.github.ai/inference/",
                               "PAPERBOT_LLM_MODEL": "openai/gpt-4.1", "GITHUB_TOKEN": "ghp_x"}).judge
    assert judge.enabled and judge.url == "https://models.github.ai/inference"
    assert judge.model == "openai/gpt-4.1" and judge.token == "ghp_x"
    own = load_settings(env={"PAPERBOT_LLM_URL": "http://127.0.0.1:8080/v1", "PAPERBOT_LLM_TOKEN": "sk-own",
                             "GITHUB_TOKEN": "ghp_x"}).judge
    assert own.token == "sk-own"


def test_the_judge_token_is_masked_and_never_in_the_repr() -> None:
    settings = load_settings(env={"PAPERBOT_LLM_URL": "http://127.0.0.1:8080/v1",
                                  "PAPERBOT_LLM_TOKEN": "sk-SECRET123"})
    assert settings.masked()["judge"]["token"] == "***"
    assert "sk-SECRET123" not in str(settings.masked()) and "sk-SECRET123" not in repr(settings)


def test_the_file_sets_the_band_but_never_the_token(tmp_path: Path) -> None:
    path = tmp_path / "paperbot.toml"
    path.write_text('[judge]\nurl = "http://127.0.0.1:8080/v1"\nband_low = 0.3\nmax_papers_per_run = 5\n')
    judge = load_settings(path, env={}).judge
    assert (judge.url, judge.band_low, judge.max_papers_per_run) == ("http://127.0.0.1:8080/v1", 0.3, 5)
    path.write_text('[judge]\ntoken = "sk-x"\n')
    with pytest.raises(ConfigError, match="judge.token: set it in the environment"):
        load_settings(path, env={})


@pytest.mark.parametrize(("table", "key"), [
    ("band_low = 0.9\nband_high = 0.1", "judge.band_low"),
    ("max_papers_per_run = -1", "judge.max_papers_per_run"),
    ("label_below = 1.5", "judge.label_below"),
    ("section_share_below = -0.1", "judge.section_share_below"),
    ("max_share_per_run = 1.5", "judge.max_share_per_run"),
    ("timeout_seconds = 0", "judge.timeout_seconds"),
    ("retry_budget_seconds = 0", "judge.retry_budget_seconds"),
    ("max_retries = -1", "judge.max_retries"),
    ("seconds_between_requests = -1.0", "judge.seconds_between_requests"),
    ('model = " "', "judge.model"),
    ('url = "ftp://x"', "PAPERBOT_LLM_URL"),
])
def test_bad_values_are_one_line_errors(tmp_path: Path, table: str, key: str) -> None:
    path = tmp_path / "paperbot.toml"
    path.write_text(f"[judge]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert str(caught.value).startswith(f"config: {key}:") and "\n" not in str(caught.value)


def test_a_token_in_the_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"PAPERBOT_LLM_URL": "https://user:sk-URL999@llm.example/v1"})
    assert "sk-URL999" not in str(caught.value) and "must not carry a user" in str(caught.value)
