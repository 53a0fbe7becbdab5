"""``paperbot stats`` and ``export`` (bot/cli/report.py) through the real click group, on the small
database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.database import paper_count


def test_stats(invoke, any_query_db: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", any_query_db, "stats", "--json")
    summary = json.loads(result.output)
    assert summary["papers"] == 8 and summary["status"]["proposed"] == 1
    result = invoke("--db", any_query_db, "stats", "--since", "2026", "--csv")
    assert result.output.splitlines() == [
        "month,distillation,pruning,quantization,other,irrelevant,unclassified,total",
        "2026-03,0,0,1,0,0,0,1", "2026-04,0,1,0,0,1,0,2", "2026-05,0,0,0,0,0,1,1"]
    result = invoke("--db", any_query_db, "stats", "--table")
    assert "Classifier agreement with the maintainers" in result.output
    plot = tmp_path / "months.png"
    result = invoke("--db", any_query_db, "stats", "--plot", str(plot), "--json")
    assert result.exit_code == 0 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_export(invoke, any_query_db: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "pruning.bib"
    result = invoke("--db", any_query_db, "export", "--label", "pruning", "--format", "bibtex",
                    "-o", str(target))
    assert result.exit_code == 0
    assert result.stderr == f"paperbot: exported 3 papers to {target}\n"
    bib = target.read_text(encoding="utf-8")
    assert bib.startswith("@misc{muller2026sparse,\n"
                          "  title = {{Sparse Attention for Video Diffusion: Pruning "
                          "\\{Heads\\} \\& 50\\% of Tokens}},\n  author = {Jürgen Müller and Zoë O'Brien},\n")
    result = invoke("--db", any_query_db, "export", "caching", "--format", "jsonl")
    found = [json.loads(line)["arxiv_id"] for line in result.output.splitlines()]
    assert found == ["2604.00077", "2312.00858"]
    result = invoke("--db", any_query_db, "export", "--label", "other", "--format", "csv")
    assert result.output.startswith("arxiv_id,version,title,") and result.output.count("\n") == 1
    result = invoke("--db", any_query_db, "export", "--format", "markdown", "--label", "distillation")
    assert result.output == (
        "## Knowledge Distillation for Diffusion Models\n\n"
        "- [ICLR] Progressive Distillation for Fast Sampling of Diffusion Models "
        "[[arXiv](https://arxiv.org/abs/2202.00512)]\n")


def test_export_never_writes_over_the_database_and_writes_through_links(  # type: ignore[no-untyped-def]
        invoke, query_db: str, tmp_path: Path) -> None:
    import os
    import stat

    database = Path(query_db.removeprefix("sqlite:///"))
    before = database.read_bytes()
    for target in (database, Path(f"{database}-wal")):
        result = invoke("--db", query_db, "export", "-o", str(target))
        assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
    assert "is the paper database; writing there would destroy it" in invoke(
        "--db", query_db, "export", "-o", str(database)).output
    assert database.read_bytes() == before and paper_count(query_db) > 0
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    os.chmod(real, 0o644)
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert invoke("--db", query_db, "export", "--format", "jsonl", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text().count("\n") == paper_count(query_db)
    assert stat.S_IMODE(real.stat().st_mode) == 0o644


def test_a_plot_must_be_an_image_in_an_existing_folder(invoke, any_query_db: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for plot, message in [(tmp_path / "out.txt", "name a .png, .svg, .pdf file"),
                          (tmp_path / "none" / "x.png", "no such folder")]:
        result = invoke("--db", any_query_db, "stats", "--plot", str(plot))
        assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output
