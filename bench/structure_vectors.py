"""Embed the blocks of ``bench/structure_experiment.py`` (title, contribution sentences, abstract halves) with
the real all-MiniLM-L6-v2 and write them to /tmp/ms/blocks.npz (about 3 minutes on two cores). Run by hand;
the mean2/mean3 blocks were added to the file afterwards (see ``structure_designs``).
"""
import hashlib
import re
import time

import numpy as np

from classifier.corpus import training_corpus
from classifier.embed import SentenceTransformerEmbedder

SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
CONTRIB = re.compile(r"\bwe (?:propose|introduce|present)|\bthis paper\b|\bin this (?:work|paper)\b", re.I)

def sentences(abstract):
    return [s for s in SENT.split(" ".join((abstract or "").split())) if s.strip()]

def blocks(p):
    title = " ".join(p.title.split())
    ss = sentences(p.abstract)
    hits = [s for s in ss if CONTRIB.search(s)]
    contrib = " ".join(hits[:2]) if hits else ""
    half = (len(ss) + 1) // 2
    first, second = " ".join(ss[:half]), " ".join(ss[half:])
    return {"title": title, "contrib": contrib, "first": first, "second": second}

papers = training_corpus()
texts = [blocks(p) for p in papers]
emb = SentenceTransformerEmbedder(batch_size=32)
out = {"hashes": np.array([hashlib.sha256(p.text.encode()).hexdigest() for p in papers], dtype="S64")}
for key in ("title", "contrib", "first", "second"):
    t0 = time.time()
    col = [b[key] for b in texts]
    present = [i for i, s in enumerate(col) if s]
    v = np.zeros((len(col), 384), dtype=np.float32)
    v[present] = emb.embed([col[i] for i in present])
    out[key] = v
    print(key, len(present), f"{time.time()-t0:.0f}s", flush=True)
np.savez("/tmp/ms/blocks.npz", **out)
