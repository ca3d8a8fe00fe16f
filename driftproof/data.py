"""Data sets for the training runs (DESIGN.md §3): noise, teacher, digits.

``noise``: x ~ N(0, I_d) with uniformly random labels, the inputs of the theory (R4-R5).
``teacher``: x ~ N(0, I_d), labels (ce) or regression targets (mse) from a random
tanh teacher MLP, so there is something to learn. ``digits``: scikit-learn's bundled 8x8
handwritten digits (1797 images, no download), standardized with training statistics,
with a stratified held-out split. ``text``: the English documentation that ships with every
Python (``pydoc_data.topics``, ~465,000 characters) as characters; the first 90% trains, the
last 10% is held out; samples are windows of ``input_dim`` (the context) characters and the
targets the same windows shifted by one (next-character prediction). The corpus, split,
vocabulary and held-out windows are fixed: they do not depend on the seed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .errors import InputError

__all__ = ["Dataset", "DATASETS", "make_dataset", "TEACHER_WIDTH", "text_corpus", "encode", "decode", "to_patches"]

DATASETS = ("noise", "teacher", "digits", "text")
TEXT_HELD_OUT = 0.1  # the last tenth of the corpus
TEACHER_WIDTH = 32


@dataclass(frozen=True)
class Dataset:
    """Training and held-out arrays; y is int labels (n,) or float targets (n, K)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    gaussian_inputs: bool  # x ~ N(0, I): the mean-field prediction (R5) applies
    vocab: str | None = None  # text: the characters, in token-id order

    @property
    def input_dim(self) -> int:
        return self.x_train.shape[1]

    def describe(self) -> dict:
        return {"name": self.name, "n_train": len(self.x_train), "n_test": len(self.x_test),
                "input_dim": self.input_dim, "classes": self.classes,
                "targets": "labels" if self.y_train.ndim == 1 else "regression"} | (
                {} if self.vocab is None else {"targets": "next token", "context": self.input_dim,
                                               "vocab_size": len(self.vocab), "source": "pydoc_data.topics"})


def _teacher(rng: np.random.Generator, x: np.ndarray, classes: int, regression: bool) -> np.ndarray:
    """A fixed random 2-layer tanh teacher; regression targets are its standardized outputs."""
    d = x.shape[1]
    w1 = rng.standard_normal((d, TEACHER_WIDTH)) / np.sqrt(d)
    w2 = rng.standard_normal((TEACHER_WIDTH, classes)) / np.sqrt(TEACHER_WIDTH)
    out = np.tanh(x @ w1) @ w2
    if regression:
        return (out - out.mean(axis=0)) / out.std(axis=0)
    return np.argmax(out, axis=1)


def make_dataset(name: str, *, input_dim: int, classes: int, n_train: int, n_test: int,
                 rng: np.random.Generator, regression: bool = False) -> Dataset:
    """The named data set; ``digits`` fixes input_dim = 64 and classes = 10.

    Args:
        regression: teacher only: float targets (n, K) for the MSE losses instead of labels.
    """
    if name not in DATASETS:
        raise InputError(f"data must be one of {', '.join(DATASETS)}, got {name!r}")
    if name == "digits":
        return _digits(rng, n_test)
    if name == "text":
        return _text(input_dim, n_test)
    if n_train < 2 or n_test < 1:
        raise InputError(f"need n_train >= 2 and n_test >= 1, got {n_train} and {n_test}")
    n = n_train + n_test
    x = rng.standard_normal((n, input_dim))
    if name == "noise":
        y = rng.integers(0, classes, n)
    else:
        y = _teacher(rng, x, classes, regression)
    return Dataset(name, x[:n_train], y[:n_train], x[n_train:], y[n_train:], classes, True)


