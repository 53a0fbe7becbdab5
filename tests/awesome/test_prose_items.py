"""bot/awesome/parse.py: a list's prose bullets (notes, contribution hints) are not entries."""

from __future__ import annotations

from bot.awesome.parse import is_prose, parse_list
from tests.support.paths import REAL_LIST_FILE

NOTES = """# List

## Other

### Papers

- [CVPR] A Paper. With a Full Stop Inside
- Accelerating Parallel Sampling of Diffusion Models
- QuEST: Low-bit Diffusion Model Quantization via Efficient Selective Finetuning
- Diffusion Models Beat GANs on Image Synthesis.
- See [the survey](https://example.org/survey). It lists more.

### Notes

- This repository is a work in progress, and contributions are welcome. Please open an issue.
- The code links provided are for reference purposes only, and may go stale over the years.
"""


def test_notes_are_not_entries_but_every_paper_is() -> None:
    doc = parse_list(NOTES)
    assert [e.title for e in doc.entries] == [
        "A Paper. With a Full Stop Inside",  # a venue tag makes it an entry whatever it says
        "Accelerating Parallel Sampling of Diffusion Models",
        "QuEST: Low-bit Diffusion Model Quantization via Efficient Selective Finetuning",
        "Diffusion Models Beat GANs on Image Synthesis.",  # a short title with a full stop
        "See",  # a link makes it an entry (the list's own business what it links)
    ]
    assert doc.render() == NOTES  # the notes are kept byte for byte, only not read as papers


def test_the_seed_lists_notes_are_prose() -> None:
    doc = parse_list(REAL_LIST_FILE.read_text(encoding="utf-8"))
    titles = [e.title for e in doc.entries]
    assert not any(title.startswith(("This repository", "The code links")) for title in titles)
    assert "Accelerating Parallel Sampling of Diffusion Models" in titles and len(titles) == 55


def test_is_prose() -> None:
    assert is_prose("This is a note. Please read it.")
    assert is_prose("The code links provided are for reference purposes only and may go stale.")
    assert not is_prose("Progressive Distillation for Fast Sampling of Diffusion Models")
    assert not is_prose("SnapFusion: Text-to-Image Diffusion Model on Mobile Devices within Two Seconds")
    assert not is_prose("Diffusion Models Beat GANs.")
