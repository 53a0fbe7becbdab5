"""The query side's shared parts: the filter options of ``search``, ``stats`` and ``export``, the read-only
connection, and printing for a terminal.

Module-level imports stay light: ``bot.cli.app`` imports the query commands on every start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from bot.cli.app import App
from bot.core.labels import LABEL_VALUES
from db.query import STATUSES, UNCLASSIFIED, Filters

if TYPE_CHECKING:
    import sqlite3


class Period(click.ParamType):
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or an ISO time, UTC. As an end it covers the whole period:
    ``--until 2026-03`` means up to the end of March."""

    name = "DATE"

    def __init__(self, *, end: bool = False) -> None:
        self.end = end

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}", text):
                start, step = datetime(int(text), 1, 1), "year"
            elif re.fullmatch(r"\d{4}-\d{2}", text):
                start, step = datetime(int(text[:4]), int(text[5:]), 1), "month"
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                start, step = datetime.fromisoformat(text), "day"
            else:
                moment = datetime.fromisoformat(text)
                return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except ValueError:
            self.fail(f"{text!r} is not a date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM)", param, ctx)
        if self.end:
            if step == "year":
                start = start.replace(year=start.year + 1)
            elif step == "month":
                start = (start + timedelta(days=32)).replace(day=1)
            else:
                start += timedelta(days=1)
        return start.replace(tzinfo=UTC)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--label``, ``--status``, ``--since``, ``--until``, ``--category``, ``--author``."""
    options = [
        click.option("--label", "labels", multiple=True, type=click.Choice([*LABEL_VALUES, UNCLASSIFIED]),
                     help="Predicted label (repeatable)."),
        click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES),
                     help="listed, proposed (open PR), rejected (by the maintainers) or seen (repeatable)."),
        click.option("--since", type=Period(),
                     help="Published on or after DATE (YYYY, YYYY-MM, YYYY-MM-DD)."),
        click.option("--until", type=Period(end=True), help="Published up to the end of DATE."),
        click.option("--category", "categories", multiple=True, metavar="CAT",
                     help="arXiv category such as cs.CV (repeatable)."),
        click.option("--author", "authors", multiple=True, metavar="NAME",
                     help="An author's name contains NAME (repeatable; all must match)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def filters_from(options: dict[str, Any]) -> Filters:
    return Filters(labels=tuple(options.pop("labels", ())), statuses=tuple(options.pop("statuses", ())),
                   since=options.pop("since", None), until=options.pop("until", None),
                   categories=tuple(options.pop("categories", ())), authors=tuple(options.pop("authors", ())))


@contextmanager
def read_connection(app: App) -> Iterator[sqlite3.Connection]:
    from db.query import connect

    with closing(connect(app.settings.database_url)) as connection:
        yield connection


def note(message: str) -> None:
    click.echo(f"paperbot: {message}", err=True)


_UNPRINTABLE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: Any) -> str:
    """Text for a terminal: control characters (escape sequences) dropped."""
    return _UNPRINTABLE_RE.sub("", "" if text is None else str(text))
