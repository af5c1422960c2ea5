"""Which way an item points: problem-worded, wellbeing-worded, or unclear.

An item's direction says what endorsing it more means: `PROBLEM` (more of a symptom, difficulty
or risk), `WELLBEING` (better functioning, a strength), or `UNCLEAR` (no direction, or one the
model cannot tell with confidence). Two items need reverse-coding only when both have a direction
and the directions differ; `UNCLEAR` is said as such, never guessed.

The model is a multinomial logistic regression (problem / wellbeing / other) over the item's
multilingual-e5 vector, so one set of weights reads every language the matcher reads. It is
trained on the tune half of `bench/direction/items.tsv` by `bench/direction/train.py`, which
writes `direction.npz` beside this file. A class is given only above its confidence threshold,
and above a higher one when the item carries a negation word: the model reads "I rarely feel
angry" much like "I often feel angry" (out of fold on the tune half, a class given at probability
>= 0.9 was right for 89% of such items and 95% of the others; `bench/direction/train.py
--dry-run`). The thresholds were chosen on the tune half so that reverse-code flags between
confident items are right at least 92% of the time there; `bench/direction/evaluate.py` prints
the figures on both halves (check half: 0.936 precision, 0.046 recall: most pairs are unclear).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from discovery.errors import DiscoveryError
from discovery.harmonise.polarity import negations

PROBLEM, UNCLEAR, WELLBEING = -1, 0, 1
CLASSES = ("problem", "wellbeing", "other")  # the model's outputs, in column order
MODEL_FILE = Path(__file__).with_name("direction.npz")


@dataclass(frozen=True)
class DirectionModel:
    """Weights and confidence thresholds; `encoder` names the embedder its vectors come from."""

    encoder: str
    weights: np.ndarray  # (dim + 1) x len(CLASSES); the last row is the bias
    problem_threshold: float
    wellbeing_threshold: float
    negated_threshold: float  # the least confidence for an item with a negation word

    @property
    def dim(self) -> int:
        return self.weights.shape[0] - 1

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """One row per item: the probability of each of CLASSES."""
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"direction model expects {self.dim}-dimensional {self.encoder} vectors, "
                             f"got shape {vectors.shape}")
        return softmax(vectors.astype(np.float64) @ self.weights[:-1] + self.weights[-1])

    def directions(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """PROBLEM, WELLBEING or UNCLEAR per item (int8), from its text and its vector."""
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        if not len(texts):
            return np.zeros(0, np.int8)
        return self.decide(self.probabilities(vectors), negated(texts))

    def decide(self, probabilities: np.ndarray, negated: np.ndarray) -> np.ndarray:
        """Directions from class probabilities: the likeliest class where its probability reaches
        its threshold (and the negated one, for items with a negation word), else UNCLEAR."""
        best = probabilities.argmax(1)
        confidence = probabilities.max(1)
        needed = np.where(best == 0, self.problem_threshold, self.wellbeing_threshold)
        needed = np.where(negated, np.maximum(needed, self.negated_threshold), needed)
        sure = (best < 2) & (confidence >= needed)
        return np.where(sure, np.where(best == 0, PROBLEM, WELLBEING), UNCLEAR).astype(np.int8)

    def save(self, path: Path, **provenance: str) -> None:
        """Write the model; `provenance` (training data, settings) is stored beside the weights."""
        np.savez(path, encoder=self.encoder, weights=self.weights.astype(np.float32),
                 thresholds=np.array([self.problem_threshold, self.wellbeing_threshold,
                                      self.negated_threshold]),
                 provenance=np.array(sorted(f"{key}={value}" for key, value in provenance.items())))

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> DirectionModel:
        try:
            with np.load(path, allow_pickle=False) as stored:
                encoder = str(stored["encoder"])
                weights = stored["weights"].astype(np.float64)
                problem, wellbeing, negated = (float(t) for t in stored["thresholds"])
        except FileNotFoundError:
            raise DiscoveryError("direction model not found", file=str(path),
                                 hint="run `python bench/direction/train.py` to write it") from None
        except (KeyError, ValueError, OSError) as error:
            raise DiscoveryError(f"unreadable direction model: {error}", file=str(path),
                                 hint="run `python bench/direction/train.py` to rewrite it") from None
        if weights.ndim != 2 or weights.shape[1] != len(CLASSES):
            raise DiscoveryError(f"direction weights have shape {weights.shape}, expected (dim + 1, "
                                 f"{len(CLASSES)})", file=str(path),
                                 hint="run `python bench/direction/train.py` to rewrite it")
        return cls(encoder, weights, problem, wellbeing, negated)


@lru_cache(maxsize=1)
def shipped_model() -> DirectionModel:
    """The model that ships with the package, loaded once per process."""
    return DirectionModel.load()


def negated(texts: Sequence[str]) -> np.ndarray:
    """Whether each text carries a negation word (bool per text)."""
    return np.array([negations(text) > 0 for text in texts], dtype=bool)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(1, keepdims=True))
    return shifted / shifted.sum(1, keepdims=True)


def fit(vectors: np.ndarray, labels: np.ndarray, penalty: float, iterations: int = 50) -> np.ndarray:
    """Multinomial logistic regression by Newton's method with an L2 penalty on the weights (not
    the bias): (dim + 1) x classes. Newton suits the size (a few hundred features, a thousand
    items) and, unlike gradient descent, gives the same weights on every run."""
    n, dim = vectors.shape
    classes = int(labels.max()) + 1
    x = np.hstack([vectors.astype(np.float64), np.ones((n, 1))])
    targets = np.eye(classes)[labels]
    weights = np.zeros((dim + 1, classes))
    ridge = np.full(dim + 1, penalty)
    ridge[-1] = 1e-8  # keeps the Hessian invertible without pulling the bias to zero
    for _ in range(iterations):
        p = softmax(x @ weights)
        gradient = x.T @ (p - targets) + ridge[:, None] * weights
        hessian = np.empty((classes, dim + 1, classes, dim + 1))
        for a in range(classes):
            for b in range(a, classes):
                block = (x * (p[:, a] * ((a == b) - p[:, b]))[:, None]).T @ x
                hessian[a, :, b, :] = block
                hessian[b, :, a, :] = block.T
        size = classes * (dim + 1)
        hessian = hessian.reshape(size, size) + np.diag(np.tile(ridge, classes))
        step = np.linalg.solve(hessian, gradient.T.reshape(-1)).reshape(classes, dim + 1).T
        weights -= step
        if np.abs(step).max() < 1e-7:
            break
    return weights
