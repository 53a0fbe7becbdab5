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


def test_the_flat_csv_is_the_csv_of_the_records(any_connection) -> None:  # type: ignore[no-untyped-def]
    """The database flattens the CSV rows itself (SQLite's json_each and strftime, PostgreSQL's string_agg
    and to_char): the bytes are those of the records written cell by cell."""
    from bot.cli import export
    from db.query import Filters
    from db.records import export_rows

    def csv_text(flat: bool, **kw: object) -> str:
        out = io.StringIO()
        export.write(export_rows(any_connection, Filters(**kw), flat=flat), "csv", out)  # type: ignore[arg-type]
        return out.getvalue()

    assert csv_text(True) == csv_text(False) and csv_text(True).count("\n") == 9
    assert csv_text(True, labels=("pruning",)) == csv_text(False, labels=("pruning",))
    assert ",2026-04-15T11:30:00+00:00,2026-04-15T11:30:00+00:00,cs.CV,cs.CV,,,,pruning,0.55,listed,," \
        in csv_text(True)
