"""Where the test data lives: the fixtures under tests/fixtures and the shipped corpus in classifier/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from classifier.corpus import TRAINING_FILES as CORPUS_FILES  # the shipped corpus, wherever it is listed

ROOT = Path(__file__).resolve().parents[2]  # the repository
FIXTURES = ROOT / "tests" / "fixtures"
ATOM_FIXTURES = FIXTURES / "atom"  # recorded arXiv API responses
READMES = FIXTURES / "readme"  # awesome-list READMEs, hostile titles and golden files
REAL_LIST_FILE = READMES / "awesome-efficient-diffusion.md"  # the seed list as kept today
CORPUS_DATA = ROOT / "classifier" / "data"
DEV_FILE = CORPUS_DATA / "dev.jsonl"  # the shipped measuring set, never trained on


def corpus_json_rows() -> list[dict[str, Any]]:
    """Every row of the shipped corpus files, as parsed JSON, in order."""
    return [json.loads(line) for path in CORPUS_FILES for line in path.read_text().splitlines()]
