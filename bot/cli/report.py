"""``paperbot stats`` and ``paperbot export``: counts, a chart, and the papers in other formats.

Read-only, like ``bot/cli/query.py``, whose filters and connection it shares. matplotlib is imported only
for ``stats --plot``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bot.cli.app import App, pass_app
from bot.cli.export import FORMATS as EXPORT_FORMATS
from bot.cli.filters import filter_options, filters_from, note, read_connection
from bot.cli.output import emit, output_options, render_rows, resolve_format
from bot.core.files import atomic_text, check_output
from bot.core.labels import LABEL_VALUES
from db.query import UNCLASSIFIED

# --- stats --------------------------------------------------------------------------------------------

PLOT_FORMATS = (".png", ".svg", ".pdf")


def check_plot_path(path: Path) -> None:
    """A ``--plot`` target must name an image file in an existing folder."""
    if path.suffix.lower() not in PLOT_FORMATS:
        raise click.ClickException(f"--plot {path}: name a {', '.join(PLOT_FORMATS)} file")
    if not path.parent.is_dir():
        raise click.ClickException(f"--plot {path}: no such folder: {path.parent}")


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

    filters = filters_from(options)
    if plot:
        check_plot_path(Path(plot))
    with read_connection(app) as connection:
        summary = stats_summary(connection, filters)
    if plot:
        try:
            plot_months(summary["per_month"], plot)
        except OSError as exc:
            raise click.ClickException(f"cannot write {plot}: {exc.strerror or exc}") from None
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
    from bot.cli import export
    from db.csvexport import CsvRecords
    from db.query import clean_query, keyword_search
    from db.records import export_rows

    filters = filters_from(options)
    query = clean_query(query)
    sections = dict(app.settings.list.sections)
    with read_connection(app) as connection:
        ids = None
        if query:  # every match, ranked (no window)
            ids = [row["arxiv_id"] for row in keyword_search(connection, query, filters, limit, window=None)]
        rows: Any = (CsvRecords(connection, filters, ids=ids, limit=limit) if export_format == "csv"
                     else export_rows(connection, filters, ids=ids, limit=limit))
        if output is None:
            export.write(rows, export_format, sys.stdout, sections=sections)
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise click.ClickException(f"no such folder: {target.parent}")
        check_output(target, app.settings.database_url)
        with atomic_text(target, buffering=1 << 20) as stream:
            count = export.write(rows, export_format, stream, sections=sections)
    note(f"exported {count} papers to {target}")


COMMANDS: list[click.Command] = [stats_cmd, export_cmd]
