"""The Monte Carlo evidence rows: one sequential sign test per initialization distribution."""

from __future__ import annotations

import dataclasses
import sys

from ..budget import Budget, mc_budget
from ..config import Config
from ..montecarlo.compare import compare_conditional
from ..montecarlo.estimators import conditional
from ..montecarlo.methods import SYMMETRIC_INITS
from ..payloads import MonteCarloNumbers, SignTestNumbers
from ..results import Evidence, RowKey

__all__ = ["DEFAULT_INITS", "verify_rows", "verify_budget", "row_method", "ROW_SAMPLES", "ROW_RNG"]

DEFAULT_INITS = ("normal", "uniform", "truncated_normal", "laplace", "rademacher")
ROW_SAMPLES = 8192  # budget per row; the antithetic rows resolve every unit at the first look
ROW_FIRST_BATCH = 512  # pooled estimate within ~1% (one standard error) of its mean
_ROW_ALPHA = 1e-6
# The numpy-drawn reference path, arithmetic in numpy (montecarlo/reference.py), on every run: a row's
# ~30 ms of work would otherwise wait for Numba to load (0.3 s) or compile (10 s, first run) its kernel,
# and the numbers would not depend on which. ``driftproof mc`` generates in the kernels (philox).
ROW_RNG = "numpy"


def verify_budget(config: Config) -> Budget:
    """The Monte Carlo rows of ``verify`` (one per init, each a conditional sign test at the last layer)."""
    row = mc_budget(config, mode="conditional", samples=ROW_SAMPLES, method="antithetic", rng=ROW_RNG,
                    first_batch=ROW_FIRST_BATCH)
    return Budget(row.bytes, row.seconds * (len(DEFAULT_INITS) + 1),
                  f"verify, width {config.width}, depth {config.depth}")


def row_method(config: Config) -> str:
    """The estimator a verify row uses: antithetic where D is independent and symmetric about its mean, else cv."""
    if config.init_dist.kind in SYMMETRIC_INITS + ("shifted",):
        return "antithetic"
    return "cv" if config.init_dist.zero_mean else "naive"


def _row(config: Config, progress, compare: bool) -> Evidence:
    method = row_method(config)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=ROW_SAMPLES, desc=f"mc {config.init}", file=sys.stderr, leave=False, unit="net")

    def advance(done: int) -> None:
        bar.update(done - bar.n)

    try:
        result = conditional(config, method=method, samples=ROW_SAMPLES, alpha=_ROW_ALPHA, first_batch=ROW_FIRST_BATCH,
                             progress=advance if bar is not None else None, rng=ROW_RNG)
    finally:
        if bar is not None:
            bar.close()
    comparison = compare_conditional(config, result) if compare else None
    # The row of the verification's own init keeps every unit's estimate: what Verification.plot() draws.
    units = ({"p": result.p.tolist(), "mean": result.means.tolist(), "stderr": result.stderrs.tolist()}
             if comparison is not None else None)
    numbers = MonteCarloNumbers(init=config.init, layer=result.layer, method=method, rng=result.config["rng"],
                                estimate=result.pooled, sign_test=SignTestNumbers.of(result.sign_test),
                                seconds=result.seconds, theory=comparison.to_dict() if comparison is not None else None,
                                zero_somewhere=result.sign_test.zero > 0, units=units)
    return Evidence("montecarlo", RowKey("MC", result.layer, config.init), result.sign_test.verdict, numbers)


def verify_rows(config: Config, progress: bool = False, compare_theory: bool = True) -> list[Evidence]:
    """One Monte Carlo row per init distribution (the defaults, then ``config.init`` if different).

    Each row runs the sequential sign test on the last hidden layer, conditional on one draw of
    p from the seed (α = 1e-6, Holm over the units with p > 0), and reports the pooled estimate,
    its interval and the counts; the row of ``config.init`` also carries the theory's prediction
    (R1/R2) and the worst per-unit z-score (one theory call costs about as much as all the
    sampling, so the other rows leave it to the symbolic rows; ``compare_theory=False`` skips
    it). Progress bars go to stderr only when ``progress`` is True.
    """
    inits = list(DEFAULT_INITS)
    if config.init_dist.name not in inits:
        inits.append(config.init_dist.name)
    return [_row(dataclasses.replace(config, init=init), progress,
                 compare_theory and init == config.init_dist.name) for init in inits]
