"""Fine-tune all-MiniLM-L6-v2 on the labelled corpus, once, and embed with the tuned encoder.

Runs before the first classification that asks for the tuned model (``classifier.embedding_model =
"all-MiniLM-L6-v2-tuned"``, the default). Reads the bundled base weights and the labelled papers; writes one
directory per corpus under the configured cache (``classifier.tuned_dir``), atomically, and never touches
the database. Tuning the whole encoder with a five-label head, on title + abstract, is what lifts section
accuracy most (``bench/tune_eval.py`` prints the figures); it costs minutes on a CPU, so it runs once per
corpus and encoder settings, and the directory name is a hash of both (``tuned_key``): a changed corpus
gets a new encoder, an unchanged one is reused. The fast model in ``classifier.model`` learns from the
maintainers' decisions on top of it every run.

The head is linear on the unit-length sentence vector, so its probabilities come from the stored vectors
alone (``TunedEmbedder.head_probabilities``): classifying never runs the encoder twice.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ClassifierError
from classifier.embed import DEFAULT_BATCH_SIZE, MODEL_DIM, MODEL_NAME, base_model_path
from classifier.labels import LABEL_VALUES

log = logging.getLogger(__name__)

TUNED_NAME = f"{MODEL_NAME}-tuned"
TUNE_VERSION = "tune-1"  # bump when the recipe below changes: it is part of every tuned encoder's key
HEAD_FILE = "head.npz"
HEAD_SCALE = 20.0  # the head sees 20 x the unit vector: cosine-style logits with room to be confident


@dataclass(frozen=True)
class TuneRecipe:
    """How the encoder is tuned (every field is part of the cache key)."""

    max_seq_length: int = 128  # tokens of title + abstract read; 256 costs 2.3x the time for no gain
    epochs: int = 3
    batch_size: int = 16
    encoder_lr: float = 3e-5
    head_lr: float = 1e-3
    warmup: float = 0.1  # share of the steps with a linearly rising learning rate, then a linear decay
    weight_decay: float = 0.01


def tuned_key(texts: Sequence[str], labels: Sequence[str], recipe: TuneRecipe, seed: int) -> str:
    """A short hash of the recipe, the seed and every (text, label) the encoder is tuned on."""
    digest = hashlib.sha256(f"{TUNE_VERSION}\0{recipe}\0{seed}".encode())
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"\0{text}\0{label}".encode())
    return digest.hexdigest()[:12]


def _class_weights(labels: np.ndarray) -> np.ndarray:
    """Square-root balanced weights: rare labels count more, without drowning the 1,400 irrelevant rows."""
    counts = np.bincount(labels, minlength=len(LABEL_VALUES)).astype(np.float64)
    present = counts > 0
    weights = np.ones(len(LABEL_VALUES))
    weights[present] = np.sqrt(counts.sum() / (present.sum() * counts[present]))
    return weights


def tune(texts: Sequence[str], labels: Sequence[str], out_dir: Path, *, recipe: TuneRecipe = TuneRecipe(),
         seed: int = 0, progress: Callable[[int, int], None] | None = None) -> None:
    """Fine-tune the base encoder with a linear five-label head and save both to ``out_dir`` atomically.

    Deterministic for a seed on a given machine and thread count (seeded shuffles and dropout).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    if len(texts) != len(labels) or not texts:
        raise ClassifierError("tuning needs labelled texts")
    y = np.array([LABEL_VALUES.index(label) for label in labels])
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SentenceTransformer(base_model_path(), device="cpu")
    model.max_seq_length = recipe.max_seq_length
    head = torch.nn.Linear(MODEL_DIM, len(LABEL_VALUES))
    optimiser = torch.optim.AdamW(
        [{"params": model.parameters(), "lr": recipe.encoder_lr},
         {"params": head.parameters(), "lr": recipe.head_lr}],
        weight_decay=recipe.weight_decay)
    batches = -(-len(texts) // recipe.batch_size)
    total = recipe.epochs * batches

    def rate(step: int) -> float:
        return min(1.0, (step + 1) / max(recipe.warmup * total, 1.0)) * max(0.0, (total - step) / total)

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    class_weights = torch.tensor(_class_weights(y), dtype=torch.float32)
    model.train()
    step = 0
    for _ in range(recipe.epochs):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), recipe.batch_size):
            batch = order[start:start + recipe.batch_size]
            features = model.preprocess([texts[i] for i in batch])
            vectors = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
            loss = torch.nn.functional.cross_entropy(head(vectors * HEAD_SCALE), torch.tensor(y[batch]),
                                                     weight=class_weights)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if progress:
                progress(step, total)
    model.eval()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model.save(str(staging))
        np.savez(staging / HEAD_FILE, weight=head.weight.detach().numpy().astype(np.float32),
                 bias=head.bias.detach().numpy().astype(np.float32), labels=np.array(LABEL_VALUES))
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@dataclass(frozen=True)
class Head:
    """The tuned linear head: five-label probabilities from unit-length tuned vectors."""

    weight: np.ndarray  # (5, dim)
    bias: np.ndarray  # (5,)
    key: str = ""  # the tuned encoder's key: part of the model version

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = (np.asarray(vectors, dtype=np.float64) * HEAD_SCALE) @ self.weight.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


