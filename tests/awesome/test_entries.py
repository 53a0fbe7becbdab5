"""bot/awesome/entries.py: the venue read from an arXiv comment or journal reference, and the code link."""

from __future__ import annotations

import pytest

from bot.awesome.entries import Venue, code_url_for, detect_venue, github_url
from tests.support.awesome import paper


@pytest.mark.parametrize(("comment", "journal_ref", "venue"), [
    ("Accepted to CVPR 2026", None, Venue("CVPR", 2026)),
    ("Accepted by NeurIPS 2025 (Spotlight). 12 pages", None, Venue("NeurIPS", 2025)),
    ("ICLR 2026; code at https://github.com/a/b", None, Venue("ICLR", 2026)),
    ("To appear in ICCV'25", None, Venue("ICCV", 2025)),
    ("Camera-ready version for ECCV 2024", None, Venue("ECCV", 2024)),
    ("Accepted at ICML 2025", None, Venue("ICML", 2025)),
    ("AAAI 2026 oral", None, Venue("AAAI", 2026)),
    ("Accepted by IJCAI 2025", None, Venue("IJCAI", 2025)),
    ("Accepted to ACM MM 2025", None, Venue("ACM MM", 2025)),
    ("Accepted to ACM Multimedia 2024", None, Venue("ACM MM", 2024)),
    ("WACV 2026", None, Venue("WACV", 2026)),
    (None, "IEEE Transactions on Pattern Analysis and Machine Intelligence, 2025", Venue("TPAMI", 2025)),
    ("Accepted by IEEE TIP", None, Venue("TIP")),
    ("SIGGRAPH Asia 2025 conference paper", None, Venue("SIGGRAPH Asia", 2025)),
    ("SIGGRAPH 2025", None, Venue("SIGGRAPH", 2025)),
    ("Accepted to ACL 2025 main conference", None, Venue("ACL", 2025)),
    ("Findings of EMNLP 2025", None, Venue("EMNLP", 2025, "Findings")),
    ("NAACL 2025", None, Venue("NAACL", 2025)),
    ("Published in TMLR", None, Venue("TMLR")),
    ("Accepted to KDD 2025", None, Venue("KDD", 2025)),
    ("Accepted to the CVPR 2026 Workshop on Efficient Vision", None, Venue("CVPR", 2026, "Workshop")),
    ("Submitted to CVPR 2026", None, None),
    ("Under review at ICLR 2026", None, None),
    ("Extended version of our ECCV 2024 paper", None, None),
    ("CVPR 2026 submission", None, None),
    ("Our method beats NeurIPS baselines", None, None),
    ("12 pages, 5 figures", None, None),
    (None, None, None),
    ("Submitted to TPAMI; accepted at ICCV 2025", None, Venue("ICCV", 2025)),
])
def test_detect_venue(comment: str | None, journal_ref: str | None, venue: Venue | None) -> None:
    assert detect_venue(comment, journal_ref) == venue


@pytest.mark.parametrize(("text", "url"), [
    ("Code: https://github.com/foo/bar.", "https://github.com/foo/bar"),
    ("\\url{https://github.com/Foo-Lab/1.58bit.flux}", "https://github.com/Foo-Lab/1.58bit.flux"),
    ("at github.com/a/b.git and https://github.com/c/d", "https://github.com/a/b"),
    ("https://github.com/orgs/x and https://github.com/real/repo/tree/main", "https://github.com/real/repo"),
    ("https://github.com/-bad/x", None),
    ("https://gitlab.com/a/b", None),
    ("https://evil.example/github.com/a/b", "https://github.com/a/b"),  # only owner/repo survives
    ("no code", None),
])
def test_github_url(text: str, url: str | None) -> None:
    assert github_url(text) == url


def test_code_url_prefers_a_valid_given_url_and_ignores_others() -> None:
    p = paper(1, "T", comment="code: https://github.com/from/comment")
    assert code_url_for(p, "https://github.com/given/repo") == "https://github.com/given/repo"
    assert code_url_for(p, "https://evil.example/?u=https://github.com/x/y") == "https://github.com/from/comment"
    assert code_url_for(p, "javascript:alert(1)") == "https://github.com/from/comment"
