"""The float64 range check and the time limit: refuse before any work what cannot be computed,
and never refuse an ordinary configuration."""

from __future__ import annotations

import math
import warnings

import pytest

from driftproof.activations import core_names
from driftproof.budget import Budget, check_budget, time_limit
from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.ranges import check_float_range
from driftproof.theory.curvature import ce_curvature
from driftproof.theory.gaussian import quad


@pytest.mark.parametrize("act", core_names())  # the catalogue has activations that overflow at depth (exp)
@pytest.mark.parametrize("loss,depth,scale", [("ce", 1, "he"), ("mse", 3, "he"), ("ce", 3, "lecun"),
                                              ("ce", 3, "std=0.02"), ("mse", 2, "glorot")])
def test_ordinary_configurations_pass(act, loss, depth, scale):
    check_float_range(Config(loss=loss, act=act, depth=depth, scale=scale, width=64))


@pytest.mark.parametrize("kwargs,reason", [
    ({"act": "exp(1000*x)"}, "σ(p) = "),
    ({"act": "(x+1)**64"}, "the limit is |σ| <= 1e+50"),
    ({"act": "exp(exp(exp(x)))"}, "σ(p) = "),
    ({"act": "x*1e-300"}, "underflows"),
    ({"act": "x*1e-300", "depth": 3}, "layer 2's pre-activations have sd 0"),
    ({"scale": "std=1e10"}, "the softmax saturates"),
    ({"scale": "std=3", "depth": 3}, "the softmax saturates"),
    ({"scale": "std=1e-100"}, "underflows"),
    ({"loss": "mse", "scale": "std=1e30", "depth": 2}, "outside"),
])
def test_out_of_range_networks_are_refused_with_the_reason(kwargs, reason):
    with pytest.raises(InputError) as caught:
        check_float_range(Config(**kwargs))
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_the_mse_loss_takes_large_logits_that_ce_refuses():
    """MSE has no softmax to saturate: logits of sd ~1e6 (std=3, depth 3) are fine, under CE they are refused."""
    check_float_range(Config(loss="mse", act="relu", scale="std=3", depth=3))
    with pytest.raises(InputError, match="saturates"):
        check_float_range(Config(loss="ce", act="relu", scale="std=3", depth=3))


@pytest.mark.parametrize("scale", ["std=1e200", "std=1e308", "std=1e-200"])
def test_a_variance_out_of_float_range_is_refused_by_the_config(scale):
    with pytest.raises(InputError, match="outside"):
        Config(scale=scale)


def test_the_time_limit_refuses_with_the_estimate(monkeypatch):
    budget = Budget(1000, 7200.0, "mc test")
    with pytest.raises(InputError, match=r"mc test: about .* and 2.0 h, more than the 60 min allowed"):
        check_budget(budget, limit=10**9)
    monkeypatch.setenv("DRIFTPROOF_MAX_SECONDS", "10000")
    assert check_budget(budget, limit=10**9) is budget and time_limit() == 10000
    monkeypatch.setenv("DRIFTPROOF_MAX_SECONDS", "soon")
    with pytest.raises(InputError, match="DRIFTPROOF_MAX_SECONDS"):
        time_limit()


def test_ce_curvature_says_why_it_has_no_number():
    infinite = ce_curvature(math.inf, 10)
    assert math.isnan(infinite.mean) and infinite.method.startswith("undefined: the logit variance")
    saturated = ce_curvature(1e44, 10)  # every sampled pi(1-pi) underflows: not a 0
    assert math.isnan(saturated.mean) and "underflow" in saturated.method
    ordinary = ce_curvature(1.0, 10)
    assert 0 < ordinary.mean < 1 and ordinary.stderr > 0


def test_quadrature_that_does_not_converge_is_not_trusted_and_not_printed():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning reaching the user would raise here
        value, error = quad(lambda t: 1 / math.sqrt(abs(t)) if t else 0.0, -1, 1, limit=3)
    assert error >= abs(value) > 0

