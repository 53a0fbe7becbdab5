"""Migration 0012 and db/csvexport.py: ``papers.csv_fields`` holds each paper's own fields as the csv module
writes them, filled for the papers stored before, kept by triggers whoever writes the row (SQLite and
PostgreSQL), and an export is the same text when it is missing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import text

from db.session import downgrade, make_engine, upgrade

ODD = [("2501.00001", 'Commas, "quotes"\r\nand a CRLF', ["Smith, Jr.", 'Ann "Al" Lee', "Back\\slash"],
        "Tabs\there, a form feed\x0c, a backslash \\alpha and a line\nend", "2025-01-02 03:04:05.000000",
        ["cs.CV", "cs.LG"], None),
       ("2501.00002", "Plain", ["Solo"], None, None, [], "10.1/x,y"),
       ("2501.00003", "Zoë’s 扩散 model", [], "", "2025-02-03 00:00:00.000000", ["cs.AI"], "")]


def expected(arxiv_id: str, title: str, authors: list[str], abstract: str | None, published: str | None,
             categories: list[str], doi: str | None) -> str:
    """What Python's csv module writes for the twelve fields (``version`` 1, no comment or journal)."""
    when = None if published is None else published[:10] + "T" + published[11:19] + "+00:00"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        [arxiv_id, 1, title, "; ".join(authors), abstract, when, when, "; ".join(categories),
         categories[0] if categories else None, None, None, doi])
    return out.getvalue().removesuffix("\n")


def insert(connection: Any, arxiv_id: str, title: str, authors: list[str], abstract: str | None,
           published: str | None, categories: list[str], doi: str | None) -> None:
    connection.execute(text(
        "INSERT INTO papers (arxiv_id, version, title, authors, abstract, published, updated, categories, "
        "primary_category, doi) VALUES (:id, 1, :title, :authors, :abstract, :published, :published, "
        ":categories, :primary, :doi)"),
        {"id": arxiv_id, "title": title, "authors": json.dumps(authors), "abstract": abstract,
         "published": published, "categories": json.dumps(categories),
         "primary": categories[0] if categories else None, "doi": doi})


def stored(engine: Any) -> dict[str, str | None]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT arxiv_id, csv_fields FROM papers")).all())


def test_the_migration_fills_and_the_triggers_keep_the_fields(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    downgrade(engine, "0011")
    with engine.begin() as connection:
        insert(connection, *ODD[0])
    upgrade(engine)
    assert stored(engine) == {"2501.00001": expected(*ODD[0])}  # a paper stored before: filled
    with engine.begin() as connection:
        for row in ODD[1:]:
            insert(connection, *row)  # written by another program: the triggers fill it
    assert stored(engine) == {row[0]: expected(*row) for row in ODD}
    with engine.begin() as connection:  # a list written without json.dumps's spaces, a new title
        connection.execute(text("""UPDATE papers SET categories = '["cs.LG","cs.AI"]', """
                                "title = 'New, title' WHERE arxiv_id = '2501.00002'"))
        connection.execute(text("UPDATE papers SET last_seen_run = NULL WHERE arxiv_id = '2501.00003'"))
    assert stored(engine)["2501.00002"] == '2501.00002,1,"New, title",Solo,,,,cs.LG; cs.AI,,,,"10.1/x,y"'
    assert stored(engine)["2501.00003"] == expected(*ODD[2])
    downgrade(engine, "0011")
    with engine.connect() as connection:
        columns = connection.execute(text("SELECT * FROM papers")).keys()
    assert "csv_fields" not in columns
    upgrade(engine)
    assert stored(engine)["2501.00001"] == expected(*ODD[0])
    engine.dispose()


def test_an_export_is_the_same_without_the_stored_fields(any_query_db: str) -> None:
    """A row whose ``csv_fields`` is missing (triggers bypassed: a restore without them) gets the text
    computed by the export itself, the same text."""
    from bot.cli import export
    from db.csvexport import CsvRecords
    from db.query import connect

    engine = make_engine(any_query_db)
    with engine.begin() as connection:
        for row in ODD:
            insert(connection, *row)

    def exported() -> str:
        connection = connect(any_query_db)
        try:
            out = io.StringIO()
            export.write(CsvRecords(connection), "csv", out)
            by_ids = io.StringIO()
            export.write(CsvRecords(connection, ids=[row[0] for row in ODD]), "csv", by_ids)
            # the bytes a file or standard output gets: the same records, never decoded on SQLite
            assert b"".join(CsvRecords(connection).encoded()) == out.getvalue().partition("\n")[2].encode()
            return out.getvalue() + by_ids.getvalue()
        finally:
            connection.close()

    before = exported()
    assert expected(*ODD[0]) + ",,,seen,,https://arxiv.org/abs/2501.00001\n" in before
    with engine.begin() as connection:
        connection.execute(text("UPDATE papers SET csv_fields = NULL"))
    assert stored(engine) == {arxiv_id: None for arxiv_id in stored(engine)}
    assert exported() == before
    engine.dispose()
