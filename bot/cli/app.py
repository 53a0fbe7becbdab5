"""The ``paperbot`` command line: one click group, a verb per pipeline stage, JSON or tables out.

Start-up stays light (no torch, no scikit-learn, no SQLAlchemy at import): every command imports what it
needs inside its body. A ``BotError`` anywhere becomes one line on stderr and exit 1; so does any other
error, named as unexpected (``-vv`` logs its traceback).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from bot import __version__
from bot.core.errors import BotError
from bot.core.secrets import SecretFilter, mask

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.core.config import Settings
    from bot.github.pulls import Publisher

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
MAX_DETAIL_CHARS = 300  # of an unforeseen error's message, on its one line


@dataclass
class App:
    """What every command gets: the flags of the group, settings and engine loaded on first use."""

    config_path: str | None = None
    database_url: str | None = None
    verbose: int = 0
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from bot.core.config import load_settings

            self._settings = load_settings(self.config_path,
                                           overrides={"database_url": self.database_url})
            self._install_log_filter()
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from db.session import open_database

            self._engine = open_database(self.settings.database_url)
        return self._engine

    def publisher(self, repository: str | None = None) -> Publisher:
        """The GitHub side for this run's settings (``repository`` overrides GITHUB_REPOSITORY).

        Only ``bot.github`` is imported: ``db pull``/``push`` and ``health`` must run without the pipeline's
        dependencies (the health action installs paperbot without them).
        """
        from bot.github.pulls import open_publisher

        return open_publisher(self.settings.github, repository)

    def secrets(self) -> list[str]:
        if self._settings is None:
            return []
        return [t for t in (self._settings.github.token, self._settings.judge.token) if t]

    def _install_log_filter(self) -> None:
        secret_filter = SecretFilter(self.secrets())
        for handler in logging.getLogger().handlers:
            handler.addFilter(secret_filter)


class BotGroup(click.Group):
    """Turns failures into one clear line (never a traceback, never a secret).

    An expected failure (``BotError``) says what went wrong and how to fix it. Anything else is a failure
    nobody foresaw: it still gets one line, naming the error, and ``-vv`` logs the traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        app = ctx.find_object(App)
        try:
            return super().invoke(ctx)
        except BotError as exc:  # one line, even when a driver's message (psycopg's) has several
            message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
            raise click.ClickException(mask(message, app.secrets() if app else [])) from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted; nothing half-written was kept") from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except UnicodeEncodeError as exc:
            if "surrogates not allowed" not in str(exc):
                raise click.ClickException(f"cannot encode text: {exc}") from None
            raise click.ClickException("an argument or a file name is not valid UTF-8 text") from None
        except Exception as exc:
            logging.getLogger("paperbot").debug("unexpected failure", exc_info=True)
            detail = " ".join(str(exc).split())[:MAX_DETAIL_CHARS]
            message = f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "")
            raise click.ClickException(mask(message, app.secrets() if app else [])
                                       + " (run with -vv for the traceback)") from None


@click.group(cls=BotGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="paperbot")
@click.option("--config", "config_path", metavar="PATH",
              help="Settings file (default: ./paperbot.toml if present).")
@click.option("--db", "database_url", metavar="URL", envvar=None,
              help="Database URL; overrides PAPERBOT_DB_URL and the settings file.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, database_url: str | None, verbose: int) -> None:
    """Keep an awesome list of papers current: fetch arXiv, classify, propose one pull request.

    \b
    Example:
        paperbot run                  # dry run: fetch, classify, write the proposed README
        paperbot search "token merging" --label pruning
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = App(config_path=config_path, database_url=database_url, verbose=verbose)


pass_app = click.make_pass_decorator(App)


def _register() -> None:
    from bot.cli import classifier, db, judge, ops, run, stages

    if "run" in cli.commands:
        return
    for module in (db, stages, classifier, judge, run, ops):
        for command in module.COMMANDS:
            cli.add_command(command)
    from bot.cli import query, report

    for module in (query, report):
        for command in module.COMMANDS:
            cli.add_command(command)


def main() -> None:
    _register()
    cli(prog_name="paperbot")
