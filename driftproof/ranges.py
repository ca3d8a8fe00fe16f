"""Does a network's arithmetic fit float64? Refuse, before any work, what would overflow or underflow.

Monte Carlo and training compute in float64. A network whose activations reach 1e62
(``(x+1)**64``), overflow outright (``exp(1000*x)``), saturate the softmax so that
E[Σπ(1−π)] ≈ exp(−gap) underflows (``--scale std=1e10`` under CE), or whose expected gradient
is 1e-600 (``x*1e-300``) gives no trustworthy number: its δ are inf, nan or exactly 0, and an
exact 0 reads as a result ("E = 0"). The check follows the mean-field variance recursion
(x ~ N(0, I), biases 0: q₁ = s₁² d, q_{l+1} = s_{l+1}² N E[σ(p_l)²]) and evaluates σ and σ'
on ±6 standard deviations of every layer's pre-activations — where a network of these sizes
puts nearly all of its units — and raises an InputError naming the first quantity out of range.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError

__all__ = ["check_float_range", "MAX_MAGNITUDE", "MIN_SD", "MIN_GRADIENT", "MAX_CE_LOGIT_SD", "SPREAD"]

MAX_MAGNITUDE = 1e50  # |σ|, |σ'|, pre-activation and logit sds: their squares summed over samples stay finite
MIN_SD = 1e-150  # pre-activation sds: their variances stay normal floats
MIN_GRADIENT = 1e-250  # s_V² max|σσ'| on p > 0: the last layer's E[δ|p] scale, far from float64's 1e-308
# The softmax saturates: π(1−π) ≈ exp(−gap) underflows once the gap between the two largest logits
# passes ~745, which a fraction ~745/sd of the samples avoid. Up to sd 1e5 those samples (and the mean
# they carry) are still there; far beyond (std=1e10: sd 1e22) every sample is an exact, false, 0.
MAX_CE_LOGIT_SD = 1e5
SPREAD = 6.0  # pre-activations checked on ±SPREAD standard deviations
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)


def _refuse(config, why: str) -> InputError:
    return InputError(f"{config.loss}/{config.act} with scale {config.scale}, width {config.width}, depth "
                      f"{config.depth}: {why}; float64 Monte Carlo and training cannot represent it "
                      f"(`driftproof derive` still works symbolically)")


def _values(function, points: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(function(points), dtype=float)


def _check_layer(config, layer: int, sd: float) -> float:
    """Check σ and σ' on ±SPREAD sd of layer ``layer``'s pre-activations; return E[σ(p)²]."""
    activation = config.activation
    grid = sd * np.linspace(-SPREAD, SPREAD, 481)
    for name, function in (("σ", activation.numpy), ("σ'", activation.numpy_derivative)):
        values = _values(function, grid)
        bad = ~np.isfinite(values) | (np.abs(values) > MAX_MAGNITUDE)
        if bad.any():  # name the offending point nearest 0: where the range is left first
            nearest = np.argmin(np.where(bad, np.abs(grid), np.inf))
            raise _refuse(config, f"{name}(p) = {values[nearest]:.3g} at p = {grid[nearest]:.3g}, within {SPREAD:g} sd "
                                  f"of layer {layer}'s pre-activations (sd {sd:.3g}); the limit is "
                                  f"|{name}| <= {MAX_MAGNITUDE:g}")
    return float(np.dot(_WEIGHTS, _values(activation.numpy, sd * _NODES) ** 2))


def _check_gradient(config, sd: float, std_out: float) -> None:
    """The last layer's E[δ|p] ~ s_V² σ(p)σ'(p) must not underflow where σ and σ' are both nonzero."""
    activation = config.activation
    grid = sd * np.linspace(0.0, SPREAD, 241)[1:]
    sigma, slope = _values(activation.numpy, grid), _values(activation.numpy_derivative, grid)
    both = (sigma != 0) & (slope != 0)
    if not both.any():
        return  # exactly zero on p > 0 (Heaviside, clipped regions): a result, not an underflow
    log_scale = 2 * math.log10(std_out) + float(np.max(np.log10(np.abs(sigma[both])) + np.log10(np.abs(slope[both]))))
    if log_scale < math.log10(MIN_GRADIENT):
        raise _refuse(config, f"the last layer's E[δ|p] is about s_V² σσ'(p) = 1e{log_scale:.0f} for p > 0, "
                              f"below {MIN_GRADIENT:g}: it underflows")


def check_float_range(config) -> None:
    """InputError if ``config``'s network overflows or underflows float64 (see the module docstring)."""
    stds, fans = config.stds, config.fans
    variance = stds[0] ** 2 * fans[0][0]
    for layer in range(1, config.depth + 1):
        sd = math.sqrt(variance)
        if not MIN_SD <= sd <= MAX_MAGNITUDE:
            raise _refuse(config, f"layer {layer}'s pre-activations have sd {sd:.3g}, outside "
                                  f"[{MIN_SD:g}, {MAX_MAGNITUDE:g}]")
        second = _check_layer(config, layer, sd)
        variance = stds[layer] ** 2 * fans[layer][0] * second
    _check_gradient(config, sd, stds[-1])
    logit_sd = math.sqrt(variance) if math.isfinite(variance) else math.inf
    limit = MAX_CE_LOGIT_SD if config.loss_fn.name == "ce" else MAX_MAGNITUDE
    if not logit_sd <= limit:
        why = "the softmax saturates and E[Σπ(1−π)] underflows" if config.loss_fn.name == "ce" else "they overflow"
        raise _refuse(config, f"the logits have sd {logit_sd:.3g} at init, above {limit:g}: {why}")
