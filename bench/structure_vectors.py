"""Embed the blocks of ``bench/structure_experiment.py`` (title, contribution sentences, abstract halves) with
the real all-MiniLM-L6-v2 and write them to /tmp/ms/blocks.npz (about 3 minutes on two cores), with the
two means ``structure_designs`` reads instead of the shipped vector. Run by hand.
"""
from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import numpy as np

from classifier.corpus import training_corpus
from classifier.corpus_vectors import read
from classifier.embed import SentenceTransformerEmbedder

SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
CONTRIB = re.compile(r"\bwe (?:propose|introduce|present)|\bthis paper\b|\bin this (?:work|paper)\b", re.I)

def sentences(abstract: str | None) -> list[str]:
    return [s for s in SENT.split(" ".join((abstract or "").split())) if s.strip()]

def blocks(p) -> dict[str, str]:  # type: ignore[no-untyped-def]
    title = " ".join(p.title.split())
    ss = sentences(p.abstract)
    hits = [s for s in ss if CONTRIB.search(s)]
    contrib = " ".join(hits[:2]) if hits else ""
    half = (len(ss) + 1) // 2
    first, second = " ".join(ss[:half]), " ".join(ss[half:])
    return {"title": title, "contrib": contrib, "first": first, "second": second}

def unit(v: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.where(norms > 0, norms, 1)).astype(np.float32)


def main() -> None:
    papers = training_corpus()
    texts = [blocks(p) for p in papers]
    emb = SentenceTransformerEmbedder(batch_size=32)
    hashes = [hashlib.sha256(p.text.encode()).hexdigest() for p in papers]
    out = {"hashes": np.array(hashes, dtype="S64")}
    for key in ("title", "contrib", "first", "second"):
        t0 = time.time()
        col = [b[key] for b in texts]
        present = [i for i, s in enumerate(col) if s]
        v = np.zeros((len(col), 384), dtype=np.float32)
        v[present] = emb.embed([col[i] for i in present])
        out[key] = v
        print(key, len(present), f"{time.time()-t0:.0f}s", flush=True)
    found = read().lookup(hashes)
    shipped = np.stack([found[h] for h in hashes]).astype(np.float32)
    out["mean2"] = unit(shipped + out["second"])  # the shipped vector and the abstract's second half
    out["mean3"] = unit(out["title"] + out["first"] + out["second"])
    Path("/tmp/ms").mkdir(parents=True, exist_ok=True)
    np.savez("/tmp/ms/blocks.npz", **out)


if __name__ == "__main__":
    main()
