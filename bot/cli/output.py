"""How commands print rows: a table on a terminal (colour only on a TTY), JSON, CSV or newline-JSON.

Field names are stable: the keys of the row dicts. Nothing here reads the database or the network.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

import click

FORMATS = ("table", "json", "csv", "nl")


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--table`` (default on a terminal), ``--json`` (default in a pipe), ``--csv``, ``--nl``."""
    for flag, name, help_text in reversed([
        ("--table", "table", "A table (the default on a terminal)."),
        ("--json", "json", "A JSON array (the default in a pipe)."),
        ("--csv", "csv", "CSV with a header row."),
        ("--nl", "nl", "One JSON object per line."),
    ]):
        func = click.option(flag, "fmt", flag_value=name, help=help_text)(func)
    return func


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def resolve_format(fmt: str | None, stream: TextIO | None = None) -> str:
    if fmt:
        return fmt
    stream = stream or sys.stdout
    return "table" if stream.isatty() else "json"


def _cell(value: Any, *, table: bool = False) -> str:
    """One value as text; floats are rounded only for people (tables), never in CSV."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and table:
        return f"{value:.2f}"
    if isinstance(value, datetime) and table:
        return value.strftime("%Y-%m-%d %H:%M")
    return str(_plain(value))


def render_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None,
                *, color: bool = False, title: str | None = None) -> str:
    """Rows as text in ``fmt``. An empty result is an empty table, ``[]``, a header, or nothing."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        return json.dumps([{k: _plain(r.get(k)) for k in columns} for r in rows], indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "nl":
        return "".join(json.dumps({k: _plain(r.get(k)) for k in columns}, ensure_ascii=False) + "\n"
                       for r in rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(k)) for k in columns])
        return buffer.getvalue()
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold" if color else None, box=None,
                  pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:  # rich would read "[label]" as markup: escape every cell
        table.add_row(*(escape(_cell(row.get(k), table=True)) for k in columns))
    buffer = io.StringIO()
    width = 160 if not color else None
    Console(file=buffer, force_terminal=color, no_color=not color, width=width,
            highlight=False).print(table)
    return buffer.getvalue()


def emit(rows: Sequence[dict[str, Any]], fmt: str | None, columns: Sequence[str] | None = None,
         *, title: str | None = None) -> None:
    chosen = resolve_format(fmt)
    color = chosen == "table" and sys.stdout.isatty()
    click.echo(render_rows(rows, chosen, columns, color=color, title=title), nl=False)
