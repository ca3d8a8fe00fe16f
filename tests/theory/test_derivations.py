import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from driftproof.activations import get_activation, x
from driftproof.config import Config
from driftproof.results import HOLDS, INCONCLUSIVE, VIOLATED
from driftproof.theory import (ce_curvature, conditional_last_layer, derive_all, gaussian_moment, mean_field,
                               pointwise_check)
from driftproof.theory.gaussian import MOMENTS

ZERO_MEAN_INDEPENDENT = ["normal", "uniform", "truncated_normal", "laplace", "rademacher", "student_t(nu=5)"]


def brute_force_last_layer(config, p, draws, seed):
    """E[delta_i | p] by sampling V and labels in plain numpy: mean and standard error per unit."""
    rng = np.random.default_rng(seed)
    act, loss = config.activation, config.loss_fn
    h, dh = act.numpy(p), act.numpy_derivative(p)
    K, N = config.classes, len(p)
    total, total_sq, done = np.zeros(N), np.zeros(N), 0
    while done < draws:
        m = min(20000, draws - done)
        V = config.init_dist.sample(rng, (m * K, N), config.stds[-1]).reshape(m, K, N)
        y = rng.integers(K, size=m)
        z = V @ h
        g = loss.grad(z, y)  # (m, K)
        delta = dh * np.einsum("mk,mki->mi", g, V)
        total += delta.sum(0)
        total_sq += (delta**2).sum(0)
        done += m
    mean = total / done
    return mean, np.sqrt((total_sq / done - mean**2) / done)


@pytest.mark.parametrize("init", ZERO_MEAN_INDEPENDENT + ["shifted(mean=0.3)", "centered"])
@pytest.mark.parametrize("loss", ["mse", "mse_mean"])
def test_R1_matches_brute_force_for_every_init(init, loss):
    """R1 is exact for any init: 2e5 draws (seed 7), every unit within 5 standard errors."""
    config = Config(loss=loss, act="relu", init=init, scale="std=0.5", width=12, classes=4)
    p = np.linspace(-1.5, 2.0, 12)
    mean, se = brute_force_last_layer(config, p, 200_000, seed=7)
    predicted = conditional_last_layer(config, p).values
    assert np.all(np.abs(mean - predicted) <= 5 * se + 1e-12), (mean, predicted, se)


@pytest.mark.parametrize("init", ["normal", "shifted(mean=0.3)", "centered"])
def test_R2_matches_brute_force_for_gaussian_inits(init):
    """R2 (Stein) under CE: 2e5 draws (seed 11), within 5 combined standard errors."""
    config = Config(loss="ce", act="gelu", init=init, scale="std=0.5", width=12, classes=4)
    p = np.linspace(-1.5, 2.0, 12)
    mean, se = brute_force_last_layer(config, p, 200_000, seed=11)
    prediction = conditional_last_layer(config, p)
    rel = prediction.curvature.stderr / prediction.curvature.mean
    tolerance = 5 * np.sqrt(se**2 + (prediction.values * rel) ** 2) + 1e-12
    assert prediction.exact
    assert np.all(np.abs(mean - prediction.values) <= tolerance)


def test_centered_control_has_negative_units_where_derived():
    """centered + MSE: units with 0 < sigma(p_i) < mean of the others get E[delta] < 0."""
    config = Config(loss="mse", act="relu", init="centered", scale="std=0.5", width=12, classes=4)
    p = np.linspace(-1.5, 2.0, 12)
    predicted = conditional_last_layer(config, p).values
    h = np.maximum(p, 0)
    others = (h.sum() - h) / 11
    expected_negative = (p > 0) & (h < others)
    assert expected_negative.any()
    assert np.array_equal(predicted < 0, expected_negative)
    mean, se = brute_force_last_layer(config, p, 200_000, seed=3)
    assert np.all(mean[expected_negative] + 5 * se[expected_negative] < 0)


def test_ce_curvature_two_classes_quadrature_vs_brute_force():
    """K = 2 quadrature against 1e6 seeded draws (seed 5), within 5 SE."""
    exact = ce_curvature(1.7, 2)
    z = np.random.default_rng(5).normal(scale=math.sqrt(1.7), size=(1_000_000, 2))
    pi = np.exp(z - z.max(1, keepdims=True))
    pi /= pi.sum(1, keepdims=True)
    values = (pi * (1 - pi)).sum(1)
    assert abs(values.mean() - exact.mean) < 5 * values.std() / 1000
    assert exact.stderr < 1e-10


def test_ce_curvature_many_classes_against_independent_seed():
    a, b = ce_curvature(2.0, 10, seed=1), ce_curvature(2.0, 10, seed=2)
    assert abs(a.mean - b.mean) < 5 * math.hypot(a.stderr, b.stderr)
    assert ce_curvature(0.0, 10).mean == pytest.approx(0.9)


