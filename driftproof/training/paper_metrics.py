"""The paper's metrics for the transformers, as an observer of the one loop (DESIGN.md §3, issue 15).

At every logged step, on the step's batch (as :mod:`driftproof.training.measure` does for the MLPs):
``L{l}.sign``/``sign_se`` — E[delta | p > 0] at the MLP hidden pre-activations of block l, a
sample being a sequence (GPT) or an image (ViT); ``L{l}.w_mean`` — the up-projection's mean
(``b_mean`` is NaN: no biases); ``zero_frac``/``nonpos_frac``; and of every block matrix M its
mean ``L{l}.M.mean`` and fraction of negative entries ``L{l}.M.neg_frac`` (the paper's drift).

At every evaluation step, over a *fixed* held-out set (the paper takes one batch and averages
over layers; here per layer, over all held-out samples): ``test_loss``/``test_acc`` (tokens for
the GPT), the same on as many fixed training samples, ``L{l}.val_zero_frac`` — exact zeros at
the down-projection input (the paper's sparsity) — and for every linear layer's input X
(``qkv_in``, ``wo_in``, ``up_in``, ``down_in``, and ``head_in``) ``.max``, ``.min`` and
``.max_med`` = max|X| / median of the nonzero |X|: the spikes.
"""

from __future__ import annotations

import math

import numpy as np

from ..data import Dataset
from ..spikes import spike_stats as layer_spike_stats
from ..transformer import MATRICES
from .loop import Network, Step
from .measure import sign_statistic, split_columns
from .split import PARTS, output_gradient_split

__all__ = ["INPUTS", "transformer_columns", "transformer_split", "TransformerMetrics", "spike_stats", "token_accuracy"]

INPUTS = ("qkv_in", "wo_in", "up_in", "down_in")  # per block; the head's input is "head_in"
EVAL_CHUNK = 64  # held-out samples per forward


def transformer_columns(depth: int) -> list[str]:
    """The metric column names, in order (the MLPs' names where the meaning is the same)."""
    cols = ["step", "lr", "loss", "acc", "train_loss", "train_acc", "test_loss", "test_acc"]
    for layer in range(1, depth + 1):
        key = f"L{layer}"
        cols += [f"{key}.{k}" for k in ("sign", "sign_se", "w_mean", "b_mean", "w_grad", "b_grad", "zero_frac",
                                        "nonpos_frac", "val_zero_frac")]
        cols += [f"{key}.{m}.{s}" for m in MATRICES for s in ("mean", "neg_frac")]
        cols += [f"{key}.{x}.{s}" for x in INPUTS for s in ("max", "min", "max_med")]
    return cols + ["out.w_mean", "out.b_mean", "out.w_grad", "out.b_grad", "out.neg_frac", "head_in.max",
                   "head_in.min", "head_in.max_med"] + split_columns(depth)


def transformer_split(net: Network, loss, step: Step) -> dict[str, float]:
    """The self and label parts of the sign statistic at every block's MLP (DESIGN.md §2 item D).

    One extra backward pass of the step's batch for the label part of dl/dz = g(z) - y, scaled as
    in ``loss_and_backward`` (the batch-mean over rows, then δ of the per-sample loss); the self
    part is the step's δ minus it (backpropagation is linear in dl/dz; the two-pass version is
    checked against this one by the tests). Runs before any other forward overwrites the cache.
    """
    targets = np.asarray(step.y).reshape(-1)
    batch, rows = len(step.x), len(targets)
    _, label_part = output_gradient_split(loss, step.z, targets)
    label = [d * batch for d in net.backward((label_part / rows).astype(net.dtype))[1]]
    out = {}
    for layer in range(1, net.depth + 1):
        p, full = net.cache["p"][layer - 1], step.back.deltas[layer - 1]
        for part, deltas in zip(PARTS, (full - label[layer - 1], label[layer - 1])):
            out[f"L{layer}.{part}"], out[f"L{layer}.{part}_se"] = sign_statistic(deltas, p)
    return out


def spike_stats(values: np.ndarray) -> dict[str, float]:
    """max, min and the spike statistic max|x| / median|x| over the nonzero entries (the sweep's one
    definition, :func:`driftproof.spikes.spike_stats`: after a ReLU more than half the entries are
    often exactly 0); NaN ratio without a nonzero entry."""
    return {"max": float(values.max()), "min": float(values.min()),
            "max_med": layer_spike_stats(values)["max_over_median"]}


def _mean(array: np.ndarray) -> float:
    return float(array.mean(dtype=np.float64))


