"""Monte Carlo beside theory: the predictions of R1/R2 (last layer) and R4 (mean field) for a result.

The theory lives in :mod:`driftproof.theory`; this module only looks predictions up and
measures the disagreement, so a formula appears once in code (STYLE.md rule 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..theory.lastlayer import conditional_last_layer
from ..theory.meanfield import delta_conditional, mean_field
from .outcomes import ConditionalResult, MarginalResult

__all__ = ["Comparison", "compare_conditional", "compare_marginal"]


@dataclass(frozen=True)
class Comparison:
    """Estimate against prediction: pooled relative error and the worst per-unit z-score.

    ``units`` (conditional mode) holds the prediction for every unit of the result, aligned with its
    ``p``: a figure or a per-unit table draws these, never recomputing the theory.
    """

    estimate: float
    stderr: float
    prediction: float
    relative_error: float
    max_abs_z: float | None  # max over units of |mean_i - pred_i| / sqrt(stderr_i² + pred_error_i²) (None if not per unit)
    exact: bool
    method: str
    units: tuple[float, ...] | None = None

    def to_dict(self) -> dict:
        out = {key: (None if isinstance(v, float) and not math.isfinite(v) else v)
               for key, v in self.__dict__.items() if key != "units"}
        if self.units is not None:
            out["units"] = [None if not math.isfinite(v) else v for v in self.units]
        return out


def _relative(estimate: float, prediction: float) -> float:
    return abs(estimate - prediction) / abs(prediction) if prediction != 0 else math.inf


def unit_predictions(config: Config, layer: int, p: np.ndarray) -> tuple[np.ndarray, bool, str]:
    """(values, exact, method) predicted for E[δ^layer_i | p]: R1/R2 for the last layer, else R4."""
    values, _, exact, method = _predictions(config, layer, p)
    return values, exact, method


def _predictions(config: Config, layer: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, str]:
    """(values, standard errors, exact, method): R2's values under CE carry the sampling error of its
    curvature constant C (every unit's value is proportional to it; "exact" there means Stein's step,
    not C); R1's (MSE) and the mean field's values carry none."""
    if layer == config.depth:
        prediction = conditional_last_layer(config, p)
        values = np.asarray(prediction.values, dtype=float)
        curvature = prediction.curvature
        relative = curvature.stderr / abs(curvature.mean) if curvature is not None and curvature.mean != 0 else 0.0
        return values, np.abs(values) * relative, bool(prediction.exact), str(prediction.method)
    values = np.asarray(delta_conditional(config, layer, p), dtype=float)
    return values, np.zeros_like(values), False, "mean field (R4)"


def compare_conditional(config: Config, result: ConditionalResult) -> Comparison | None:
    """The conditional result against R1/R2 (last layer) or R4 (deeper), pooled over the tested units."""
    if not result.tested:
        return None
    values, errors, exact, method = _predictions(config, result.layer, result.p)
    tested = np.array(result.tested)
    pooled = float(values[tested].mean())
    # z counts both errors: the estimate's and, under CE, that of the prediction's sampled constant.
    stderr = np.hypot(result.stderrs[tested], errors[tested])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(result.means[tested] - values[tested]) / stderr
    z = z[np.isfinite(z)]
    return Comparison(result.pooled.mean, result.pooled.stderr, pooled, _relative(result.pooled.mean, pooled),
                      float(z.max()) if len(z) else None, exact, method, tuple(float(v) for v in values))


def compare_marginal(config: Config, result: MarginalResult) -> list[Comparison]:
    """Each layer's E[δ | p > 0] against the mean-field prediction (R4)."""
    field = {layer.layer: layer for layer in mean_field(config).layers}
    out = []
    for layer in result.layers:
        predicted = float(field[layer.layer].delta_given_positive)
        estimate = layer.delta_given_positive
        z = abs(estimate.mean - predicted) / estimate.stderr if estimate.stderr > 0 else math.inf
        out.append(Comparison(estimate.mean, estimate.stderr, predicted, _relative(estimate.mean, predicted), z,
                              False, "mean field (R4)"))
    return out
