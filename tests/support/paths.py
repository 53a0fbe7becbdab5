"""Where the test data lives: the fixtures under tests/fixtures and the shipped corpus in classifier/data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
FIXTURES = ROOT / "tests" / "fixtures"
ATOM_FIXTURES = FIXTURES / "atom"  # recorded arXiv API responses
READMES = FIXTURES / "readme"  # awesome-list READMEs, hostile titles and golden files
REAL_LIST_FILE = READMES / "awesome-efficient-diffusion.md"  # the seed list as kept today
CORPUS_DATA = ROOT / "classifier" / "data"
CORPUS_FILE = CORPUS_DATA / "train.jsonl"  # the shipped training corpus
DEV_FILE = CORPUS_DATA / "dev.jsonl"  # the shipped measuring set, never trained on
