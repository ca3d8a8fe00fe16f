"""Conditional Monte Carlo at the last hidden layer against R1, R2 and the controls' derivations.

Every test states its seed (the Config's), sample size and tolerance (mc_harness.Z_TOLERANCE:
per-unit |z| <= 5). The oracles are written here from the derivations in DESIGN.md §2 and the
lead's notes, independently of driftproof.theory.
"""

from __future__ import annotations

import numpy as np
import pytest

from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.montecarlo import conditional
from driftproof.results import HOLDS, VIOLATED
from harness import assert_agrees, logit_curvature

WIDTH, CLASSES, SAMPLES = 32, 4, 20000
ZERO_MEAN_INDEPENDENT = ["normal", "uniform", "truncated_normal", "laplace", "rademacher", "student_t(nu=5)"]


def _config(**overrides) -> Config:
    base = dict(loss="mse", act="gelu", init="normal", scale="he", width=WIDTH, classes=CLASSES, seed=7)
    return Config(**{**base, **overrides})


def _sigma(config, p):
    return config.activation.numpy(p), config.activation.numpy_derivative(p)


def _r1(config, p):
    """R1: E[δ_i | p] = K s_V² σ(p_i)σ'(p_i) (÷K for mse_mean)."""
    h, d = _sigma(config, p)
    factor = 1.0 if config.loss == "mse_mean" else config.classes
    return factor * config.stds[-1] ** 2 * h * d


def _r2(config, p):
    """R2: s_V² σσ'(p_i) E[Σπ(1-π)], z ~ N(0, s_V² ‖h‖² I_K); returns (values, stderr of values)."""
    h, d = _sigma(config, p)
    s2 = config.stds[-1] ** 2
    trace, trace_se = logit_curvature(np.sqrt(s2 * h @ h), config.classes)
    return s2 * h * d * trace, np.abs(s2 * h * d) * trace_se


@pytest.mark.parametrize("init", ZERO_MEAN_INDEPENDENT)
def test_r1_every_zero_mean_independent_init(init):
    # seed 7, 20000 samples, cv estimator, per-unit |z| <= 5 over the units with p > 0.
    config = _config(init=init)
    result = conditional(config, method="cv", samples=SAMPLES, stop_early=False)
    assert result.units[0].n == SAMPLES
    assert_agrees(result, _r1(config, result.p))


@pytest.mark.parametrize("loss,method", [("mse", "naive"), ("mse_mean", "cv"), ("mse", "antithetic")])
def test_r1_other_estimators(loss, method):
    # seed 7, 20000 samples, uniform init (not Gaussian: only the second moment matters), |z| <= 5.
    config = _config(loss=loss, init="uniform", act="silu")
    result = conditional(config, method=method, samples=SAMPLES, stop_early=False)
    assert_agrees(result, _r1(config, result.p))


@pytest.mark.parametrize("method", ["naive", "cv", "antithetic", "reduced"])
def test_r2_ce_normal(method):
    # seed 7, 20000 samples, oracle T from 400000 numpy samples; |z| <= 5 with both errors.
    config = _config(loss="ce", init="normal")
    result = conditional(config, method=method, samples=SAMPLES, stop_early=False)
    predicted, predicted_se = _r2(config, result.p)
    assert_agrees(result, predicted, oracle_stderr=predicted_se)


def test_cv_reduces_variance_under_ce():
    # seed 7, 20000 samples: dropping the label term must not increase the variance.
    result = conditional(_config(loss="ce", act="relu"), method="cv", samples=SAMPLES, stop_early=False)
    assert result.variance_reduction is not None and result.variance_reduction > 1.5


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("act", ["relu", "gelu", "silu"])
def test_sign_test_resolves_positive(loss, act):
    # Naive estimator, seed 7, budget 60000, p_i in [0.3, 2.5] on half the units (the rest negative,
    # untested): every tested unit must resolve positive at alpha = 1e-6 (Holm).
    config = _config(loss=loss, act=act, width=16)
    p = np.concatenate([np.linspace(0.3, 2.5, 8), -np.linspace(0.3, 2.5, 8)])
    result = conditional(config, method="naive", samples=60000, p=p)
    assert result.sign_test.tested == 8
    assert result.verdict == HOLDS, result.sign_test.to_dict()


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("act", ["relu", "gelu", "silu"])
def test_sign_test_resolves_every_unit_with_antithetic(loss, act):
    # Antithetic estimator, width 64, seed 7, budget 8192, alpha = 1e-6: every unit with p > 0 positive.
    result = conditional(_config(loss=loss, act=act, width=64), method="antithetic", samples=8192)
    assert result.sign_test.tested > 10
    assert result.verdict == HOLDS, result.sign_test.to_dict()


