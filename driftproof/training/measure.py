"""What a training run logs, as observers of the loop (DESIGN.md §3).

At a logged step t the measurements describe the network *before* update t, on the batch
that update uses: ``L{l}.sign`` is the mean of delta^l over the entries with p^l > 0
(the paper's claim is that it is positive) with its standard error over the batch (a ratio
estimator: entries of one sample are not independent). The last step is always logged.

``L{l}.self`` and ``L{l}.label`` split ``L{l}.sign`` exactly into the part backpropagated from
g(z) and the part from -y (DESIGN.md §2 item D, :mod:`.split`); they add up to ``L{l}.sign``. The self
part takes one extra backward pass; the label part is the step's delta minus it.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..data import Dataset
from .loop import Network, Step
from .split import PARTS, split_deltas

__all__ = ["sign_statistic", "sign_statistics", "layer_columns", "split_columns", "split_metrics", "accuracy",
           "RunMetrics", "LayerSigns", "SplitSigns", "Progress", "sparsity_measures", "SPARSITY_MEASURES", "NEAR_ZERO"]

# Sparsity at the down-projection input h = sigma(p) (the paper's place), three ways (issue 22 item 3):
# ``zero``: exact zeros (the paper's measure; 0 by construction for GELU/SiLU, and for GELU^2 at large
# |p| an artefact of float underflow: GELU(p) is exactly 0.0 in float64 below p ~ -38); ``nonpos``: the
# fraction of pre-activations p <= 0 (independent of sigma and of floating point); ``near_zero``: the
# fraction of |h| < NEAR_ZERO x RMS(h) over the layer's entries, a scale-free "effectively off" that
# counts an underflowed 0.0 and a 1e-30 alike, so it does not depend on where float64 runs out.
NEAR_ZERO = 0.05
SPARSITY_MEASURES = ("zero", "nonpos", "near_zero")


def sparsity_measures(p: np.ndarray, h: np.ndarray) -> dict[str, float]:
    """The fractions ``zero`` (h == 0), ``nonpos`` (p <= 0) and ``near_zero`` (|h| < NEAR_ZERO RMS(h)) of one
    layer's entries; ``near_zero`` is NaN where h is all zero or not finite (no scale to be relative to)."""
    h64 = np.asarray(h, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        rms = float(np.sqrt(np.mean(h64 * h64)))
    near = float(np.mean(np.abs(h64) < NEAR_ZERO * rms)) if math.isfinite(rms) and rms > 0 else math.nan
    return {"zero": _mean(h == 0), "nonpos": _mean(np.asarray(p) <= 0), "near_zero": near}

# The training rows log every step of 12 small runs (~1,200 steps in verify): these helpers compute the
# same numbers as numpy's mean and the textbook statistic, bit for bit, without their per-call overhead.


def sign_statistic(delta: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(mean of delta over entries with p > 0, its standard error over the batch).

    The ratio estimator R = sum_n a_n / sum_n c_n with a_n = sum_i delta_ni [p_ni > 0] and
    c_n = #{i: p_ni > 0}; its delta-method standard error treats samples as independent.
    """
    return sign_statistics((delta,), p)[0]


def sign_statistics(deltas, p: np.ndarray) -> list[tuple[float, float]]:
    """:func:`sign_statistic` of each delta in ``deltas`` on the same pre-activations ``p`` (the mask and
    the counts computed once: the full delta and its self and label parts share them)."""
    mask = p > 0
    c = mask.sum(axis=1).astype(np.float64)
    total = c.sum()
    if total == 0:
        return [(math.nan, math.nan)] * len(deltas)
    n = len(c)
    out = []
    for delta in deltas:
        a = np.where(mask, delta, 0.0).sum(axis=1, dtype=np.float64)
        ratio = a.sum() / total
        if n < 2:
            out.append((float(ratio), math.nan))
            continue
        resid = a - ratio * c
        out.append((float(ratio), math.sqrt(float(resid @ resid) / (n * (n - 1))) / (total / n)))
    return out


def layer_columns(depth: int, extra: tuple[str, ...] = ()) -> list[str]:
    """The metric column names, in order (``extra``: more per layer, named by the architecture)."""
    cols = ["step", "lr", "loss", "acc", "train_loss", "train_acc", "test_loss", "test_acc"]
    for layer in range(1, depth + 1):
        cols += [f"L{layer}.{k}" for k in ("sign", "sign_se", "w_mean", "b_mean", "w_grad", "b_grad",
                                           "zero_frac", "nonpos_frac")]
        cols += [f"L{layer}.{k}" for k in extra]
    return cols + ["out.w_mean", "out.b_mean", "out.w_grad", "out.b_grad"] + split_columns(depth)


def split_columns(depth: int) -> list[str]:
    """The columns of the self/label split per layer: each part of the sign statistic and its batch SE."""
    return [f"L{layer}.{part}{suffix}" for layer in range(1, depth + 1) for part in PARTS for suffix in ("", "_se")]


def split_metrics(net: Network, loss, step: Step) -> dict[str, float]:
    """The split columns at one step: the mean of each part of delta^l over entries with p^l > 0, with its SE.

    One extra backward pass on the step's batch (the cache still holds its forward): the self part's; the
    label part is the step's delta minus it. NaN for a
    network without ``backward(dz)``: the split needs the backward of an arbitrary output gradient.
    """
    return _signs(net, loss, step, full=False)


def _signs(net: Network, loss, step: Step, *, full: bool) -> dict[str, float]:
    """Per layer the sign statistics of the self and label parts of delta (NaN for a network without
    ``backward(dz)``) and, with ``full``, of delta itself (``L{l}.sign``), each with its batch SE."""
    split = hasattr(net, "backward")
    # one backward pass (the self part); the label part is the step's delta minus it
    parts = split_deltas(net, loss, step.z, step.y, full=step.back.deltas) if split else None
    out = {} if split else {name: math.nan for name in split_columns(net.depth)}
    for layer in range(1, net.depth + 1):
        names, deltas = [], []
        if full:
            names.append("sign")
            deltas.append(step.back.deltas[layer - 1])
        if split:
            names += PARTS
            deltas += [part[layer - 1] for part in parts]
        for name, (value, se) in zip(names, sign_statistics(deltas, net.cache["p"][layer - 1])):
            out[f"L{layer}.{name}"], out[f"L{layer}.{name}_se"] = value, se
    return out


def accuracy(z: np.ndarray, y: np.ndarray) -> float:
    """Fraction of argmax(z) equal to the label (or to argmax of a regression target)."""
    truth = y if y.ndim == 1 else np.argmax(y, axis=1)
    return _mean(np.argmax(z, axis=1) == truth)


def _mean(array: np.ndarray) -> float:
    """float(array.mean(dtype=float64)), the same bits (numpy's mean is this sum and division)."""
    return float(np.add.reduce(array, axis=None, dtype=np.float64) / array.size)


def _layer_metrics(net: Network, step: Step, layer: int) -> dict[str, float]:
    """The layer's columns but the sign statistics (weights, biases, their gradients, sparsity)."""
    P, grads = net.params, step.back.grads
    w, b = net.layer_params(layer)
    p, h = net.cache["p"][layer - 1], net.cache["h"][layer - 1]
    key = f"L{layer}"
    out = {f"{key}.w_mean": _mean(P[w]), f"{key}.b_mean": _mean(P[b]), f"{key}.w_grad": _mean(grads[w]),
           f"{key}.b_grad": _mean(grads[b]), f"{key}.zero_frac": _mean(h == 0), f"{key}.nonpos_frac": _mean(p <= 0)}
    if f"U{layer}" in P:
        out[f"{key}.u_mean"] = _mean(P[f"U{layer}"])
    return out


class RunMetrics:
    """The metric columns of ``layer_columns`` at every ``log_every``-th step and the last.

    At logged steps that are also every ``eval_every``-th (or the last), the loss and
    accuracy on the held-out set and on as many training samples are added.
    """

    def __init__(self, names: list[str], loss, data: Dataset, *, log_every: int, eval_every: int):
        self.names, self.loss, self.data = names, loss, data
        self.log_every, self.eval_every = log_every, eval_every
        self.rows: list[dict[str, float]] = []

    def observe(self, step: Step, net: Network) -> None:
        if not (step.t % self.log_every == 0 or step.last):
            return
        row = {"step": step.t, "lr": step.lr, "loss": step.loss, "acc": accuracy(step.z, step.y)}
        for layer in range(1, net.depth + 1):
            row.update(_layer_metrics(net, step, layer))
        P, grads = net.params, step.back.grads
        row.update({"out.w_mean": _mean(P["V"]), "out.b_mean": _mean(P["c"]), "out.w_grad": _mean(grads["V"]),
                    "out.b_grad": _mean(grads["c"])})
        row.update(_signs(net, self.loss, step, full=True))  # the sign of every layer and its split
        if step.t % self.eval_every == 0 or step.last:  # after the layer metrics: a forward overwrites the cache
            row.update(self._evaluate(net))
        self.rows.append(row)

    def _evaluate(self, net: Network) -> dict[str, float]:
        data = self.data
        train = slice(0, min(len(data.x_train), len(data.x_test)))
        out = {}
        for prefix, xs, ys in (("train", data.x_train[train], data.y_train[train]), ("test", data.x_test, data.y_test)):
            z = net.forward(xs)
            out[f"{prefix}_loss"] = float(self.loss.value(z.astype(float), ys).mean())
            out[f"{prefix}_acc"] = accuracy(z, ys)
        return out

    def columns(self) -> dict[str, np.ndarray]:
        return {name: np.array([row.get(name, math.nan) for row in self.rows], float) for name in self.names}


class LayerSigns:
    """The sign statistic of every layer at each step it sees (e.g. t = 0 only)."""

    def __init__(self):
        self.signs: list[list[float]] = []

    def observe(self, step: Step, net: Network) -> None:
        self.signs.append([sign_statistic(step.back.deltas[i], net.cache["p"][i])[0] for i in range(net.depth)])


class SplitSigns:
    """The self and label parts of every layer's sign statistic at each step it sees (e.g. t = 0 only)."""

    def __init__(self, loss):
        self.loss = loss
        self.rows: list[dict[str, float]] = []

    def observe(self, step: Step, net: Network) -> None:
        self.rows.append(split_metrics(net, self.loss, step))

    def by_layer(self, depth: int) -> dict[str, dict[str, list[float]]]:
        """layer -> part -> its value at each step seen (one per network when each network is seen once)."""
        return {f"L{layer}": {part: [row[f"L{layer}.{part}"] for row in self.rows] for part in PARTS}
                for layer in range(1, depth + 1)}


class Progress:
    """Calls ``tick(1)`` for every step followed by an update (a progress bar)."""

    def __init__(self, tick: Callable[[int], None]):
        self.tick = tick

    def observe(self, step: Step, net: Network) -> None:
        if not step.last:
            self.tick(1)
