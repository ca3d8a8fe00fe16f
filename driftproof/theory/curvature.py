"""The output curvature T^{L+1} = E[tr of the loss Hessian in z] at initialization.

MSE: K (sum) or 1 (mean), exactly. CE: E[sum_k pi_k (1 - pi_k)] with z ~ N(0, v I_K), a
K-dimensional Gaussian integral: exact 1-D quadrature for K = 2, otherwise Monte Carlo
over the logits alone (K numbers a sample, not K*N), with its standard error.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..losses import Loss
from ..results import Estimate
from .gaussian import quad

__all__ = ["ce_curvature", "output_curvature", "CURVATURE_SAMPLES"]

CURVATURE_SAMPLES = 200_000  # logit vectors for K up to ~20; fewer for large K (fixed total work)
_CHUNK_NUMBERS = 2_000_000


def _undefined(why: str, confidence: float) -> Estimate:
    """No number: nan with the reason as the method (rendered as 'nan', the JSON says why)."""
    return Estimate(math.nan, math.nan, 0, math.nan, math.nan, confidence, f"undefined: {why}")


@lru_cache(maxsize=512)
def ce_curvature(variance: float, classes: int, seed: int = 0, samples: int | None = None,
                 confidence: float = 0.95) -> Estimate:
    """E[sum_k pi_k(1-pi_k)] for z ~ N(0, variance * I_K) (R2).

    K = 2 is a 1-D integral, done by adaptive quadrature: pi_1 = expit(u), u ~ N(0, 2v).
    """
    if variance < 0:
        raise ValueError(f"variance must be non-negative, got {variance}")
    if not math.isfinite(variance):
        # E[sigma^2] diverges or overflows (exp(exp(exp(x)))): the logits have no finite variance and
        # the sampled softmax would be inf - inf. Say so instead of sampling nan.
        return _undefined("the logit variance is not finite (E[sigma^2] diverges or overflows float64)", confidence)
    if variance == 0:
        return Estimate.exact(1 - 1 / classes, "exact (v = 0)")
    if classes == 2:
        from scipy.special import expit  # ~0.2 s at import: only the K = 2 case needs it

        sd = math.sqrt(2 * variance)

        def integrand(u):
            s = expit(u)
            return 2 * s * (1 - s) * math.exp(-u * u / (2 * sd * sd)) / (sd * math.sqrt(2 * math.pi))

        value, error = quad(integrand, -math.inf, math.inf, epsabs=1e-13, epsrel=1e-12)
        return Estimate.bounded(value, error, "quadrature: adaptive, K = 2")
    if samples is None:
        samples = max(4000, min(CURVATURE_SAMPLES, 20 * CURVATURE_SAMPLES // classes))
    rng = np.random.default_rng([seed, 0xC0FFEE])
    chunk = max(1, _CHUNK_NUMBERS // classes)
    total, total_sq, done = 0.0, 0.0, 0
    sd = math.sqrt(variance)
    while done < samples:
        n = min(chunk, samples - done)
        z = sd * rng.standard_normal((n, classes))
        z -= z.max(axis=1, keepdims=True)
        pi = np.exp(z)
        pi /= pi.sum(axis=1, keepdims=True)
        values = np.sum(pi * (1 - pi), axis=1)
        total += values.sum()
        total_sq += np.dot(values, values)
        done += n
    if total == 0.0:
        # pi_k (1 - pi_k) > 0 for every finite z: an all-zero sum is underflow (a saturated softmax), not 0.
        return _undefined(f"underflow: at logit sd {sd:.3g} the softmax saturates and every sampled "
                          f"pi(1-pi) is below float64's range", confidence)
    mean = total / done
    var = max(total_sq / done - mean * mean, 0.0) * done / (done - 1)
    return Estimate.from_moments(mean, math.sqrt(var / done), done, confidence,
                                 "normal: Monte Carlo over the logits z", seed)


def output_curvature(loss: Loss, classes: int, logit_variance: float, seed: int = 0) -> Estimate:
    """T^{L+1}: K for mse, 1 for mse_mean (exact), the CE curvature otherwise."""
    constant = loss.curvature(classes)
    if constant is not None:
        return Estimate.exact(constant)
    return ce_curvature(logit_variance, classes, seed)