@pytest.mark.parametrize("loss,method", [("mse", "cv"), ("ce", "cv"), ("ce", "antithetic")])
def test_negative_control_activation(loss, method):
    # σ = -exp(-x): σσ' = -exp(-2x) < 0 everywhere. Seed 7, budget 20000: violated, no unit positive.
    result = conditional(_config(loss=loss, act="-exp(-x)"), method=method, samples=SAMPLES)
    assert result.verdict == VIOLATED
    assert result.sign_test.positive == 0 and result.sign_test.negative > 0


def _centered_prediction(config, p, curvature=None):
    """Centered rows: E[δ_i|p] = s² σ'(p_i)(σ(p_i) - mean_{j≠i} σ(p_j)) × (K for MSE, E[Σπ(1-π)] for CE)."""
    h, d = _sigma(config, p)
    others = (h.sum() - h) / (len(h) - 1)
    factor = config.classes if curvature is None else curvature
    return config.stds[-1] ** 2 * d * (h - others) * factor


def test_centered_mse_violated_on_the_predicted_units():
    # Centered init, relu, MSE, seed 7, 20000 samples (cv): the estimate agrees with the derivation
    # (|z| <= 5), and the units resolved negative are exactly those with 0 < σ(p_i) < mean_{j≠i} σ(p_j)
    # among the units whose prediction is at least 7 standard errors from 0.
    config = _config(init="centered", act="relu", width=64)
    result = conditional(config, method="cv", samples=SAMPLES, stop_early=False)
    predicted = _centered_prediction(config, result.p)
    assert_agrees(result, predicted)
    assert result.verdict == VIOLATED
    tested = np.array(result.tested)
    h = config.activation.numpy(result.p)
    below = h < (h.sum() - h) / (len(h) - 1)
    negative = set(result.sign_test.negative_units)
    assert negative <= set(tested[below[tested]])  # never a unit the derivation calls positive
    clear = tested[np.abs(predicted[tested]) > 7 * result.stderrs[tested]]
    assert {int(i) for i in clear if predicted[i] < 0} <= negative
    assert any(predicted[i] < 0 for i in clear)


def test_centered_ce_agrees_with_stein():
    # Centered init, CE, gelu, seed 7, 20000 samples (cv and reduced): Stein's lemma with the row
    # covariance; the logits are N(0, s² N/(N-1) Σ(h - mean h)²). |z| <= 5.
    config = _config(init="centered", loss="ce", act="gelu", width=64)
    for method in ("cv", "reduced"):
        result = conditional(config, method=method, samples=SAMPLES, stop_early=False)
        h, _ = _sigma(config, result.p)
        s2, n = config.stds[-1] ** 2, len(h)
        trace, trace_se = logit_curvature(np.sqrt(s2 * n / (n - 1) * ((h - h.mean()) ** 2).sum()), config.classes)
        predicted = _centered_prediction(config, result.p, trace)
        assert_agrees(result, predicted, oracle_stderr=np.abs(predicted / trace) * trace_se)


def _shifted_mse(config, p, mean):
    """shifted(mean=μ), MSE: E[δ_i|p] = σ'(p_i)[K(s²+μ²)σ(p_i) + Kμ² Σ_{j≠i} σ(p_j) - μ]."""
    h, d = _sigma(config, p)
    k, s2 = config.classes, config.stds[-1] ** 2
    return d * (k * (s2 + mean**2) * h + k * mean**2 * (h.sum() - h) - mean)


@pytest.mark.parametrize("method", ["naive", "antithetic"])
@pytest.mark.parametrize("mean", [0.05, -0.2])
def test_shifted_mse_agrees_with_its_derivation(mean, method):
    # shifted(mean=μ), MSE, gelu, seed 7, 20000 samples (naive, and antithetic reflecting about μ;
    # cv refuses a non-zero-mean init), every unit, |z| <= 5.
    config = _config(init=f"shifted(mean={mean})")
    result = conditional(config, method=method, samples=SAMPLES, stop_early=False)
    assert_agrees(result, _shifted_mse(config, result.p, mean), units=np.arange(config.width))


