"""bot/cli/export.py: BibTeX keys and escaping, and every export format over db/records.py's rows."""

from __future__ import annotations

import io
import json


def test_bibtex_keys_are_stable_unique_and_escaped() -> None:
    from bot.cli.export import bibtex_entry, bibtex_escape, bibtex_keys

    rows = [{"arxiv_id": "2401.00002", "title": "The Token Trick", "authors": ["Ada Lovelace"],
             "published": "2024-01-02T00:00:00+00:00"},
            {"arxiv_id": "2401.00001", "title": "Token {merging} & 50% of $x_i$",
             "authors": ["Zoë Lövelace", "B and C Lab"], "published": "2024-01-01T00:00:00+00:00",
             "primary_category": "cs.CV"}]
    keys = bibtex_keys(rows)
    assert keys == {"2401.00001": "lovelace2024token", "2401.00002": "lovelace2024tokenb"}
    assert bibtex_keys(list(reversed(rows))) == keys
    entry = bibtex_entry(rows[1], keys["2401.00001"])
    assert r"title = {{Token \{merging\} \& 50\% of \$x\_i\$}}" in entry
    assert "author = {Zoë Lövelace and {B and C Lab}}" in entry
    assert entry.count("{") - entry.count(r"\{") == entry.count("}") - entry.count(r"\}")
    assert bibtex_escape("a\\b~^\n#") == r"a\textbackslash{}b\textasciitilde{}\textasciicircum{} \#"


def test_export_formats(any_connection) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import export
    from db.query import Filters
    from db.records import export_rows

    def run(fmt: str, **kw: object) -> str:
        out = io.StringIO()
        export.write(export_rows(any_connection, Filters(**kw)), fmt, out,  # type: ignore[arg-type]
                     sections={"pruning": "Pruning and Sparsity for Diffusion Models"})
        return out.getvalue()

    assert len(json.loads(run("json"))) == 8
    assert json.loads(run("json", labels=("other",))) == []
    lines = run("jsonl", labels=("pruning",)).splitlines()
    assert [json.loads(line)["arxiv_id"] for line in lines] == ["2604.00555", "2312.00858", "2303.17604"]
    csv_text = run("csv", labels=("quantization",))
    assert csv_text.splitlines()[0] == ",".join(export.CSV_COLUMNS)
    assert "Xiuyu Li; Yijiang Liu; Kurt Keutzer" in csv_text
    markdown = run("markdown", labels=("pruning",))
    assert markdown == (
        "## Pruning and Sparsity for Diffusion Models\n\n"
        "- [arxiv] Sparse Attention for Video Diffusion: Pruning \\{Heads\\} &amp; 50% of Tokens "
        "[[arXiv](https://arxiv.org/abs/2604.00555)]\n"
        "- [arxiv] DeepCache: Accelerating Diffusion Models for Free [[arXiv](https://arxiv.org/abs/2312.00858)]\n"
        "- [arxiv] Token Merging for Fast Stable Diffusion [[arXiv](https://arxiv.org/abs/2303.17604)]\n")
    bib = run("bibtex", labels=("quantization",))
    assert bib.count("@misc{") == 2 and "@misc{li2023qdiffusion," in bib


def test_the_databases_csv_is_the_csv_of_the_records(any_connection) -> None:  # type: ignore[no-untyped-def]
    """The database writes the CSV records itself (db/csvexport.py: SQLite's printf, PostgreSQL's COPY):
    the text is that of the records written cell by cell by the csv module."""
    from bot.cli import export
    from db.csvexport import CsvRecords
    from db.query import Filters
    from db.records import export_rows

    def csv_text(flat: bool, **kw: object) -> str:
        out = io.StringIO()
        filters = Filters(**kw)  # type: ignore[arg-type]
        rows = CsvRecords(any_connection, filters) if flat else export_rows(any_connection, filters)
        count = export.write(rows, "csv", out)
        assert count == out.getvalue().count("\n") - 1
        return out.getvalue()

    assert csv_text(True) == csv_text(False) and csv_text(True).count("\n") == 9
    assert csv_text(True, labels=("pruning",)) == csv_text(False, labels=("pruning",))
    assert ",2026-04-15T11:30:00+00:00,2026-04-15T11:30:00+00:00,cs.CV,cs.CV,,,,pruning,0.55,listed,," \
        in csv_text(True)


def test_the_databases_csv_quotes_and_joins_odd_values_as_the_csv_module_does(any_query_db: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from bot.cli import export
    from bot.core.labels import Label
    from bot.core.models import Paper
    from db.csvexport import CsvRecords
    from db.query import connect
    from db.records import export_rows
    from db.session import open_database, session_scope
    from db.store import save_predictions, upsert_papers
    from tests.support.database import prediction

    when = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    odd = [Paper(arxiv_id="2701.00001", title='Commas, "quotes"\nand lines', abstract="",
                 authors=("Smith, Jr.", 'Ann "Al" Lee', "Back\\slash"), categories=(), published=when),
           Paper(arxiv_id="2701.00002", title="Plain", abstract="One, two; three", authors=("Solo",),
                 categories=("cs.CV",), published=when, comment="", doi="10.1/x,y")]
    engine = open_database(any_query_db)
    with session_scope(engine) as session:
        upsert_papers(session, odd)
        save_predictions(session, {"2701.00001": prediction(Label.OTHER, 0.99996),
                                   "2701.00002": prediction(Label.PRUNING, 0.0)})
    with engine.begin() as connection:  # a list another tool wrote, without json.dumps's spaces
        connection.execute(text("""UPDATE papers SET categories = '["cs.LG","cs.AI"]' """
                                "WHERE arxiv_id = '2701.00002'"))
    engine.dispose()
    connection = connect(any_query_db)
    try:
        by_database, by_csv = io.StringIO(), io.StringIO()
        assert export.write(CsvRecords(connection), "csv", by_database) == 10
        export.write(export_rows(connection), "csv", by_csv)
        ids = ["2701.00002", "2303.17604"]
        by_ids = io.StringIO()
        assert export.write(CsvRecords(connection, ids=ids), "csv", by_ids) == 2
    finally:
        connection.close()
    assert by_database.getvalue() == by_csv.getvalue()
    lines = by_database.getvalue().splitlines()
    assert '2701.00001,1,"Commas, ""quotes""' in by_database.getvalue()
    assert ',"Smith, Jr.; Ann ""Al"" Lee; Back\\slash",' in by_database.getvalue()
    assert ",2027-01-02T03:04:05+00:00,,,,,,,other,1.0,seen,," in by_database.getvalue()
    assert ',cs.LG; cs.AI,,,,"10.1/x,y",pruning,0.0,seen,,' in lines[1]
    assert ",other,1.0,seen,," in by_database.getvalue()
    assert [line.split(",")[0] for line in by_ids.getvalue().splitlines()] == ["arxiv_id", *ids]
