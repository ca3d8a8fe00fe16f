"""Monte Carlo beside theory: the z-score counts the prediction's own error where it has one."""

from __future__ import annotations

import numpy as np

from driftproof.config import Config
from driftproof.montecarlo.compare import compare_conditional, unit_predictions
from driftproof.montecarlo.estimators import conditional
from driftproof.theory.lastlayer import conditional_last_layer


def _z(result, predicted, extra):
    tested = np.array(result.tested)
    return float(np.max(np.abs(result.means[tested] - predicted[tested])
                        / np.hypot(result.stderrs[tested], extra[tested])))


def test_ce_z_includes_the_sampled_curvature_error():
    """CE, GELU, width 32, seed 3, 2048 antithetic samples: R2's values are proportional to a sampled
    constant C; z divides by sqrt(se_MC² + (pred·se_C/C)²), which is what the comparison reports."""
    config = Config(loss="ce", act="gelu", width=32, seed=3)
    result = conditional(config, method="antithetic", samples=2048, stop_early=False)
    comparison = compare_conditional(config, result)
    prediction = conditional_last_layer(config, result.p)
    relative = prediction.curvature.stderr / abs(prediction.curvature.mean)
    values, exact, _ = unit_predictions(config, result.layer, result.p)
    assert relative > 0  # Stein's step is exact for a Gaussian V; C is sampled
    with_theory = _z(result, values, np.abs(values) * relative)
    without = _z(result, values, np.zeros_like(values))
    assert np.isclose(comparison.max_abs_z, with_theory, rtol=1e-12)
    assert comparison.max_abs_z < without


def test_mse_z_is_the_monte_carlo_error_alone():
    """MSE: R1 is exact, the prediction carries no error; z is the plain Monte Carlo z."""
    config = Config(loss="mse", act="relu", width=32, seed=3)
    result = conditional(config, method="cv", samples=2048, stop_early=False)
    values, exact, _ = unit_predictions(config, result.layer, result.p)
    assert exact
    assert np.isclose(compare_conditional(config, result).max_abs_z, _z(result, values, np.zeros_like(values)),
                      rtol=1e-12)
