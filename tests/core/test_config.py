from pathlib import Path

import pytest

from bot.core.config import DEFAULT_CATEGORIES, DEFAULT_USER_AGENT, Settings, load_settings
from bot.core.errors import ConfigError


def test_defaults_serve_the_efficient_diffusion_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.database_url == "sqlite:///paperbot.db"
    assert {"cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV"} <= set(settings.arxiv.categories)
    assert settings.arxiv.delay_seconds >= 3.0
    # efficiency terms are searched in abstracts, not only titles
    assert "abs:quantization" in settings.arxiv.query and "ti:quantization" in settings.arxiv.query
    assert settings.source == "defaults"


def test_file_environment_and_flags_layer_in_order(tmp_path: Path) -> None:
    path = tmp_path / "paperbot.toml"
    path.write_text('database_url = "sqlite:///from-file.db"\n[arxiv]\npage_size = 50\n'
                    'categories = ["cs.CV"]\n[list.sections]\npruning = "Sparsity"\n')
    settings = load_settings(path, env={"PAPERBOT_ARXIV_API_URL": "http://127.0.0.1:9/api/query"})
    assert settings.database_url == "sqlite:///from-file.db"
    assert settings.arxiv.page_size == 50 and settings.arxiv.categories == ("cs.CV",)
    assert settings.arxiv.api_url == "http://127.0.0.1:9/api/query"
    assert settings.list.sections == {"pruning": "Sparsity"}
    env = {"PAPERBOT_DB_URL": "sqlite:///from-env.db"}
    assert load_settings(path, env=env).database_url == "sqlite:///from-env.db"
    flagged = load_settings(path, env=env, overrides={"database_url": "sqlite:///flag.db"})
    assert flagged.database_url == "sqlite:///flag.db"


@pytest.mark.parametrize(("text", "key"), [
    ("[arxiv]\ndelay_seconds = 'fast'\n", "arxiv.delay_seconds"),
    ("[arxiv]\npage_size = 5000\n", "arxiv.page_size"),
    ("[arxiv]\nread_timeout_seconds = 0\n", "arxiv.read_timeout_seconds"),
    ("[arxiv]\ncategories = []\n", "arxiv.categories"),
    ("[arxiv]\nbogus = 1\n", "arxiv.bogus"),
    ("[list.sections]\nsurveys = 'Surveys'\n", "list.sections"),
    ("[github]\ntoken = 'ghp_secret'\n", "github.token"),
    ("schedule_cron = 'every day'\n", "schedule_cron"),
    ("nonsense = true\n", "nonsense"),
    ("[classifier]\nreview_low = 0.9\nreview_high = 0.1\n", "classifier.review_low"),
    ("[classifier]\nuncertain_section_below = 1.5\n", "classifier.uncertain_section_below"),
    ("[arxiv]\nread_timeout_seconds = inf\n", "arxiv.read_timeout_seconds"),
    ("[arxiv]\ndelay_seconds = nan\n", "arxiv.delay_seconds"),
    ("[arxiv]\nfirst_run_days = 1e12\n", "arxiv.first_run_days"),
    ("[github]\ntimeout_seconds = inf\n", "github.timeout_seconds"),
    ("[github]\ntimeout_seconds = 0\n", "github.timeout_seconds"),
    ("[github]\nmax_retries = -1\n", "github.max_retries"),
    ("[github]\nbranch = ' '\n", "github.branch"),
    ("[github]\nstate_branch = 'paperbot/new-papers'\n", "github.state_branch"),
    ("[github]\nbase = 'main'\nstate_branch = 'main'\n", "github.state_branch"),
    ("[github]\nbase = 'main'\nbranch = 'main'\n", "github.branch"),
    ("[list]\nentry_template = '- {title!r}'\n", "list.entry_template"),
    ("[list]\nentry_template = '- {title:>99999999999}'\n", "list.entry_template"),
    ("[list]\nentry_template = '- {title.upper}'\n", "list.entry_template"),
])
def test_a_bad_value_names_its_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "paperbot.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert caught.value.key == key
    assert str(caught.value).startswith(f"config: {key}: ")


def test_broken_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "paperbot.toml"
    path.write_text("[arxiv\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, env={})
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "missing.toml", env={})


def test_a_folder_named_as_the_settings_file_is_an_error(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "paperbot.toml").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings(env={})


@pytest.mark.parametrize("variable", ["GITHUB_API_URL", "PAPERBOT_ARXIV_API_URL"])
def test_credentials_in_an_api_url_are_refused_without_echoing_them(variable: str) -> None:
    for url in ("https://x-access-token:ghp_URLTOKEN999@ghe.example/api/v3", "https://ghp_URLTOKEN999@ghe.example/"):
        with pytest.raises(ConfigError) as caught:
            load_settings(env={variable: url})
        assert "ghp_URLTOKEN999" not in str(caught.value)
        assert "must not carry a user" in str(caught.value)


def test_a_password_in_a_database_url_query_is_masked() -> None:
    settings = load_settings(env={"PAPERBOT_DB_URL": "postgresql://db/papers?user=bot&password=hunter2&sslmode=require"})
    assert settings.masked()["database_url"] == "postgresql://db/papers?user=bot&password=***&sslmode=require"


def test_secrets_are_masked() -> None:
    settings = load_settings(Path("/nonexistent-dir-for-test/none.toml") if False else None,
                             env={"GITHUB_TOKEN": "ghp_abcdef123456", "GITHUB_REPOSITORY": "o/r",
                                  "PAPERBOT_DB_URL": "postgresql://bot:hunter2@db/papers"})
    masked = settings.masked()
    assert masked["github"]["token"] == "***"
    assert "hunter2" not in str(masked) and "ghp_abcdef123456" not in str(masked)
    assert masked["database_url"] == "postgresql://bot:***@db/papers"
    assert Settings().masked()["github"]["token"] is None


def test_github_repository_must_be_owner_slash_name() -> None:
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY"):
        load_settings(env={"GITHUB_REPOSITORY": "just-a-name"})


def test_default_categories_are_the_documented_ones() -> None:
    assert DEFAULT_CATEGORIES == ("cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV")


def test_the_user_agent_names_the_lists_repository_unless_set(tmp_path: Path) -> None:
    assert load_settings(env={}).arxiv.user_agent == DEFAULT_USER_AGENT
    actions = load_settings(env={"GITHUB_REPOSITORY": "octo/papers"}).arxiv.user_agent
    assert actions == "paperbot/0.1 (+https://github.com/octo/papers; awesome-list maintenance bot)"
    enterprise = load_settings(env={"GITHUB_REPOSITORY": "octo/papers",
                                    "GITHUB_API_URL": "https://ghe.example.com/api/v3"}).arxiv.user_agent
    assert "https://ghe.example.com/api/v3 octo/papers" in enterprise
    path = tmp_path / "paperbot.toml"
    path.write_text('[arxiv]\nuser_agent = "list-bot/2 (mailto:maintainer@example.org)"\n')
    own = load_settings(path, env={"GITHUB_REPOSITORY": "octo/papers"}).arxiv.user_agent
    assert own == "list-bot/2 (mailto:maintainer@example.org)"