@functools.cache
def _digits_table() -> tuple[np.ndarray, np.ndarray]:
    # The CSV that scikit-learn ships, parsed directly: importing scikit-learn (and the scipy.stats
    # it pulls in) cost ~0.5 s of every verify. Its loader is the fallback if the file moves.
    table = _bundled_digits()
    if table is None:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x, y = bunch.data.astype(float), bunch.target.astype(int)
    else:
        x, y = table[:, :-1].copy(), table[:, -1].astype(int)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _bundled_digits() -> np.ndarray | None:
    """scikit-learn's ``datasets/data/digits.csv.gz`` as a (1797, 65) array (64 pixels, label), found
    without importing scikit-learn; None if it is not where scikit-learn keeps it."""
    import gzip
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rt") as stream:
        values = np.array(stream.read().replace("\n", ",").split(",")[:-1], dtype=float)
    return values.reshape(-1, 65) if values.size % 65 == 0 else None


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (1797 x 64 pixels, labels 0-9), never downloaded (copies)."""
    x, y = _digits_table()
    return x.copy(), y.copy()


def _digits(rng: np.random.Generator, n_test: int) -> Dataset:
    x, y = load_digits_arrays()
    if not 10 <= n_test <= len(x) // 2:
        raise InputError(f"digits: the held-out split must have 10..{len(x) // 2} images, got {n_test}")
    # Stratified split: the same fraction of every class is held out.
    test_index = []
    fraction = n_test / len(x)
    for label in range(10):
        members = rng.permutation(np.flatnonzero(y == label))
        test_index.extend(members[: int(round(fraction * len(members)))])
    test_mask = np.zeros(len(x), bool)
    test_mask[test_index] = True
    train_index = rng.permutation(np.flatnonzero(~test_mask))
    x_train, x_test = x[train_index], x[test_mask]
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0  # always-blank border pixels stay 0
    return Dataset("digits", (x_train - mean) / std, y[train_index], (x_test - mean) / std, y[test_mask], 10, False)


def to_patches(x: np.ndarray, side: int, patch: int) -> np.ndarray:
    """Flattened square images (B, side*side) as (B, tokens, patch*patch), patches in row-major order."""
    batch, k = len(x), side // patch
    return (x.reshape(batch, k, patch, k, patch).transpose(0, 1, 3, 2, 4).reshape(batch, k * k, patch * patch))


@functools.cache
def text_corpus() -> tuple[str, str]:
    """(text, vocabulary): the pydoc topics joined in sorted-key order, and their sorted characters."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[key] for key in sorted(topics))
    return text, "".join(sorted(set(text)))


def encode(text: str, vocab: str) -> np.ndarray:
    """Character ids (uint8 when the vocabulary fits, else int32)."""
    table = {ch: i for i, ch in enumerate(vocab)}
    missing = set(text) - set(table)
    if missing:
        raise InputError(f"characters outside the vocabulary: {''.join(sorted(missing))[:20]!r}")
    return np.array([table[ch] for ch in text], dtype=np.uint8 if len(vocab) <= 256 else np.int32)


def decode(ids, vocab: str) -> str:
    return "".join(vocab[int(i)] for i in ids)


@functools.cache
def _text_ids() -> np.ndarray:
    text, vocab = text_corpus()
    ids = encode(text, vocab)
    ids.flags.writeable = False
    return ids


def _text(context: int, n_test: int) -> Dataset:
    from numpy.lib.stride_tricks import sliding_window_view

    ids = _text_ids()
    split = int(round((1 - TEXT_HELD_OUT) * len(ids)))
    train, held = ids[:split], ids[split:]
    most = (len(held) - 1) // context
    if not 2 <= context <= 4096 or not 1 <= n_test <= most:
        raise InputError(f"text: need a context of 2..4096 and 1..{most} held-out windows, got {context} and {n_test}")
    # every training window (views, no copy); held-out windows evenly spaced and disjoint
    x_train, y_train = sliding_window_view(train[:-1], context), sliding_window_view(train[1:], context)
    starts = np.linspace(0, len(held) - context - 1, n_test).astype(int)[:, None] + np.arange(context)
    return Dataset("text", x_train, y_train, held[starts], held[starts + 1], len(text_corpus()[1]), False,
                   text_corpus()[1])
