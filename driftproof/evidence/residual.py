"""R6 evidence rows for ``verify --arch resmlp``: the derivation and Monte Carlo, per block.

The network is the training runs' ``ResMLP`` at init (LayerNorm, eps = 1e-5, gains 1, biases 0).
Each row's ``numbers`` carries ``outcome``, which says how to read its verdict:

- ``zero``: the expectation is exactly 0 (a norm with eps = 0): there is no drift at init and the
  claim holds only non-strictly. Verdict ``zero``.
- ``negligible``: the sign of sigma sigma' but below ``NEGLIGIBLE`` of the plain residual network's
  (eps > 0): no measurable drift at init. Verdict holds / violated by that sign.
- ``sign_map``: an expectation of the plain network's order: holds / violated by the sign of sigma sigma'.
- Monte Carlo: ``zero_within_resolution`` (the interval covers 0 and is narrower than ``RESOLUTION``
  of the plain network's value: verdict ``info``, the sign is the derivation's to give), else
  ``positive``, ``negative`` or ``unresolved`` with the sign test's verdict.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from ..budget import Budget
from ..config import Config
from ..montecarlo.residual import conditional, context
from ..nets import LN_EPS
from ..payloads import ResidualMonteCarloNumbers, ResidualTheoryNumbers, SignTestNumbers
from ..results import HOLDS, INCONCLUSIVE, INFO, VIOLATED, ZERO, Evidence, RowKey
from ..theory.normalized import Residual, conditional_block, predict
from ..theory.signmap import sign_map

__all__ = ["residual_rows", "symbolic_rows", "montecarlo_rows", "verify_budget", "MC_INITS", "ROW_SAMPLES", "NEGLIGIBLE",
           "RESOLUTION"]

MC_INITS = ("normal", "uniform")  # a Gaussian init (the derivation's) and a non-Gaussian one
ROW_SAMPLES = 2048
NEGLIGIBLE = 1e-3  # |coefficient| below this fraction of the plain network's: no drift to speak of
RESOLUTION = 0.05  # a Monte Carlo interval this narrow (relative to the plain network) can call a zero
_ALPHA = 1e-6


def _network(config: Config) -> Residual:
    return Residual(config, "layernorm", LN_EPS)


def _outcome(res: Residual, coefficient: float, plain: float) -> str:
    if res.vanishes:
        return "zero"
    return "negligible" if abs(coefficient) < NEGLIGIBLE * abs(plain) else "sign_map"


def symbolic_rows(config: Config, res: Residual | None = None) -> list[Evidence]:
    """One row per block: R6's coefficient of sigma sigma'(p_i), beside the plain residual network's."""
    res = res or _network(config)
    field, plain = predict(res), predict(dataclasses.replace(res, norm="none", eps=0.0))
    smap = sign_map(config.activation)
    negative = bool(smap.negative_on_positive)
    rows = []
    for block, reference in zip(field.blocks, plain.blocks):
        outcome = _outcome(res, block.coefficient.mean, reference.coefficient.mean)
        if outcome == "zero":  # proved: E[delta_i | p] = 0 for every p (a norm with eps = 0)
            verdict = ZERO
        elif any(iv.certified for iv in smap.negative_on_positive) or block.coefficient.mean < 0:
            verdict = VIOLATED
        else:  # the sign of sigma sigma'(p_i) times the derived coefficient, however small: a proved map only
            verdict = HOLDS if smap.proved and not negative else INCONCLUSIVE
        numbers = ResidualTheoryNumbers(
            outcome=outcome, block=block.block, norm=res.norm, eps=res.eps, init=config.init_dist.name,
            coefficient=block.coefficient, delta_given_positive=block.delta_given_positive,
            plain_coefficient=reference.coefficient.mean,
            relative_to_plain=block.coefficient.mean / reference.coefficient.mean, exact=block.exact,
            method=block.trace.method, vanishes_at_eps_zero=True, sign_map_negative_on_positive=negative,
            sign_map_proved=smap.proved,
            # the verdict rests on the mean-field coefficient
            approximation="mean-field" if outcome != "zero" and not block.exact else None)
        rows.append(Evidence("symbolic", RowKey("R6", block.block, config.init_dist.name), verdict, numbers))
    return rows


