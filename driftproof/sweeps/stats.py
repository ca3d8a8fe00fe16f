"""Statistics the sweep and its claims rest on: spike statistics and the changepoint fit.

Pure functions on arrays; no training, no files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..results import Estimate
from ..spikes import spike_stats

__all__ = ["spike_stats", "fit_hinge", "fit_changepoint", "HingeFit", "geometric_ratio", "SignTest", "sign_test",
           "holm_sign_tests", "ALPHA"]

ALPHA = 0.05  # family-wise level of the sign questions judged together (Holm)


def _design(s: np.ndarray, s0: float) -> np.ndarray:
    return np.column_stack([np.ones_like(s), s, np.maximum(s - s0, 0.0)])


def fit_hinge(s: np.ndarray, y: np.ndarray, candidates: np.ndarray) -> dict:
    """Least-squares continuous hinge ``y = a + b s + c max(s - s0, 0)``, s0 by grid search.

    Returns s0, the coefficients, the slopes before (b) and after (b + c) the knot, and the
    residual sums of squares of the hinge and of a straight line (for the model comparison).
    """
    s, y = np.asarray(s, float), np.asarray(y, float)
    knots = np.atleast_1d(np.asarray(candidates, float))
    # All candidate knots at once: normal equations (K, 3, 3), solved in a batch.
    X = np.stack([np.ones((len(knots), len(s))), np.broadcast_to(s, (len(knots), len(s))),
                  np.maximum(s[None, :] - knots[:, None], 0.0)], axis=2)
    gram = np.einsum("kni,knj->kij", X, X) + 1e-12 * np.eye(3)  # ridge: a knot beyond all points
    coefs = np.linalg.solve(gram, np.einsum("kni,n->ki", X, y)[..., None])[..., 0]
    rss_all = np.sum((y[None, :] - np.einsum("kni,ki->kn", X, coefs)) ** 2, axis=1)
    k = int(np.argmin(rss_all))
    best = (float(rss_all[k]), float(knots[k]), coefs[k])
    line, *_ = np.linalg.lstsq(_design(s, 0.0)[:, :2], y, rcond=None)
    rss_line = float(np.sum((y - _design(s, 0.0)[:, :2] @ line) ** 2))
    rss, s0, (a, b, c) = best
    return {"s0": s0, "a": float(a), "slope_before": float(b), "slope_after": float(b + c),
            "rss": rss, "rss_line": rss_line, "n": len(s)}


def _bic(rss: float, n: int, k: int) -> float:
    return n * math.log(max(rss, 1e-300) / n) + k * math.log(n)


def _bootstrap(point: float, replicates: list[float], confidence: float, seed: int, n: int) -> Estimate:
    """A point estimate with the percentile bootstrap interval and standard error of its replicates; its ``n``
    is the sample size the replicates resampled (the runs), not the number of replicates."""
    if not replicates:
        return Estimate(float(point), math.nan, 0, math.nan, math.nan, confidence, "bootstrap", seed)
    tail = (1 - confidence) / 2
    low, high = (float(v) for v in np.quantile(replicates, [tail, 1 - tail]))
    stderr = float(np.std(replicates, ddof=1)) if len(replicates) > 1 else math.nan
    return Estimate(float(point), stderr, n, low, high, confidence, "bootstrap", seed)


@dataclass(frozen=True)
class HingeFit:
    """The cliff of accuracy against sparsity: a continuous hinge, its knot and slopes.

    ``knot`` (s0) and ``slope_after`` carry percentile bootstrap intervals over points;
    ``delta_bic`` = BIC(line) - BIC(hinge) (> 6: strong evidence for the hinge).
    """

    knot: Estimate
    slope_after: Estimate
    slope_before: float
    intercept: float
    rss: float
    rss_line: float
    n: int
    delta_bic: float

    def to_dict(self) -> dict:
        return {"knot": self.knot.to_dict(), "slope_after": self.slope_after.to_dict(),
                "slope_before": self.slope_before, "intercept": self.intercept, "rss": self.rss,
                "rss_line": self.rss_line, "n": self.n, "delta_bic": self.delta_bic}

    @classmethod
    def from_dict(cls, data: dict) -> HingeFit:
        return cls(Estimate.from_dict(data["knot"]), Estimate.from_dict(data["slope_after"]),
                   float(data["slope_before"]), float(data["intercept"]), float(data["rss"]),
                   float(data["rss_line"]), int(data["n"]), float(data["delta_bic"]))


def fit_changepoint(s, y, *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95,
                    step: float = 0.005, min_side: int = 3) -> HingeFit:
    """The cliff of ``y`` (accuracy) against ``s`` (sparsity): hinge fit with a bootstrap interval.

    The knot s0 is searched on a grid of width ``step`` between the ``min_side``-th smallest and
    largest ``s``, so at least ``min_side`` points lie on each side. The interval is the
    percentile bootstrap over points (``n_boot`` resamples of the (s, y) pairs, generator seeded
    with ``seed``; resamples with too few distinct points are skipped) of s0 and of the slope
    after the knot.
    """
    s, y = np.asarray(s, float), np.asarray(y, float)
    keep = np.isfinite(s) & np.isfinite(y)
    s, y = s[keep], y[keep]
    n = len(s)
    if n < 2 * min_side + 1:
        raise ValueError(f"the changepoint fit needs at least {2 * min_side + 1} points, got {n}")

    def candidates(xs):
        ordered = np.sort(xs)
        low, high = ordered[min_side - 1], ordered[-min_side]
        return np.arange(low, high + step / 2, step) if high > low else np.array([low])

    fit = fit_hinge(s, y, candidates(s))
    rng = np.random.default_rng(seed)
    knots, after = [], []
    for _ in range(n_boot):
        index = rng.integers(0, n, n)
        if len(np.unique(s[index])) < 2 * min_side:
            continue
        boot = fit_hinge(s[index], y[index], candidates(s[index]))
        knots.append(boot["s0"])
        after.append(boot["slope_after"])
    return HingeFit(_bootstrap(fit["s0"], knots, confidence, seed, n), _bootstrap(fit["slope_after"], after, confidence, seed, n),
                    fit["slope_before"], fit["a"], fit["rss"], fit["rss_line"], n,
                    _bic(fit["rss_line"], n, 2) - _bic(fit["rss"], n, 4))


def geometric_ratio(numerator, denominator, confidence: float = 0.95) -> Estimate:
    """Geometric mean of paired ratios a/b with a Student-t interval on the log scale.

    Pairs with a missing, non-finite or non-positive member are dropped. The standard error is
    the log scale's, carried to the ratio by the delta method (ratio x stderr of the log).
    """
    pairs = [(a, b) for a, b in zip(numerator, denominator)
             if a is not None and b is not None and math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0]
    from ..training.summary import seed_estimate  # no interval from fewer than MIN_INTERVAL_N pairs

    logs = seed_estimate([math.log(a / b) for a, b in pairs])
    ratio = math.exp(logs.mean)
    method = "student_t: geometric mean of ratios" + ("" if logs.defined else f", {logs.method.split(': ', 1)[-1]}")
    return Estimate(ratio, ratio * logs.stderr, logs.n, math.exp(logs.ci_low), math.exp(logs.ci_high), confidence,
                    method, None, tuple(a / b for a, b in pairs))


@dataclass(frozen=True)
class SignTest:
    """An exact two-sided sign test over independent replicates (seeds): is the median 0?

    ``positive`` and ``negative`` count the replicates of each sign (zeros and non-finite values are
    dropped, as the test prescribes), ``p_value`` is the exact binomial p-value of ``positive`` out of
    ``n`` = positive + negative at probability 1/2 (scipy.stats.binomtest). ``call`` is +1 / -1 where
    the test rejects at the level it was judged at (alone, or under Holm with others), else 0.
    With n replicates the smallest p-value is 2^(1-n): 5 seeds can never reject at 0.05.
    """

    positive: int
    negative: int
    p_value: float
    call: int = 0

    @property
    def n(self) -> int:
        return self.positive + self.negative

    def to_dict(self) -> dict:
        return {"positive": self.positive, "negative": self.negative, "n": self.n, "p_value": self.p_value,
                "call": self.call, "method": "exact sign test (binomial, two-sided)"}

    @classmethod
    def from_dict(cls, data: dict) -> SignTest:
        return cls(int(data["positive"]), int(data["negative"]), float(data["p_value"]), int(data.get("call", 0)))


def sign_test(values, alpha: float | None = ALPHA) -> SignTest:
    """The exact sign test of ``values`` (one per seed); called at level ``alpha`` (None: not called)."""
    from scipy.stats import binomtest  # scipy.stats costs ~0.5 s at import: only where a sign is judged

    data = [float(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    positive = sum(v > 0 for v in data)
    p = float(binomtest(positive, len(data), 0.5).pvalue) if data else 1.0
    call = 0 if alpha is None or p > alpha else (1 if 2 * positive > len(data) else -1)
    return SignTest(positive, len(data) - positive, p, call)


def holm_sign_tests(groups: dict, alpha: float = ALPHA) -> dict:
    """:func:`sign_test` of each group's values, called under Holm's procedure at family-wise ``alpha``."""
    from ..montecarlo.signtest import holm

    tests = {name: sign_test(values, None) for name, values in groups.items()}
    if not tests:
        return {}
    rejected = holm(np.array([t.p_value for t in tests.values()]), alpha)
    return {name: SignTest(t.positive, t.negative, t.p_value,
                           (1 if 2 * t.positive > t.n else -1) if hit else 0)
            for (name, t), hit in zip(tests.items(), rejected)}