@pytest.mark.parametrize("name", ["relu", "relu2", "clipped_relu2", "leaky_relu", "gelu", "silu", "tanh", "elu",
                                  "gelu2", "softplus"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_gaussian_moments_against_mpmath_quadrature(name, moment):
    """Closed forms, Gauss-Hermite and QUADPACK against mpmath.quad at 30 digits, q = 1.7."""
    act = get_activation(name)
    build, positive = MOMENTS[moment]
    f = sp.lambdify(x, build(act), modules="mpmath")
    q = mpmath.mpf("1.7")
    with mpmath.workdps(30):
        density = lambda t: f(t) * mpmath.exp(-t * t / (2 * q)) / mpmath.sqrt(2 * mpmath.pi * q)
        cuts = sorted({0.0, *act.breakpoints})
        lo = 0 if positive else -mpmath.inf
        points = [lo] + [c for c in cuts if c > (0 if positive else -1e9)] + [mpmath.inf]
        expected = float(mpmath.quad(density, points))
    result = gaussian_moment(act, moment, 1.7)
    assert result.mean == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert abs(result.mean - expected) <= max(10 * result.stderr, 1e-12 * max(1, abs(expected)))


def test_relu_mean_field_closed_forms():
    """ReLU under He init: q_l = 2 at every layer, E[delta | p > 0] = s^2 T E[p | p > 0]."""
    field = mean_field(Config(loss="mse", act="relu", depth=3, width=100, classes=5))
    for layer in field.layers:
        assert layer.q == pytest.approx(2.0)
        assert layer.moments_exact
    last = field.layers[-1]
    assert last.T_next == 5
    assert last.delta_given_positive == pytest.approx(0.02 * 5 * math.sqrt(2 * 2 / math.pi))
    assert field.layers[0].T_next == pytest.approx(100 * 0.02 * 0.5 * 5)  # T^2 = N s^2 E[1{p>0}] T^3


def test_tanh_predicts_no_drift_and_relu_negative():
    tanh = mean_field(Config(act="tanh", depth=2))
    relu = mean_field(Config(act="relu", depth=2))
    assert all(layer.db_mean == 0 and layer.dW_mean == 0 for layer in tanh.layers)
    assert all(layer.db_mean < 0 for layer in relu.layers)
    assert relu.layers[1].dW_mean < 0 and relu.layers[0].dW_mean == 0


@pytest.mark.parametrize("kwargs,verdict", [
    (dict(loss="ce", act="gelu"), HOLDS),
    (dict(loss="mse", act="relu2"), HOLDS),
    (dict(loss="mse", act="clipped_relu2"), HOLDS),
    (dict(loss="mse", act="-exp(-x)"), VIOLATED),
    (dict(loss="mse", act="relu", init="centered"), VIOLATED),
    (dict(loss="ce", act="relu", init="centered"), VIOLATED),
    (dict(loss="mse", act="relu", init="shifted(mean=0.1)"), HOLDS),
    (dict(loss="ce", act="relu", init="shifted(mean=0.1)"), HOLDS),
    # MSE + shifted: negative for small p_i iff S_{-i} < 1/(K mu); typical S = 143.9 +- 39.
    (dict(loss="mse", act="relu", init="shifted(mean=0.0007)"), INCONCLUSIVE),
    (dict(loss="mse", act="relu", init="shifted(mean=0.0003)"), VIOLATED),
    (dict(loss="mse", act="tanh", init="centered"), INCONCLUSIVE),
])
def test_pointwise_verdicts(kwargs, verdict):
    assert pointwise_check(Config(**kwargs)).verdict == verdict


def test_derivations_render():
    for derivation in derive_all(Config(act="x*tanh(log(1+exp(x)))", depth=2)):
        assert derivation.to_text().count("\n") > 3
        latex = derivation.to_latex()
        assert latex.count(r"\begin{enumerate}") == 1 and latex.count("{") == latex.count("}") + latex.count(r"\{") - latex.count(r"\}")
        assert derivation.to_dict()["steps"]


@pytest.mark.parametrize("init", ["shifted(mean=0.0003)", "centered"])
def test_control_regions_are_certified_roots_not_grid_points(init):
    """ReLU, MSE, width 256: on p > 0 the expectation is A p + B S + C0, so the negative region is
    (0, -(B S + C0)/A) at the typical S, a closed form the certified isolation must reproduce."""
    check = pointwise_check(Config(loss="mse", act="relu", init=init))
    coeffs = check.coefficients
    root = -(coeffs.B * check.typical_S + coeffs.C0) / coeffs.A
    assert check.verdict == VIOLATED and len(check.negative) == 1
    lo, hi = check.negative[0]
    assert lo == 0.0 and hi == pytest.approx(root, rel=1e-9)
    assert check.enclosures and check.enclosures[0][0] <= root <= check.enclosures[0][1]
