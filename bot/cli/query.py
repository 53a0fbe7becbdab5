"""``paperbot search``, ``show`` and ``similar``: ask the paper database (``stats`` and ``export`` are in
``bot/cli/report.py``; both share the filters and the connection of ``bot/cli/filters.py``).

Read-only: every command opens a ``query_only`` connection (``db.query.connect``). Module-level imports
stay light because ``bot.cli.app`` imports this module on every start; numpy, matplotlib and the embedding
model are imported inside the commands that need them, and the model only by ``search --semantic`` or
``--hybrid``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli.app import App, pass_app
from bot.cli.filters import filter_options, filters_from, note, printable, read_connection
from bot.cli.output import emit, output_options, resolve_format
from bot.core.states import ProposalState

if TYPE_CHECKING:
    import sqlite3

    from classifier.embed import Embedder

PAPER_FIELDS = ("arxiv_id", "title", "authors", "published", "label", "probability", "status", "score", "url")
TABLE_FIELDS = ("arxiv_id", "published", "label", "probability", "status", "score", "authors", "title")
HYBRID_DEPTH = 50  # how many keyword and semantic hits the blend fuses (at least; 3 x --limit if more)


def query_embedder(app: App) -> Embedder:
    """The configured embedder (``classifier.embedding_model``), set up to embed one short query."""
    from bot.pipeline.stages import make_embedder
    from classifier.embed import SentenceTransformerEmbedder

    embedder: Embedder = make_embedder(app.settings)
    if isinstance(embedder, SentenceTransformerEmbedder):
        import torch

        # One short query gains nothing from intra-op threads, and on a busy 2-core machine two threads
        # made each query 30x slower (730 ms against 25 ms) while they waited on each other.
        torch.set_num_threads(1)
    return embedder


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

def _query_vector(app: App, connection: sqlite3.Connection, query: str) -> tuple[Any, Any]:
    """``(index, vector)`` for a semantic query; BotError (one line) when either is unavailable."""
    from bot.core.errors import BotError
    from db.vectors import load_index

    embedder = query_embedder(app)
    index = load_index(connection, embedder.name, Path(app.settings.vector_cache))
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

    QUERY uses SQLite FTS5 syntax (on PostgreSQL too): words (all must occur), "a phrase", prefix*, OR,
    NOT, NEAR(a b), title:word. Text that is not valid syntax is searched as plain words. Titles count
    five times the abstract. --semantic and --hybrid need stored embeddings and load the embedding
    model (slow start).

    \b
    Example:
        paperbot search "video diffusion" quantiz* --since 2026-03 --table
        paperbot search caching --label irrelevant --nl
        paperbot search "token merging" --hybrid --limit 5
    """
    from db.query import RANK_WINDOW, QueryError, browse, clean_query, keyword_hits, rows_for

    if semantic and hybrid:
        raise click.UsageError("choose one of --semantic and --hybrid")
    filters = filters_from(options)
    query = clean_query(query)
    with read_connection(app) as connection:
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
        from bot.core.errors import BotError
        from db.nearest import fuse, semantic_search

        if semantic:
            index, vector = _query_vector(app, connection, query)
            rows = rows_for(connection, semantic_search(connection, index, vector, filters, limit))
            emit_papers(rows, fmt)
            return
        depth = max(HYBRID_DEPTH, 3 * limit)
        keyword = keyword_hits(connection, query, filters, depth).rows
        try:
            index, vector = _query_vector(app, connection, query)
        except BotError as exc:
            note(f"{exc}; keyword results only")
            emit_papers(keyword[:limit], fmt)
            return
        nearest = semantic_search(connection, index, vector, filters, depth)
        fused = fuse([[row["arxiv_id"] for row in keyword], [arxiv_id for arxiv_id, _ in nearest]], limit)
        emit_papers(rows_for(connection, fused), fmt)


# --- show ---------------------------------------------------------------------------------------------

def _parse_id(text: str) -> str:
    from bot.core.models import parse_arxiv_id

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
            if proposal["state"] != ProposalState.OPEN else ", open"
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
    from db.records import paper_detail

    with read_connection(app) as connection:
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
    filters = filters_from(options)
    from classifier.embed import MODEL_NAME
    from db.nearest import semantic_search
    from db.query import rows_for
    from db.vectors import load_index

    model = model or MODEL_NAME
    with read_connection(app) as connection:
        if connection.execute("SELECT 1 FROM papers WHERE arxiv_id = ?", (base,)).fetchone() is None:
            raise click.ClickException(f"{base} is not in the database")
        index = load_index(connection, model, Path(app.settings.vector_cache))
        vector = index.vector(base)
        if vector is None:
            raise click.ClickException(f"{base} has no stored {model} embedding; run `paperbot embed` first")
        nearest = semantic_search(connection, index, vector, filters, limit, exclude=[base])
        emit_papers(rows_for(connection, nearest), fmt)


COMMANDS: list[click.Command] = [search_cmd, show_cmd, similar_cmd]
