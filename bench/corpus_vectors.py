"""Rebuild (or check) the shipped corpus vectors, ``classifier/data/corpus-vectors.npz``.

Run by hand after changing the corpus files (``classifier.corpus.TRAINING_FILES``) or the embedding model,
and commit the file: ``python bench/corpus_vectors.py`` embeds every corpus text with all-MiniLM-L6-v2
(2 to 5 minutes on two CPU cores) and writes the file; ``--check`` only verifies that the shipped file
covers the shipped corpus and exits 1 when it is stale. A stale or broken file never breaks a run (the
missing texts are embedded and cached in the database), it only makes the first run slow;
``tests/classifier/test_shipped_vectors.py`` fails until it is rebuilt. Writes nothing but ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bot.core.errors import ClassifierError
from classifier.corpus import TRAINING_FILES, corpus_rows
from classifier.corpus_vectors import VECTORS_FILE, CorpusVectorsError, read, write
from classifier.embed import MODEL_NAME, Embedder, HashingEmbedder, SentenceTransformerEmbedder
from db.store import text_hash


def embedder_for(name: str) -> Embedder:
    """The embedder a settings file's ``classifier.embedding_model`` names."""
    if name == MODEL_NAME:
        return SentenceTransformerEmbedder()
    if name.startswith("hashing-"):
        return HashingEmbedder(int(name.split("-", 1)[1]))
    raise SystemExit(f"unknown embedding model {name!r} (expected {MODEL_NAME} or hashing-N)")


def corpus_texts(*corpus: Path) -> list[str]:
    """The distinct texts the trainer embeds for the ``corpus`` files (``LabelledPaper.text``), in file
    order."""
    try:
        papers = corpus_rows(corpus)
    except ClassifierError as exc:
        raise SystemExit(str(exc)) from None
    return list(dict.fromkeys(paper.text for paper in papers))


def stale(path: Path, model: str, texts: Sequence[str]) -> list[str]:
    """The texts whose vectors ``path`` lacks (all of them when it fails verification: raises)."""
    held = set(read(path, model=model).lookup([text_hash(t) for t in texts]))
    return [t for t in texts if text_hash(t) not in held]


def build(path: Path, embedder: Embedder, texts: Sequence[str], *, dtype: str = "<f2") -> None:
    vectors = embedder.embed(list(texts), progress=True)
    write(path, embedder.name, [text_hash(t) for t in texts], vectors, dtype=dtype)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=MODEL_NAME, help=f"embedding model (default {MODEL_NAME})")
    parser.add_argument("--corpus", type=Path, nargs="+", default=list(TRAINING_FILES),
                        help="labelled JSONL files to embed (default: the shipped corpus)")
    parser.add_argument("--out", type=Path, default=VECTORS_FILE, help="the vectors file")
    parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    parser.add_argument("--check", action="store_true", help="verify --out against --corpus; write nothing")
    args = parser.parse_args(argv)

    texts = corpus_texts(*args.corpus)
    named = " ".join(str(path) for path in args.corpus)
    if args.check:
        try:
            lacking = stale(args.out, args.model, texts)
        except CorpusVectorsError as exc:
            print(f"broken: {exc}", file=sys.stderr)
            return 1
        if lacking:
            print(f"stale: {args.out} lacks {len(lacking)} of {len(texts)} texts of {named}; rebuild "
                  "with python bench/corpus_vectors.py", file=sys.stderr)
            return 1
        print(f"{args.out}: all {len(texts)} texts of {named} ({args.model})")
        return 0
    start = time.perf_counter()
    build(args.out, embedder_for(args.model), texts, dtype="<f2" if args.dtype == "float16" else "<f4")
    size = args.out.stat().st_size
    print(f"wrote {args.out}: {len(texts)} texts, {args.model}, {args.dtype}, {size / 1e6:.2f} MB "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