def _fit(result, config: Config) -> tuple[float, float]:
    """Weighted least squares c in E[delta_i | p] = c sigma sigma'(p_i) over the tested units: (c, stderr)."""
    tested = np.array(result.tested)
    f = config.activation.numpy_sigma_dsigma(result.p[tested])
    weight = 1.0 / np.maximum(result.stderrs[tested], 1e-300) ** 2
    information = float((weight * f * f).sum())
    return float((weight * f * result.means[tested]).sum() / information), float(information**-0.5)


def _mc_row(res: Residual, block: int, progress: bool) -> Evidence:
    config = res.config
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=ROW_SAMPLES, desc=f"r6 {config.init} block {block}", file=sys.stderr, leave=False, unit="net")
    try:
        result = conditional(res, block=block, samples=ROW_SAMPLES, alpha=_ALPHA,
                             progress=(lambda done: bar.update(done - bar.n)) if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    x_prev, p = context(res, block)
    values, coefficient = conditional_block(res, block, x_prev, p)
    plain_values, _ = conditional_block(dataclasses.replace(res, norm="none", eps=0.0), block, x_prev, p)
    tested = list(result.tested)
    plain = float(plain_values[tested].mean()) if tested else float("nan")
    pooled = result.pooled
    resolution = max(abs(pooled.ci_low), abs(pooled.ci_high)) / abs(plain) if tested and plain else float("nan")
    sign = pooled.sign
    if pooled.contains(0.0) and resolution < RESOLUTION:
        outcome = "zero_within_resolution"
    else:
        outcome = {1: "positive", -1: "negative", 0: "unresolved"}[sign]
    fitted, fitted_se = _fit(result, config) if tested else (float("nan"), float("nan"))
    numbers = ResidualMonteCarloNumbers(
        outcome=outcome, block=block, init=config.init, norm=res.norm, eps=res.eps, width=config.width,
        method=result.method, estimate=pooled, prediction=float(values[tested].mean()) if tested else None,
        coefficient=fitted, coefficient_stderr=fitted_se, predicted_coefficient=coefficient.mean,
        plain_prediction=plain, resolution=resolution, sign_test=SignTestNumbers.of(result.sign_test),
        seconds=result.seconds)
    # Sampling cannot resolve an expectation this close to 0: the row then says that it agrees with
    # the derivation within its resolution and leaves the sign to the derivation.
    verdict = INFO if outcome == "zero_within_resolution" else result.sign_test.verdict
    return Evidence("montecarlo", RowKey("R6", block, config.init), verdict, numbers)


# Random numbers drawn and consumed per CPU-second by the residual engine (numpy): 2048-sample rows at width 64 and
# 128, depth 4 and 8, measured 3.9e7-4.6e7 under load; rounded down.
RESIDUAL_RATE = 4e7


def verify_budget(config: Config) -> Budget:
    """Time and memory of ``verify --arch resmlp``'s Monte Carlo rows (the rest is small beside them): per init
    and block l, ROW_SAMPLES draws of W2^l, the later blocks' two matrices and the readout, N^2 (2 (L - l) + 1)
    + K N numbers a sample, summed over the blocks: N^2 L^2 + K N L. Quadratic in the depth."""
    inits = len(MC_INITS) + (config.init not in MC_INITS)
    n, depth, k = config.width, config.depth, config.classes
    numbers = inits * ROW_SAMPLES * (n * n * depth * depth + k * n * depth)
    bytes_ = 8 * (3 * (1 << 22) + 4 * n * n * depth)  # a batch of draws with its products, the context's weights
    return Budget(bytes_, numbers / RESIDUAL_RATE,
                  f"verify --arch resmlp, width {n}, depth {depth}: {inits} inits x {depth} blocks x "
                  f"{ROW_SAMPLES} samples")


def montecarlo_rows(config: Config, progress: bool = False) -> list[Evidence]:
    """Conditional Monte Carlo per block and per init (normal, uniform, then config.init if different)."""
    inits = list(MC_INITS) + ([config.init] if config.init not in MC_INITS else [])
    return [_mc_row(_network(dataclasses.replace(config, init=init)), block, progress)
            for init in inits for block in range(1, config.depth + 1)]


def residual_rows(config: Config, progress: bool = False) -> list[Evidence]:
    """The R6 rows of ``verify --arch resmlp``: derivation per block, then Monte Carlo per init and block."""
    return symbolic_rows(config) + montecarlo_rows(config, progress)
