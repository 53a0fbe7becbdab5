"""bot/core/models.py: arXiv ids, in every form a list or a URL writes them, and what is not one."""

from __future__ import annotations

import pytest

from bot.core.models import parse_arxiv_id


@pytest.mark.parametrize(("text_id", "base", "version"), [
    ("2501.01234v2", "2501.01234", 2),
    ("0704.0001", "0704.0001", None),
    ("1412.9999v11", "1412.9999", 11),
    ("hep-th/9901001v2", "hep-th/9901001", 2),
    ("math.GT/0309136", "math.GT/0309136", None),
    ("https://arxiv.org/abs/2406.01234v3", "2406.01234", 3),
    ("http://arxiv.org/abs/astro-ph/0601001v1", "astro-ph/0601001", 1),
    ("https://arxiv.org/pdf/2406.01234.pdf", "2406.01234", None),
    ("arXiv:2701.123456", "2701.123456", None),
])
def test_arxiv_ids_parse(text_id: str, base: str, version: int | None) -> None:
    assert parse_arxiv_id(text_id) == (base, version)


@pytest.mark.parametrize("bad", ["", "abc", "2501.123", "http://arxiv.org/api/errors#incorrect_id",
                                 "https://evil.example/abs/2501.01234", "2501.01234v", "../2501.01234"])
def test_non_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_arxiv_id(bad)