def load_head(directory: Path) -> Head:
    with np.load(directory / HEAD_FILE) as data:
        if [str(label) for label in data["labels"]] != list(LABEL_VALUES):
            raise ClassifierError(f"{directory}: the tuned head's labels do not match this version")
        return Head(weight=data["weight"].astype(np.float64), bias=data["bias"].astype(np.float64),
                    key=directory.name)


class TunedEmbedder:
    """Embeds with the encoder tuned on a labelled corpus; tunes it first if the cache has none.

    ``name`` carries the corpus key, so vectors of different tunings never mix in the database.
    """

    def __init__(self, texts: Sequence[str], labels: Sequence[str], cache_dir: Path | str, *,
                 recipe: TuneRecipe = TuneRecipe(), seed: int = 0,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.recipe = recipe
        self.seed = seed
        self.key = tuned_key(texts, labels, recipe, seed)
        self.name = f"{TUNED_NAME}@{self.key}"
        self.dim = MODEL_DIM
        self.directory = Path(cache_dir).expanduser() / self.key
        self.batch_size = batch_size
        self._texts = list(texts)
        self._labels = list(labels)
        self._model: Any = None
        self._head: Head | None = None

    @property
    def ready(self) -> bool:
        return (self.directory / HEAD_FILE).is_file()

    def ensure(self, *, progress: Callable[[int, int], None] | None = None) -> None:
        """Tune now unless the cache already holds this corpus's encoder."""
        if self.ready:
            return
        try:
            self.directory.parent.mkdir(parents=True, exist_ok=True)  # fail before minutes of work
            # A warning, so that the one slow run says why it is slow even without -v.
            log.warning("tuning %s on %d labelled papers: minutes on a CPU, once per corpus (kept in %s)",
                        MODEL_NAME, len(self._texts), self.directory)
            tune(self._texts, self._labels, self.directory, recipe=self.recipe, seed=self.seed,
                 progress=progress)
        except OSError as exc:
            raise ClassifierError(f"cannot write the tuned encoder to {self.directory}: "
                                  f"{exc.strerror or exc}") from exc

    @property
    def head(self) -> Head:
        if self._head is None:
            self.ensure()
            self._head = load_head(self.directory)
        return self._head

    @property
    def model(self) -> Any:
        if self._model is None:
            self.ensure()
            from sentence_transformers import SentenceTransformer

            from classifier.embed import quiet_loading

            quiet_loading()
            self._model = SentenceTransformer(str(self.directory), device="cpu")
            self._model.max_seq_length = self.recipe.max_seq_length
        return self._model

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size,
                                    show_progress_bar=progress and sys.stderr.isatty(),
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
