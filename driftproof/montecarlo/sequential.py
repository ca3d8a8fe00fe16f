"""The one sequential sign-test driver (DESIGN.md §4): batches on a fixed schedule, a look after
each, stop once every tested sign is resolved. Every estimator plugs in a ``draw``.

``run_conditional`` drives per-unit draws (E[δ_i | p], conditional mode); ``run_marginal``
drives per-layer draws pooled over the units with p > 0 (a ratio estimator, marginal mode).
A draw is called as ``draw(batch, start, size)``: the batch's index in the schedule and the
index of its first sample, so a counter-based stream can key on either. ``seconds`` is the sampling
alone; the caller times loading the kernels apart (``load_seconds``).
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np

from ..results import Estimate
from .outcomes import ConditionalResult, LayerResult, MarginalResult
from .signtest import MIN_SAMPLES, Moments, SignTest, signs

__all__ = ["run_conditional", "run_marginal", "ratio", "ConditionalDraw", "MarginalDraw", "Progress",
           "layer_sums"]

Progress = Callable[[int], None] | None
# -> (rows (size, width) of the method's estimator, rows of the naive one or None)
ConditionalDraw = Callable[[int, int, int], tuple[np.ndarray, np.ndarray | None]]
# -> per-sample layer sums (size, depth, 4) as ``layer_sums`` computes them (the counter kernels
# write them directly), or (per layer, in order: δ parts (size, columns, width), pre-activations
# p (size, width)), column 0 the method's part, the sum over columns the naive δ.
MarginalDraw = Callable[[int, int, int], np.ndarray | tuple[Sequence[np.ndarray], Sequence[np.ndarray]]]


def run_conditional(draw: ConditionalDraw, sizes: list[int], *, config: dict, layer: int, method: str,
                    p: np.ndarray, alpha: float, budget: int, seed: int, stop_early: bool = True,
                    progress: Progress = None, load_seconds: float = 0.0) -> ConditionalResult:
    """E[δ_i | p] per unit with the sequential Holm sign test over the units with p_i > 0."""
    tested = np.flatnonzero(p > 0)
    width = len(p)
    look_alpha = alpha / len(sizes)
    moments, naive_moments, pooled = Moments(width), Moments(width), Moments(1)
    sign, looks, start = np.zeros(len(tested), dtype=int), 0, 0
    started = time.perf_counter()
    for batch, size in enumerate(sizes):
        rows, naive = draw(batch, start, size)
        start += size
        moments.add(rows)
        if naive is not None:
            naive_moments.add(naive)
        pooled.add(rows[:, tested].mean(axis=1, keepdims=True) if len(tested) else np.zeros((size, 1)))
        if progress is not None:
            progress(moments.n)
        if moments.n >= MIN_SAMPLES:
            looks += 1
            sign = signs(moments.mean[tested], moments.stderr[tested], look_alpha)
            if stop_early and len(tested) and np.all((sign != 0) | _exactly_zero(moments, tested)):
                break
    seconds = time.perf_counter() - started
    confidence = 1.0 - alpha
    units = tuple(Estimate.normal(m, s, moments.n, confidence, method, seed) for m, s in zip(moments.mean,
                                                                                            moments.stderr))
    reduction = None
    if naive_moments.n and len(tested):
        reduction = float(naive_moments.variance[tested].sum() / max(moments.variance[tested].sum(), 1e-300))
    test = SignTest.from_signs(sign, tested, look_alpha * len(sizes), looks, moments.n, budget,
                               zero=_exactly_zero(moments, tested))
    total = Estimate.normal(pooled.mean[0], pooled.stderr[0], pooled.n, confidence, method, seed)
    return ConditionalResult(config, int(layer), method, p, units, tuple(int(i) for i in tested), total, test,
                             reduction, seed, seconds, load_seconds)


def _exactly_zero(moments: Moments, tested: np.ndarray) -> np.ndarray:
    """Units whose every sample so far was exactly 0 (no spread, mean 0): δ_i = 0 in every draw, as
    where σ'(p_i) = 0. Their expectation is 0 by construction, not a sampling outcome."""
    return (moments.m2[tested] == 0) & (moments.mean[tested] == 0) if moments.n else np.zeros(len(tested), bool)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """Ratio estimator Σa / Σb and its delta-method standard error."""
    n = len(numerator)
    mean_b = denominator.mean()
    if mean_b <= 0:
        return math.nan, math.nan
    value = numerator.mean() / mean_b
    residual = numerator - value * denominator
    return float(value), float(residual.std(ddof=1) / (math.sqrt(n) * mean_b))


def layer_sums(deltas: Sequence[np.ndarray], ps: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Per sample and layer: Σ δ 1{p>0} (method), Σ δ 1{p>0} (naive), Σ 1{p>0}, Σ δ (method)."""
    block = np.empty((size, len(deltas), 4))
    for index, (parts, p) in enumerate(zip(deltas, ps)):
        positive = p > 0
        naive = parts.sum(axis=1)
        value = parts[:, 0]
        block[:, index] = np.stack([(value * positive).sum(1), (naive * positive).sum(1), positive.sum(1),
                                    value.sum(1)], axis=1)
    return block


def _layer_result(data: np.ndarray, index: int, width: int, method: str, confidence: float, seed: int
                  ) -> LayerResult:
    n = len(data)
    mean, stderr = ratio(data[:, index, 0], data[:, index, 2])
    _, naive_stderr = ratio(data[:, index, 1], data[:, index, 2])
    per_unit, fraction = data[:, index, 3] / width, data[:, index, 2] / width

    def sample_mean(values):
        return Estimate.normal(values.mean(), values.std(ddof=1) / math.sqrt(n), n, confidence, method, seed)

    return LayerResult(index + 1, Estimate.normal(mean, stderr, n, confidence, method, seed), sample_mean(per_unit),
                       sample_mean(fraction),
                       float((naive_stderr / stderr) ** 2) if method == "cv" and stderr > 0 else None)


def run_marginal(draw: MarginalDraw, sizes: list[int], *, config: dict, depth: int, width: int, method: str,
                 alpha: float, budget: int, seed: int, stop_early: bool = False,
                 progress: Progress = None, load_seconds: float = 0.0) -> MarginalResult:
    """E[δ^l | p^l > 0], E[δ^l] and P(p^l > 0) per layer, the sign test over the layers' pooled estimates."""
    look_alpha = alpha / len(sizes)
    rows: list[np.ndarray] = []
    sign, looks, start = np.zeros(depth, dtype=int), 0, 0
    started = time.perf_counter()
    for batch, size in enumerate(sizes):
        drawn = draw(batch, start, size)
        rows.append(drawn if isinstance(drawn, np.ndarray) else layer_sums(*drawn, size))
        start += size
        if progress is not None:
            progress(start)
        if start >= MIN_SAMPLES:
            looks += 1
            data = np.concatenate(rows)
            stats = [ratio(data[:, i, 0], data[:, i, 2]) for i in range(depth)]
            sign = signs(np.array([s[0] for s in stats]), np.array([s[1] for s in stats]), look_alpha)
            if stop_early and np.all(sign != 0):
                break
    seconds = time.perf_counter() - started
    data = np.concatenate(rows)
    layers = tuple(_layer_result(data, index, width, method, 1.0 - alpha, seed) for index in range(depth))
    test = SignTest.from_signs(sign, np.arange(1, depth + 1), alpha, looks, len(data), budget)
    return MarginalResult(config, method, layers, test, seed, seconds, load_seconds)
