"""``paperbot search``, ``show``, ``similar``, ``stats`` and ``export``: ask the paper database.

Read-only: every command opens a ``query_only`` connection (``db.query.connect``). Module-level imports
stay light because ``bot.cli`` imports this module on every start; numpy, matplotlib and the embedding
model are imported inside the commands that need them, and the model only by ``search --semantic`` or
``--hybrid``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli import App, pass_app
from bot.export import FORMATS as EXPORT_FORMATS
from bot.output import emit, output_options, render_rows, resolve_format
from classifier.labels import LABEL_VALUES
from db.query import STATUSES, UNCLASSIFIED, Filters

if TYPE_CHECKING:
    import sqlite3

    from classifier.embed import Embedder

PAPER_FIELDS = ("arxiv_id", "title", "authors", "published", "label", "probability", "status", "score", "url")
TABLE_FIELDS = ("arxiv_id", "published", "label", "probability", "status", "score", "authors", "title")
HYBRID_DEPTH = 50  # how many keyword and semantic hits the blend fuses (at least; 3 x --limit if more)


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


def _filters(options: dict[str, Any]) -> Filters:
    return Filters(labels=tuple(options.pop("labels", ())), statuses=tuple(options.pop("statuses", ())),
                   since=options.pop("since", None), until=options.pop("until", None),
                   categories=tuple(options.pop("categories", ())), authors=tuple(options.pop("authors", ())))


@contextmanager
def _connection(app: App) -> Iterator[sqlite3.Connection]:
    from db.query import connect

    with closing(connect(app.settings.database_url)) as connection:
        yield connection


def make_embedder() -> Embedder:
    """The embedder that turns a query into a vector (the real model; tests swap in a small one)."""
    import torch

    from classifier.embed import SentenceTransformerEmbedder

    # One short query gains nothing from intra-op threads, and on a busy 2-core machine two threads made
    # each query 30x slower (730 ms against 25 ms) while they waited on each other.
    torch.set_num_threads(1)
    return SentenceTransformerEmbedder()


def note(message: str) -> None:
    click.echo(f"paperbot: {message}", err=True)


_UNPRINTABLE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: Any) -> str:
    """Text for a terminal: control characters (escape sequences) dropped."""
    return _UNPRINTABLE_RE.sub("", "" if text is None else str(text))


def _short_authors(authors: list[str]) -> str:
    if not authors:
        return ""
    return authors[0] + (" et al." if len(authors) > 2 else f", {authors[1]}" if len(authors) == 2 else "")


def emit_papers(rows: list[dict[str, Any]], fmt: str | None) -> None:
    """Result rows: every field in JSON/CSV/NL; a compact table on a terminal."""
    chosen = resolve_format(fmt)
    if chosen != "table":
        emit(rows, chosen, PAPER_FIELDS)
        return
    table = [{**{k: printable(v) if isinstance(v, str) else v for k, v in row.items()},
              "authors": printable(_short_authors(row["authors"]))} for row in rows]
    emit(table, chosen, TABLE_FIELDS)
    if not rows:
        note("no papers match")


# --- search -------------------------------------------------------------------------------------------

def _query_vector(connection: sqlite3.Connection, query: str) -> tuple[Any, Any]:
    """``(index, vector)`` for a semantic query; BotError (one line) when either is unavailable."""
    from bot.errors import BotError
    from db.vectors import load_index

    embedder = make_embedder()
    index = load_index(connection, embedder.name)
    if len(index) == 0:
        raise BotError(f"no stored {embedder.name} embeddings; run `paperbot embed` first")
    try:
        vector = embedder.embed([query])[0]
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise BotError(f"the embedding model {embedder.name} is unavailable ({first_line})") from None
    return index, vector


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--semantic", is_flag=True, help="Rank by meaning (embedding similarity); loads the model.")
@click.option("--hybrid", is_flag=True,
              help="Blend keyword and semantic ranks (reciprocal-rank fusion); loads the model.")
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@output_options
@pass_app
def search_cmd(app: App, query: str, semantic: bool, hybrid: bool, limit: int, fmt: str | None,
               **options: Any) -> None:
    """Search the papers by keyword, best match first; without QUERY, list the newest.

    QUERY uses SQLite FTS5 syntax: words (all must occur), "a phrase", prefix*, OR, NOT, NEAR(a b),
    title:word. Text that is not valid syntax is searched as plain words. Titles count five times the
    abstract. --semantic and --hybrid need stored embeddings and load the embedding model (slow start).

    \b
    Example:
        paperbot search "video diffusion" quantiz* --since 2026-03 --table
        paperbot search caching --label irrelevant --nl
        paperbot search "token merging" --hybrid --limit 5
    """
    from db.query import RANK_WINDOW, QueryError, browse, clean_query, keyword_hits, rows_for

    if semantic and hybrid:
        raise click.UsageError("choose one of --semantic and --hybrid")
    filters = _filters(options)
    query = clean_query(query)
    with _connection(app) as connection:
        if not (semantic or hybrid):
            if not query:
                emit_papers(browse(connection, filters, limit), fmt)
                return
            hits = keyword_hits(connection, query, filters, limit)
            if hits.windowed:
                note(f"more than {RANK_WINDOW:,} papers match; ranked the {RANK_WINDOW:,} most recently "
                     "added (add words or filters to narrow it)")
            emit_papers(hits.rows, fmt)
            return
        if not query:
            raise QueryError(f"--{'semantic' if semantic else 'hybrid'} needs a QUERY")
        from bot.errors import BotError
        from db.vectors import fuse, semantic_search

        if semantic:
            index, vector = _query_vector(connection, query)
            rows = rows_for(connection, semantic_search(connection, index, vector, filters, limit))
            emit_papers(rows, fmt)
            return
        depth = max(HYBRID_DEPTH, 3 * limit)
        keyword = keyword_hits(connection, query, filters, depth).rows
        try:
            index, vector = _query_vector(connection, query)
        except BotError as exc:
            note(f"{exc}; keyword results only")
            emit_papers(keyword[:limit], fmt)
            return
        nearest = semantic_search(connection, index, vector, filters, depth)
        fused = fuse([[row["arxiv_id"] for row in keyword], [arxiv_id for arxiv_id, _ in nearest]], limit)
        emit_papers(rows_for(connection, fused), fmt)


# --- show ---------------------------------------------------------------------------------------------

def _parse_id(text: str) -> str:
    from bot.models import parse_arxiv_id

    try:
        return parse_arxiv_id(text)[0]
    except ValueError as exc:
        raise click.ClickException(f"{exc}; expected an id such as 2401.01234, 2401.01234v2 or its URL") \
            from None


def show_text(detail: dict[str, Any], color: bool = False) -> str:
    """One paper as readable text (what ``show`` prints on a terminal)."""
    def key(name: str) -> str:
        return click.style(f"{name}:", bold=True) if color else f"{name}:"

    lines = [click.style(printable(detail["title"]), bold=True) if color else printable(detail["title"]),
             f"{key('arXiv')} {detail['arxiv_id']}v{detail['version']}    {key('status')} {detail['status']}",
             f"{key('authors')} {printable(', '.join(detail['authors']))}",
             f"{key('published')} {(detail['published'] or '-')[:10]}    "
             f"{key('updated')} {(detail['updated'] or '-')[:10]}    "
             f"{key('categories')} {printable(', '.join(detail['categories']))}"]
    for name in ("comment", "journal_ref", "doi"):
        if detail[name]:
            lines.append(f"{key(name)} {printable(detail[name])}")
    prediction = detail["prediction"]
    if prediction:
        review = "  (needs review)" if prediction["needs_review"] else ""
        lines.append(f"{key('label')} {prediction['label']} {prediction['probability']:.2f}{review}    "
                     f"{key('model')} {prediction['model_version']}")
        lines.append(f"{key('probabilities')} " + ", ".join(
            f"{label} {p:.2f}" for label, p in prediction["probabilities"].items()))
        if prediction["reason"]:
            lines.append(f"{key('reason')} {printable(prediction['reason'])}")
    else:
        lines.append(f"{key('label')} not classified yet")
    for proposal in detail["proposals"]:
        pr = f"PR #{proposal['pr_number']}" if proposal["pr_number"] else "PR (not opened)"
        decided = f", {proposal['state']} {(proposal['decided_at'] or '')[:10]}".rstrip() \
            if proposal["state"] != "open" else ", open"
        final = f" as {proposal['final_label']}" if proposal["final_label"] not in (None, proposal["label"]) \
            else ""
        lines.append(f"{key('proposed')} {(proposal['proposed_at'] or '')[:10]} as {proposal['label']} in "
                     f"{pr}{decided}{final}")
    entry = detail["list_entry"]
    if entry:
        lines.append(f"{key('listed')} [{printable(entry['venue'] or '')}] {printable(entry['title'])} "
                     f"(section {printable(entry['section'])!r}, line {entry['line_no']})")
    lines.append(f"{key('links')} {detail['links']['abs']}  {detail['links']['pdf']}")
    if detail["abstract"]:
        import textwrap

        lines += ["", textwrap.fill(" ".join(printable(detail["abstract"]).split()), width=100)]
    return "\n".join(lines) + "\n"


@click.command("show")
@click.argument("arxiv_id")
@click.option("--json", "fmt", flag_value="json", help="JSON (the default in a pipe).")
@click.option("--text", "fmt", flag_value="text", help="Readable text (the default on a terminal).")
@pass_app
def show_cmd(app: App, arxiv_id: str, fmt: str | None) -> None:
    """Everything known about one paper: metadata, prediction, proposals, list entry, links.

    ARXIV_ID may carry a version or be an arxiv.org URL.

    \b
    Example:
        paperbot show 2303.17604
        paperbot show https://arxiv.org/abs/2303.17604v2 --json
    """
    import json

    base = _parse_id(arxiv_id)
    from db.query import paper_detail

    with _connection(app) as connection:
        detail = paper_detail(connection, base)
    if detail is None:
        raise click.ClickException(f"{base} is not in the database")
    if (fmt or ("text" if sys.stdout.isatty() else "json")) == "json":
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False))
    else:
        click.echo(show_text(detail, color=sys.stdout.isatty()), nl=False)


# --- similar ------------------------------------------------------------------------------------------

@click.command("similar")
@click.argument("arxiv_id")
@filter_options
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--model", metavar="NAME",
              help="Embedding model of the stored vectors [default: all-MiniLM-L6-v2].")
@output_options
@pass_app
def similar_cmd(app: App, arxiv_id: str, limit: int, model: str | None, fmt: str | None,
                **options: Any) -> None:
    """Papers nearest to ARXIV_ID by stored embedding (cosine similarity; never loads the model).

    \b
    Example:
        paperbot similar 2303.17604 --limit 5 --table
        paperbot similar 2303.17604 --status seen --label pruning --csv
    """
    base = _parse_id(arxiv_id)
    filters = _filters(options)
    from classifier.embed import MODEL_NAME
    from db.query import rows_for
    from db.vectors import load_index, semantic_search

    model = model or MODEL_NAME
    with _connection(app) as connection:
        if connection.execute("SELECT 1 FROM papers WHERE arxiv_id = ?", (base,)).fetchone() is None:
            raise click.ClickException(f"{base} is not in the database")
        index = load_index(connection, model)
        if base not in index.position:
            raise click.ClickException(f"{base} has no stored {model} embedding; run `paperbot embed` first")
        vector = index.matrix[index.position[base]]
        nearest = semantic_search(connection, index, vector, filters, limit, exclude=[base])
        emit_papers(rows_for(connection, nearest), fmt)


# --- stats --------------------------------------------------------------------------------------------

def plot_months(per_month: list[dict[str, Any]], path: str) -> None:
    """Stacked bars of papers per label per month, written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label for label in (*LABEL_VALUES, UNCLASSIFIED) if any(row[label] for row in per_month)]
    months = [row["month"] for row in per_month]
    figure, axes = plt.subplots(figsize=(max(6.0, 0.5 * len(months) + 2), 4.5))
    bottom = [0] * len(months)
    for label in labels:
        counts = [row[label] for row in per_month]
        axes.bar(months, counts, bottom=bottom, label=label)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("papers")
    axes.set_title("Papers per label per month (first version)")
    axes.legend(fontsize="small")
    axes.tick_params(axis="x", labelrotation=60)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _stats_tables(summary: dict[str, Any], color: bool) -> str:
    months = summary["per_month"]
    columns = ["month", *(c for c in (*LABEL_VALUES, UNCLASSIFIED) if any(r[c] for r in months)), "total"]
    agreement = summary["agreement"]
    status = [{**summary["status"], **{f"PRs {k}": v for k, v in agreement["proposals"].items()}}]
    by_label = [{"label": r["label"], "merged as is": r["merged_same_label"],
                 "relabelled": r["merged_relabelled"], "rejected": r["rejected"],
                 "PR agreement": r["proposal_agreement"], "listed (predicted)": r["listed_with_prediction"],
                 "list agreement": r["list_agreement"]} for r in agreement["by_label"]]
    by_label.append({"label": "all", "merged as is": agreement["merged_same_label"],
                     "relabelled": agreement["merged_relabelled"], "rejected": agreement["rejected"],
                     "PR agreement": agreement["proposal_agreement"],
                     "listed (predicted)": agreement["listed_with_prediction"],
                     "list agreement": agreement["list_agreement"]})
    return "\n".join([
        render_rows(months, "table", columns, color=color, title="Papers per month"),
        render_rows(status, "table", color=color, title="Status"),
        render_rows(by_label, "table", color=color, title="Classifier agreement with the maintainers"),
    ])