def test_small_positive_shift_violates_under_mse():
    # The theory's finding: a *small* shift (μ = 3e-4, relu, He, width 256, K = 10) makes
    # E[δ_i|p] < 0 for tiny p_i > 0 (where K s² σ(p_i) + Kμ² S_{-i} < μ). Seed 7; unit 0 is set
    # to p_0 = 1e-3 inside that region, unit 1 to p_1 = 0.5 outside it. Antithetic about μ,
    # budget 30000, alpha = 1e-6: unit 0 resolves negative, unit 1 positive, |z| <= 5 everywhere.
    mean = 3e-4
    config = _config(init=f"shifted(mean={mean})", act="relu", width=256, classes=10)
    from driftproof.montecarlo.draws import draw_context

    p = draw_context(config, 1)
    p[0], p[1] = 1e-3, 0.5
    predicted = _shifted_mse(config, p, mean)
    assert predicted[0] < 0 < predicted[1]
    result = conditional(config, method="antithetic", samples=30_000, p=p)
    assert 0 in result.sign_test.negative_units and 1 not in result.sign_test.unresolved_units
    assert set(result.sign_test.negative_units) <= set(np.flatnonzero(predicted < 0))
    assert result.verdict == VIOLATED
    assert_agrees(result, predicted, units=np.arange(config.width))


def test_shifted_ce_equals_the_zero_mean_case():
    # shifted(mean=0.3), CE, seed 7, 20000 samples (naive): the shift adds the same μΣh to every
    # logit and Σ_k(π_k - y_k) = 0, so R2 holds unchanged. |z| <= 5.
    config = _config(init="shifted(mean=0.3)", loss="ce")
    result = conditional(config, method="naive", samples=SAMPLES, stop_early=False)
    predicted, predicted_se = _r2(config, result.p)
    assert_agrees(result, predicted, oracle_stderr=predicted_se, units=np.arange(config.width))


@pytest.mark.parametrize("overrides,method", [
    ({"init": "shifted(mean=0.1)"}, "cv"),
    ({"init": "student_t", "loss": "ce"}, "reduced"),
    ({"loss": "mse"}, "reduced"),
    ({"loss": "ce", "init": "uniform"}, "reduced"),
    ({"init": "centered"}, "antithetic"),
    ({"depth": 2}, "antithetic"),
    ({}, "bogus"),
])
def test_invalid_method_is_refused(overrides, method):
    config = _config(**overrides)
    with pytest.raises(InputError):
        conditional(config, method=method, samples=64, layer=1)


@pytest.mark.parametrize("kwargs", [{"samples": 3}, {"alpha": 0.0}, {"alpha": 1.5}, {"layer": 2},
                                    {"p": np.zeros(5)}, {"p": np.full(WIDTH, np.nan)}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(InputError):
        conditional(_config(), **kwargs)


@pytest.mark.parametrize("overrides,method", [
    ({"loss": "ce", "act": "relu"}, "cv"),
    ({"loss": "mse", "init": "laplace"}, "cv"),
    ({"loss": "mse", "init": "centered", "act": "relu"}, "cv"),
    ({"loss": "mse", "init": "shifted(mean=0.1)"}, "naive"),
    ({"loss": "ce", "init": "centered"}, "reduced"),
])
def test_agrees_with_driftproof_theory(overrides, method):
    # The package's theory (driftproof.theory.lastlayer) against Monte Carlo: seed 7, 20000 samples,
    # per-unit |z| <= 5 (CE adds the theory's curvature error, relative, to each unit's error).
    from driftproof.theory.lastlayer import conditional_last_layer

    config = _config(**overrides)
    result = conditional(config, method=method, samples=SAMPLES, stop_early=False)
    prediction = conditional_last_layer(config, result.p)
    assert prediction.exact
    relative = prediction.curvature.stderr / prediction.curvature.mean if prediction.curvature else 0.0
    assert_agrees(result, prediction.values, oracle_stderr=np.abs(prediction.values) * relative,
                  units=np.arange(config.width))


@pytest.mark.parametrize("init,direction", [("rademacher", 1), ("laplace", -1)])
def test_r2_gaussian_approximation_error_is_visible_at_small_width(init, direction):
    # R2 assumes a Gaussian row of V; for other inits the theory labels it an approximation.
    # CE, relu, width 8, K = 4, seed 3, 100000 antithetic samples: Monte Carlo resolves the error
    # (some unit |z| > 5), whose sign follows the kurtosis (rademacher above, laplace below),
    # while the pooled error stays under 5% and every sign agrees (R3 is exact).
    from driftproof.theory.lastlayer import conditional_last_layer

    config = _config(loss="ce", act="relu", init=init, width=8, classes=4, seed=3)
    result = conditional(config, method="antithetic", samples=100_000, stop_early=False)
    prediction = conditional_last_layer(config, result.p)
    assert not prediction.exact
    tested = np.array(result.tested)
    z = (result.means[tested] - prediction.values[tested]) / result.stderrs[tested]
    assert np.abs(z).max() > 5
    pooled_error = result.pooled.mean / prediction.values[tested].mean() - 1
    assert 0 < direction * pooled_error < 0.05
    assert result.verdict == HOLDS
