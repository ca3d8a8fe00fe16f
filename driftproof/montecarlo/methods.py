"""The Monte Carlo methods and random-number sources by name, their validation, and the batch budget.

Plain Python: importing it (as the estimator API and ``verify`` do) does not import Numba.
"""

from __future__ import annotations

from ..config import Config
from ..errors import InputError

__all__ = ["RNGS", "DRAWS", "PROJECTED_INITS", "METHODS", "SYMMETRIC_INITS", "check_method", "draws_used",
           "numbers_per_sample", "largest_batch"]

RNGS = ("philox", "numpy")  # counter-based in the kernels (default); numpy-drawn reference
# What a counter-based kernel draws: "projected" p = W h and Wᵀδ in law (O(width) per layer, Gaussian inits,
# montecarlo/projected.py), "weights" every weight; "auto" projects wherever that is exact.
DRAWS = ("auto", "projected", "weights")
PROJECTED_INITS = ("normal", "shifted", "centered")  # jointly Gaussian: the decomposition is exact

METHODS = ("naive", "cv", "reduced", "antithetic")
SYMMETRIC_INITS = ("normal", "uniform", "truncated_normal", "laplace", "rademacher", "student_t")
_BUDGET_NUMBERS = 1 << 22  # random numbers per batch: bounds the memory of one batch (32 MB)


def check_method(config: Config, method: str, layer: int, mode: str) -> None:
    """InputError unless ``method`` is valid for this configuration, layer and mode."""
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method in ("naive", "cv"):
        if method == "cv" and not config.init_dist.zero_mean:
            raise InputError(f"method 'cv' drops the label term, whose mean is 0 only for a zero-mean init;"
                             f" init {config.init!r} has mean {config.init_dist.mean_shift:g}: use 'naive'")
        return
    if mode != "conditional" or layer != config.depth:
        raise InputError(f"method {method!r} works on the last hidden layer in conditional mode only"
                         f" (layer {config.depth}); got mode {mode!r}, layer {layer}")
    if method == "reduced":
        if config.loss_fn.family != "ce":
            raise InputError("method 'reduced' samples the logits (R2) and is for --loss ce; under"
                             f" {config.loss} the last-layer expectation is exact (R1): use 'cv' or 'antithetic'")
        if not config.init_dist.gaussian:
            raise InputError(f"method 'reduced' needs a Gaussian init (Stein's lemma), got {config.init!r}")
    if method == "antithetic" and config.init_dist.kind not in SYMMETRIC_INITS + ("shifted",):
        raise InputError(f"method 'antithetic' needs independent entries symmetric about their mean"
                         f" ({', '.join(SYMMETRIC_INITS)}, shifted), got {config.init!r}")


def numbers_per_sample(config: Config, layer: int) -> int:
    """Random weights one sample draws downstream of hidden layer ``layer`` (0: the whole network)."""
    return sum(fan_in * fan_out for fan_in, fan_out in config.fans[layer:])


def largest_batch(config: Config, layer: int) -> int:
    """The largest batch whose random numbers fit the memory budget (at least 1 sample)."""
    return max(1, _BUDGET_NUMBERS // numbers_per_sample(config, layer))


def draws_used(config: Config, method: str, layer: int, rng: str, draws: str) -> str:
    """What the estimate draws: "projected", "weights" (the weight-level kernels or the numpy reference) or
    "logits" (reduced); InputError for an unknown ``draws`` or "projected" where it is not exact."""
    if draws not in DRAWS:
        raise InputError(f"draws must be one of {', '.join(DRAWS)}, got {draws!r}")
    if method == "reduced":
        return "logits"
    can = rng == "philox" and method in ("naive", "cv") and config.init_dist.kind in PROJECTED_INITS
    if draws == "projected" and not can:
        raise InputError(f"draws 'projected' needs rng 'philox', method naive or cv and a Gaussian init"
                         f" ({', '.join(PROJECTED_INITS)}); got rng {rng!r}, method {method!r}, init {config.init!r}")
    return "projected" if can and draws != "weights" else "weights"
