"""Marginal Monte Carlo against the mean field (R4) at width 256.

Tolerance: |estimate - prediction| <= 4 standard errors + 3% of the prediction, the 3% an
allowance for finite-width corrections (R4 is exact only as width -> infinity; for ReLU the
O(1/N) corrections measured at N = 256 with 4000 samples were below 1%).
"""

from __future__ import annotations

import math

import pytest
from harness import assert_agrees_marginal

from driftproof.config import Config
from driftproof.montecarlo import marginal
from driftproof.theory.meanfield import mean_field

Z, RELATIVE = 4.0, 0.03


def test_relu_mse_closed_form():
    # ReLU, MSE, he, width 256, depth 2, K = 10, seed 5, 1500 samples (cv). With he scaling every
    # q_l = 2 and T^{l+1} = K at every layer, so E[δ^l | p^l > 0] = K (2/N) E[p | p > 0] = K (2/N) sqrt(2 q / π).
    config = Config(loss="mse", act="relu", width=256, depth=2, classes=10, seed=5)
    result = marginal(config, samples=1500)
    predicted = 10 * (2 / 256) * math.sqrt(2 * 2 / math.pi)
    assert_agrees_marginal(result, {layer.layer: predicted for layer in result.layers}, z_tolerance=Z,
                           relative=RELATIVE)
    for layer in result.layers:
        assert abs(layer.fraction_positive.mean - 0.5) <= 5 * layer.fraction_positive.stderr


@pytest.mark.parametrize("loss,act", [("mse", "relu"), ("ce", "gelu")])
def test_against_driftproof_mean_field(loss, act):
    # width 256, depth 2, K = 10, seed 5, 1500 samples (cv), tolerance as above.
    config = Config(loss=loss, act=act, width=256, depth=2, classes=10, seed=5)
    result = marginal(config, samples=1500)
    predicted = {layer.layer: float(layer.delta_given_positive) for layer in mean_field(config).layers}
    assert_agrees_marginal(result, predicted, z_tolerance=Z, relative=RELATIVE)