@click.command("stats")
@filter_options
@click.option("--plot", metavar="FILE.png", type=click.Path(dir_okay=False),
              help="Also draw papers per label per month into FILE.png.")
@output_options
@pass_app
def stats_cmd(app: App, plot: str | None, fmt: str | None, **options: Any) -> None:
    """Papers per label per month, list status counts, and how often the maintainers agreed.

    JSON (the default in a pipe) holds everything; --csv and --nl give the per-month rows.

    \b
    Example:
        paperbot stats --since 2026-01 --table
        paperbot stats --plot months.png --json > stats.json
    """
    import json

    from db.stats import summary as stats_summary

    filters = _filters(options)
    with _connection(app) as connection:
        summary = stats_summary(connection, filters)
    if plot:
        plot_months(summary["per_month"], plot)
        note(f"wrote {plot}")
    chosen = resolve_format(fmt)
    if chosen == "json":
        click.echo(json.dumps(summary, indent=2))
    elif chosen == "table":
        click.echo(_stats_tables(summary, color=sys.stdout.isatty()), nl=False)
    else:
        emit(summary["per_month"], chosen, ["month", *LABEL_VALUES, UNCLASSIFIED, "total"])


# --- export -------------------------------------------------------------------------------------------

@click.command("export")
@click.argument("query", required=False, default="")
@click.option("--format", "export_format", type=click.Choice(EXPORT_FORMATS), default="json",
              show_default=True, help="markdown writes the list's own entry lines, one section per label.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write to FILE (replaced only once complete) instead of standard output.")
