"""bot/arxiv/atom.py: recorded and hand-made Atom pages, error feeds, and entries cleaned or skipped."""

from __future__ import annotations

import logging

import pytest

from bot.arxiv.atom import ErrorFeed, MalformedFeed, parse_page
from bot.arxiv.client import fetch_papers
from tests.support.arxiv import SINCE, UNTIL
from tests.support.arxiv_server import FIXTURES, ArxivServer, Fault  # fixture: tests/conftest.py


def test_edge_case_entries_are_cleaned_or_skipped_and_counted(arxiv_server: ArxivServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    arxiv_server.fail(Fault.FILE, file="edge_entries.xml")
    with caplog.at_level(logging.WARNING, logger="bot.arxiv.atom"):
        result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert result.skipped == 4 and result.total_results == 8
    assert [p.arxiv_id for p in result.papers] == ["2511.00001", "hep-th/9901001", "0704.0001", "2701.123456"]
    messy = result.papers[0]
    assert messy.title == "Control characters and wrapped whitespace"
    assert messy.abstract == ("Raw LaTeX $\\mathcal{O}(n^2)$ stays; NUL and C0 controls go.\n  Second line.")
    assert (messy.version, messy.comment, messy.journal_ref, messy.doi) == (
        3, "12 pages, 3 figures", "Proc. CVPR 2026", "10.1000/xyz123")
    assert result.papers[1].version == 2
    assert "not an arxiv.org abstract URL" in caplog.text and "not an arXiv id" in caplog.text


def test_recorded_400_error_feed_parses_as_an_error() -> None:
    with pytest.raises(ErrorFeed, match="incorrect id format for abc"):
        parse_page((FIXTURES / "id_abc_s0_m100.xml").read_bytes())
    with pytest.raises(MalformedFeed):
        parse_page((FIXTURES / "truncated.xml").read_bytes())
    with pytest.raises(MalformedFeed):
        parse_page(b"<feed><entry><title>Foo")
    assert parse_page((FIXTURES / "id_0000.0000_s0_m100.xml").read_bytes()).entries == 0
