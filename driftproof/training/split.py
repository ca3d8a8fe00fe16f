"""The self/label split of delta (DESIGN.md §2 item D): why the sign of E[delta | p > 0] fades in training.

Backpropagation is linear in the output gradient ``dl/dz = g(z) - y`` (cross-entropy:
``g = softmax(z)``, ``y`` one-hot; MSE: ``g = s z``, label part ``-s y`` with ``s`` = 1 or 1/K).
So every ``delta^l`` is exactly a *self* part (backpropagated from ``g(z)``; the part the
theorem is about, positive in expectation on ``p > 0`` at init) plus a *label* part
(backpropagated from ``-y``; zero mean at init because the readout is independent of the labels).
The split is computed with the network's own ``backward(dz)`` called on each part, so it needs
no change to the network: the deltas are read off the two extra backward passes. The columns and the
observer that log the split live in :mod:`.measure`.

The sign statistic is linear in delta with a denominator (the count of ``p > 0``) that does not
depend on delta, so ``self + label`` equals the full statistic up to rounding.
"""

from __future__ import annotations

import numpy as np

from .loop import Network

__all__ = ["PARTS", "output_gradient_split", "split_deltas", "crossover_step", "first_windowed_negative",
           "CROSSOVER_WINDOW"]

PARTS = ("self", "label")
CROSSOVER_WINDOW = 10  # logged steps averaged before "label overtakes self" is declared


def _targets(y: np.ndarray, classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2:
        return y.astype(np.float64)
    out = np.zeros((len(y), classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def output_gradient_split(loss, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(g(z), -s y): the two parts of ``loss.grad(z, y)`` per sample, shape (n, K) each (:meth:`Loss.split`).

    Cross-entropy: ``softmax(z)`` and ``-onehot(y)``. MSE: ``s z`` and ``-s y`` with the loss's
    output scale ``s`` (1, or 1/K for the mean reduction); ``y`` may be real targets (n, K).
    """
    return loss.split(z, y)


def split_deltas(net: Network, loss, z: np.ndarray, y: np.ndarray, full: list[np.ndarray] | None = None
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per hidden layer, the self and the label part of delta^l per sample.

    With ``full`` (the step's own deltas, backpropagated from the whole dl/dz), one backward pass: the
    self part's, and the label part is ``full - self`` (backpropagation is linear in dl/dz, so this equals
    the label part's own backward up to rounding; ``tests/training/test_split.py`` checks it). Without,
    two backward passes, one per part (the reference). Needs ``net.backward(dz)`` after a forward on the
    batch (the loop's step leaves the cache so).
    """
    parts = output_gradient_split(loss, z, y)
    dtype = net.params["V"].dtype
    if full is not None:
        self_part = net.backward(parts[0].astype(dtype)).deltas
        return self_part, [whole - mine for whole, mine in zip(full, self_part)]
    self_part, label_part = (net.backward(part.astype(dtype)).deltas for part in parts)
    return self_part, label_part


def _windowed_means(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the finite values over the last ``window`` entries (fewer at the start); NaN if none."""
    values = np.asarray(values, float)
    finite = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    upper = np.arange(1, len(values) + 1)
    lower = np.maximum(0, upper - max(1, int(window)))
    n = counts[upper] - counts[lower]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[upper] - sums[lower]) / np.maximum(n, 1), np.nan)


def first_windowed_negative(steps: np.ndarray, values: np.ndarray, window: int = CROSSOVER_WINDOW) -> int | None:
    """The first logged step at which the mean of ``values`` over the last ``window`` logged steps is below 0."""
    below = np.flatnonzero(_windowed_means(values, window) < 0)
    return int(steps[below[0]]) if len(below) else None


def crossover_step(steps: np.ndarray, self_part: np.ndarray, label_part: np.ndarray,
                   window: int = CROSSOVER_WINDOW) -> int | None:
    """The first logged step at which the label part has overtaken the self part, or None (never in the run).

    Overtaken: over the last ``window`` logged steps (fewer at the start), the mean of the label
    part is negative and larger in size than the mean of the self part; from then on the full sign
    statistic (their sum) is negative because of the labels. A trailing window rather than one
    step because one batch's statistic is noisy, and rather than the running mean from t = 0
    (``first_negative_running_mean``), which lags by the whole positive past.
    """
    mean_self, mean_label = _windowed_means(self_part, window), _windowed_means(label_part, window)
    with np.errstate(invalid="ignore"):
        over = np.flatnonzero((mean_label < 0) & (-mean_label > np.abs(mean_self)))
    return int(steps[over[0]]) if len(over) else None
