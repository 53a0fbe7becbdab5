"""bot/awesome/titles.py: never a duplicate. Titles are normalised and matched strictly; ``is_listed``
(bot/awesome/insert.py) asks the list's ``TitleIndex`` by id, DOI and title, however the list writes them."""

from __future__ import annotations

import pytest

from bot.awesome.insert import is_listed
from bot.awesome.parse import parse_list
from bot.awesome.titles import normalize_title, titles_match
from bot.core.models import Paper
from tests.support.awesome import LIST, NESTED, TABLES, paper


@pytest.mark.parametrize(("title", "listed"), [
    ("On Distillation of Guided Diffusion Models", True),
    ("on distillation of guided diffusion models.", True),
    ("On Distillation of Guided  Diffusion-Models", True),
    ("SwiftBrush: One-Step Text-to-Image Diffusion Model with Variational Score Distillation", True),
    ("Latent Consistency Models: Synthesizing High-Resolution Images with Few-Step Inference", True),
    ("$Q$-Diffusion: Quantizing Diffusion Models", True),
    ("\\emph{Consistency} Models", True),
    ("Consistency Model", True),
    ("Post-training Quantisation on Diffusion Models", True),
    ("Adversarial Diffusion Distillation for Video", False),
    ("Bidirectional Consistency Models: Part 2", False),
    ("Consistency Models Made Easy", False),
    ("Towards Accurate Post-training Quantization on Diffusion Models", False),
    ("Post-training Quantization on Transformer Models", False),
])
def test_listed_by_title_without_a_link(title: str, listed: bool) -> None:
    found = is_listed(paper(99999, title), parse_list(LIST))
    assert (found is not None) is listed, found


@pytest.mark.parametrize(("a", "b"), [
    ("Consistency Models", "Improved Techniques for Training Consistency Models"),
    ("Consistency Models", "Bidirectional Consistency Models"),
    ("Consistency Models", "Consistency Trajectory Model"),
    ("Q-DM: An Efficient Low-bit Quantized Diffusion Model",
     "Q-DiT: An Efficient Low-bit Quantized Diffusion Model"),
    ("PTQD: Accurate Post-Training Quantization for Diffusion Models",
     "Towards Accurate Post-training Quantization for Diffusion Models"),
])
def test_near_misses_are_different_papers(a: str, b: str) -> None:
    assert not titles_match(a, b)


def test_normalize_title_folds_latex_markdown_and_entities() -> None:
    assert normalize_title("Q\\&amp;C: \\emph{When} $\\mathcal{Q}$ Meets  Caf\u00e9\u2014Cache.") == \
        "q and c when q meets cafe cache"
    assert normalize_title("A \\| B") == "a b"


@pytest.mark.parametrize(("arxiv_id", "title", "doi"), [
    ("2401.09001", "Kappa Nested Cache Title", None),  # a nested item
    ("2401.00012", "Renamed", None),  # nested twice, linked
    ("2401.09002", "Iota Numbered Title", None),  # an ordered item
    ("2401.00007", "Renamed", None),  # the link on the item's second line
    ("2401.09003", "Theta Wrapped Title That Is Very Long Indeed", None),  # a title wrapped onto two lines
    ("2401.09004", "Preprint Name of the Same Paper", "10.1109/cvpr.2024.01234"),  # the published DOI
    ("2401.00006", "Renamed", None),  # the arXiv DOI
    ("2401.00021", "Renamed", None),  # a Hugging Face papers page
    ("2401.00030", "Renamed", None),  # "arXiv ID" in the text
    ("2401.09005", "$\\Delta$-DiT: Accelerating Sampling", None),  # LaTeX Greek against the spelled name
    ("2401.09006", "$\\alpha$-Quant: Low-bit Caches", None),  # LaTeX Greek against Unicode
    ("2401.09007", "Prune and Merge Tokens", None),  # "and" against "&"
])
def test_listed_however_the_list_writes_it(arxiv_id: str, title: str, doi: str | None) -> None:
    found = is_listed(Paper(arxiv_id=arxiv_id, title=title, doi=doi), parse_list(NESTED))
    assert found is not None, (arxiv_id, title)


def test_listed_by_id_in_any_version_and_against_the_open_pr() -> None:
    doc = parse_list(TABLES)
    retitled = Paper(arxiv_id="2302.04304", title="A completely new title", version=3)
    found = is_listed(retitled, doc)
    assert found is not None and found.by == "id" and found.arxiv_id == "2302.04304"
    assert is_listed(paper(7, "Unlisted"), doc) is None
    assert is_listed(paper(7, "Unlisted"), doc, extra_ids=["2601.00007v2"]) is not None
    assert is_listed(paper(8, "Proposed in the open PR"), None, extra_titles=["proposed in the open PR."])