@filter_options
@click.option("--limit", type=click.IntRange(1, None), help="At most this many papers.")
@pass_app
def export_cmd(app: App, query: str, export_format: str, output: str | None, limit: int | None,
               **options: Any) -> None:
    """Export papers (all, or those matching QUERY and the filters) with every stored field.

    Without QUERY the newest come first; with QUERY the best match.

    \b
    Example:
        paperbot export --label pruning --format bibtex -o pruning.bib
        paperbot export "token merging" --format markdown
        paperbot export --since 2026-01 --format csv > papers.csv
    """
    from bot import export
    from db.query import clean_query, export_rows, keyword_search

    filters = _filters(options)
    query = clean_query(query)
    sections = dict(app.settings.list.sections)
    with _connection(app) as connection:
        ids = None
        if query:  # every match, ranked (no window)
            ids = [row["arxiv_id"] for row in keyword_search(connection, query, filters, limit, window=None)]
        rows = export_rows(connection, filters, ids=ids, limit=limit, flat=export_format == "csv")
        if output is None:
            export.write(rows, export_format, sys.stdout, sections=sections)
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise click.ClickException(f"no such folder: {target.parent}")
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="", buffering=1 << 20) as stream:
                count = export.write(rows, export_format, stream, sections=sections)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    note(f"exported {count} papers to {target}")


COMMANDS: list[click.Command] = [search_cmd, show_cmd, similar_cmd, stats_cmd, export_cmd]
