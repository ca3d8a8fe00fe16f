"""The estimator API: conditional and marginal Monte Carlo estimates of E[δ] with a sequential sign test.

``conditional`` fixes one pre-activation vector p^l (drawn from the seed's context stream,
or given) and resamples the downstream weights and labels: the theorem as stated. ``marginal``
resamples everything and pools δ^l over the units with p^l > 0, per layer (R4). Both sample
in batches on a fixed schedule and stop early once every tested sign is resolved.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from ..config import Config
from ..errors import InputError
from ..results import Estimate
from .result import ConditionalResult, LayerResult, MarginalResult
from .samplers import Antithetic, LastLayer, Network, Reduced, check_method, largest_batch
from .draws import draw_context
from .signtest import MIN_SAMPLES, Moments, SignTest, schedule, signs

__all__ = ["conditional", "marginal"]

Progress = Callable[[int], None] | None


def _check_common(samples, alpha) -> tuple[int, float]:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < MIN_SAMPLES:
        raise InputError(f"samples must be an integer >= {MIN_SAMPLES}, got {samples!r}")
    if not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
    return int(samples), float(alpha)


def _check_p(config: Config, p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.shape != (config.width,) or not np.all(np.isfinite(p)):
        raise InputError(f"p must be {config.width} finite numbers (the layer's width), got shape {p.shape}")
    return p


def conditional(config: Config, *, layer: int | None = None, method: str = "cv", samples: int = 20000,
                alpha: float = 1e-6, p=None, first_batch: int = 1024, stop_early: bool = True,
                progress: Progress = None) -> ConditionalResult:
    """Estimate E[δ^l_i | p^l] for every unit i of ``layer`` (default the last hidden layer).

    Args:
        method: naive, cv (drop the zero-mean label term), reduced (CE, Gaussian init, last layer:
            sample the logits, R2) or antithetic (symmetric independent init, last layer).
        samples: the budget; alpha: family-wise error of the sign test over the units with p_i > 0.
        p: the layer's pre-activations; default one draw of x and W^1..W^l from the seed.
        stop_early: stop as soon as every tested unit's sign is resolved.
        progress: called with the number of samples after each batch.
    """
    layer = config.depth if layer is None else layer
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= config.depth:
        raise InputError(f"layer must be an integer in 1..{config.depth}, got {layer!r}")
    samples, alpha = _check_common(samples, alpha)
    check_method(config, method, layer, "conditional")
    p = draw_context(config, layer) if p is None else _check_p(config, p)
    activation = config.activation
    h, dphi = activation.numpy(p), activation.numpy_derivative(p)
    tested = np.flatnonzero(p > 0)
    if layer == config.depth:
        sampler = {"naive": LastLayer, "cv": LastLayer, "antithetic": Antithetic, "reduced": Reduced}[method](
            config, h, dphi, method)
        draw = sampler.draw
    else:
        network = Network(config, layer, h, dphi, split=method == "cv")

        def draw(batch, size):
            deltas, _ = network.draw(batch, size)
            parts = deltas[layer]
            naive = parts.sum(axis=1)
            return (naive, None) if method == "naive" else (parts[:, 0], naive)

    started = time.perf_counter()
    sizes = schedule(samples, first_batch, largest_batch(config, layer))
    look_alpha = alpha / len(sizes)
    moments, naive_moments, pooled = Moments(config.width), Moments(config.width), Moments(1)
    sign = np.zeros(len(tested), dtype=int)
    looks = 0
    for batch, size in enumerate(sizes):
        rows, naive = draw(batch, size)
        moments.add(rows)
        if naive is not None:
            naive_moments.add(naive)
        pooled.add(rows[:, tested].mean(axis=1, keepdims=True) if len(tested) else np.zeros((size, 1)))
        if progress is not None:
            progress(moments.n)
        if moments.n >= MIN_SAMPLES:
            looks += 1
            sign = signs(moments.mean[tested], moments.stderr[tested], look_alpha)
            if stop_early and len(tested) and np.all(sign != 0):
                break
    seconds = time.perf_counter() - started
    confidence = 1.0 - alpha
    units = tuple(Estimate.from_moments(m, s, moments.n, confidence, method, config.seed)
                  for m, s in zip(moments.mean, moments.stderr))
    reduction = None
    if naive_moments.n and len(tested):
        reduction = float(naive_moments.variance[tested].sum() / max(moments.variance[tested].sum(), 1e-300))
    test = SignTest.from_signs(sign, tested, look_alpha * len(sizes), looks, moments.n, samples)
    return ConditionalResult(config.to_dict(), int(layer), method, p, units, tuple(int(i) for i in tested),
                             Estimate.from_moments(pooled.mean[0], pooled.stderr[0], pooled.n, confidence,
                                                   method, config.seed),
                             test, reduction, config.seed, seconds)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """Ratio estimator Σa / Σb and its delta-method standard error."""
    n = len(numerator)
    mean_b = denominator.mean()
    if mean_b <= 0:
        return math.nan, math.nan
    ratio = numerator.mean() / mean_b
    residual = numerator - ratio * denominator
    return float(ratio), float(residual.std(ddof=1) / (math.sqrt(n) * mean_b))


def marginal(config: Config, *, method: str = "cv", samples: int = 2000, alpha: float = 1e-6,
             first_batch: int = 32, stop_early: bool = False, progress: Progress = None) -> MarginalResult:
    """Estimate E[δ^l_i | p^l_i > 0], E[δ^l_i] and P(p^l_i > 0) for every hidden layer l (compare R4).

    Inputs, every weight and the labels are resampled; the sign test runs over the layers.
    """
    samples, alpha = _check_common(samples, alpha)
    check_method(config, method, config.depth, "marginal")
    network = Network(config, 0, split=method == "cv")
    layers = range(1, config.depth + 1)
    sizes = schedule(samples, first_batch, largest_batch(config, 0))
    look_alpha = alpha / len(sizes)
    started = time.perf_counter()
    # Per sample and layer: Σ δ 1{p>0} (method, naive), Σ 1{p>0}, Σ δ (method).
    rows: list[np.ndarray] = []
    sign, looks, n = np.zeros(config.depth, dtype=int), 0, 0
    for batch, size in enumerate(sizes):
        deltas, ps = network.draw(batch, size)
        block = np.empty((size, config.depth, 4))
        for index, layer in enumerate(layers):
            parts, positive = deltas[layer], ps[layer] > 0
            naive = parts.sum(axis=1)
            value = parts[:, 0] if method == "cv" else naive
            block[:, index] = np.stack([(value * positive).sum(1), (naive * positive).sum(1),
                                        positive.sum(1), value.sum(1)], axis=1)
        rows.append(block)
        n += size
        if progress is not None:
            progress(n)
        if n >= MIN_SAMPLES:
            looks += 1
            data = np.concatenate(rows)
            stats = [_ratio(data[:, i, 0], data[:, i, 2]) for i in range(config.depth)]
            sign = signs(np.array([s[0] for s in stats]), np.array([s[1] for s in stats]), look_alpha)
            if stop_early and np.all(sign != 0):
                break
    seconds = time.perf_counter() - started
    data = np.concatenate(rows)
    confidence, width = 1.0 - alpha, config.width
    results = []
    for index, layer in enumerate(layers):
        mean, stderr = _ratio(data[:, index, 0], data[:, index, 2])
        _, naive_stderr = _ratio(data[:, index, 1], data[:, index, 2])
        per_unit = data[:, index, 3] / width
        fraction = data[:, index, 2] / width
        results.append(LayerResult(
            layer,
            Estimate.from_moments(mean, stderr, n, confidence, method, config.seed),
            Estimate.from_moments(per_unit.mean(), per_unit.std(ddof=1) / math.sqrt(n), n, confidence, method,
                                  config.seed),
            Estimate.from_moments(fraction.mean(), fraction.std(ddof=1) / math.sqrt(n), n, confidence, method,
                                  config.seed),
            float((naive_stderr / stderr) ** 2) if method == "cv" and stderr > 0 else None))
    test = SignTest.from_signs(sign, np.arange(1, config.depth + 1), alpha, looks, n, samples)
    return MarginalResult(config.to_dict(), method, tuple(results), test, config.seed, seconds)