def token_accuracy(z: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of z whose argmax is the target (a token for the GPT, a label for the ViT)."""
    return float(np.mean(np.argmax(z, axis=1) == np.asarray(y).reshape(-1)))


def _head(net: Network) -> str:
    """The readout matrix: an untied head when there is one, else the tied token embedding."""
    return "head" if "head" in net.params else "wte"


class TransformerMetrics:
    """The columns of :func:`transformer_columns` at every ``log_every``-th step and the last."""

    def __init__(self, names: list[str], loss, data: Dataset, *, log_every: int, eval_every: int):
        self.names, self.loss, self.data = names, loss, data
        self.log_every, self.eval_every = log_every, eval_every
        # a fixed, evenly spaced set of training samples, as many as held out (consecutive text windows overlap)
        count = min(len(data.x_train), len(data.x_test))
        self.train_index = np.linspace(0, len(data.x_train) - 1, count).astype(int)
        self.rows: list[dict[str, float]] = []

    def observe(self, step: Step, net: Network) -> None:
        if not (step.t % self.log_every == 0 or step.last):
            return
        P, grads = net.params, step.back.grads
        row = {"step": step.t, "lr": step.lr, "loss": step.loss, "acc": token_accuracy(step.z, step.y)}
        for layer in range(1, net.depth + 1):
            key, up = f"L{layer}", f"L{layer}.Wup"
            p, h = net.cache["p"][layer - 1], net.cache["h"][layer - 1]
            row.update(zip((f"{key}.sign", f"{key}.sign_se"), sign_statistic(step.back.deltas[layer - 1], p)))
            row.update({f"{key}.w_mean": _mean(P[up]), f"{key}.b_mean": math.nan, f"{key}.w_grad": _mean(grads[up]),
                        f"{key}.b_grad": math.nan, f"{key}.zero_frac": float(np.mean(h == 0)),
                        f"{key}.nonpos_frac": float(np.mean(p <= 0))})
            for m in MATRICES:
                row[f"{key}.{m}.mean"] = _mean(P[f"{key}.{m}"])
                row[f"{key}.{m}.neg_frac"] = float(np.mean(P[f"{key}.{m}"] < 0))
        row.update(transformer_split(net, self.loss, step))
        head = _head(net)
        row.update({"out.w_mean": _mean(P[head]), "out.b_mean": math.nan, "out.w_grad": _mean(grads[head]),
                    "out.b_grad": math.nan, "out.neg_frac": float(np.mean(P[head] < 0))})
        if step.t % self.eval_every == 0 or step.last:  # after the batch metrics: a forward overwrites the cache
            row.update(self._evaluate(net))
        self.rows.append(row)

    def _evaluate(self, net: Network) -> dict[str, float]:
        data = self.data
        out = self._held_out(net, data.x_test, data.y_test, "test", inputs=True)
        out.update(self._held_out(net, data.x_train[self.train_index], data.y_train[self.train_index], "train"))
        return out

    def _held_out(self, net: Network, xs: np.ndarray, ys: np.ndarray, prefix: str, *, inputs: bool = False):
        total, correct, rows = 0.0, 0, 0
        zeros, elements = np.zeros(net.depth), np.zeros(net.depth)
        seen: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(xs), EVAL_CHUNK):
            x, y = xs[start:start + EVAL_CHUNK], np.asarray(ys[start:start + EVAL_CHUNK]).reshape(-1)
            z = net.forward(x).astype(np.float64)
            total += float(self.loss.value(z, y).sum())
            correct += int(np.sum(np.argmax(z, axis=1) == y))
            rows += len(y)
            if inputs:
                for layer in range(1, net.depth + 1):
                    zeros[layer - 1] += np.count_nonzero(net.cache["h"][layer - 1] == 0)
                    elements[layer - 1] += net.cache["h"][layer - 1].size
                for name, value in net.cache["inputs"].items():
                    seen.setdefault(name, []).append(value)
        out = {f"{prefix}_loss": total / rows, f"{prefix}_acc": correct / rows}
        if inputs:
            for layer in range(1, net.depth + 1):
                out[f"L{layer}.val_zero_frac"] = float(zeros[layer - 1] / elements[layer - 1])
            for name, chunks in seen.items():
                if name == "patch_in":  # the ViT's pixels: data, not a learned layer's input
                    continue
                out.update({f"{name}.{k}": v for k, v in spike_stats(np.concatenate(chunks)).items()})
        return out

    def columns(self) -> dict[str, np.ndarray]:
        return {name: np.array([row.get(name, math.nan) for row in self.rows], float) for name in self.names}
