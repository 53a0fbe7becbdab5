"""For the CLI tests: settings files for a fast loopback fetch or a model-free pipeline, and a small list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, tzinfo=UTC)
HASHING = '[classifier]\nembedding_model = "hashing-64"\n'  # the model-free embedder: plumbing, not quality


def fast_config(folder: Path, **arxiv: object) -> None:
    # the loopback server filters on dates, categories and a ti:"phrase"; a plain query keeps them all
    values = {"query": "abs:diffusion", "delay_seconds": 0.05, "backoff_base_seconds": 0.01,
              "backoff_max_seconds": 0.05,
              "read_timeout_seconds": 2.0, "connect_timeout_seconds": 1.0, "retry_budget_seconds": 10.0,
              "max_retries": 4, "page_size": 100}
    values.update(arxiv)
    body = "\n".join(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in values.items())
    (folder / "paperbot.toml").write_text(f"[arxiv]\n{body}\n")


WATCHED = {"cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV"}


def watched(specs: list) -> int:  # type: ignore[type-arg]
    """How many of the served papers sit in the categories the bot watches by default."""
    return len({s.arxiv_id for s in specs if set(s.categories) & WATCHED})


def small_list(folder: Path, other_entries: str = "") -> Path:
    """A list with the four default sections, and settings for a fast, model-free pipeline."""
    listing = folder / "list.md"
    listing.write_text(f"# List\n\n## Other\n\n{other_entries}\n"
                       "## Knowledge Distillation for Diffusion Models\n\n"
                       "## Pruning and Sparsity for Diffusion Models\n\n"
                       "## Quantization for Diffusion Models\n")
    (folder / "paperbot.toml").write_text('[classifier]\nembedding_model = "hashing-64"\n'
                                          "[arxiv]\ndelay_seconds = 0.0\n")
    return listing
