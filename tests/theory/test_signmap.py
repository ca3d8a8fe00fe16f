import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats

from driftproof.activations import get_activation, x
from driftproof.theory.signmap import sign_map
from strategies import BUILTINS


@pytest.mark.parametrize("name", BUILTINS + ["-exp(-x)", "x**3 - x", "sigmoid(x) - 0.5", "Max(0, x)**2"])
def test_sign_map_matches_dense_evaluation(name):
    """2000 seeded points (seed 0) in [-15, 15]: mpmath's sign (60 to 2000 digits) equals the map's."""
    act = get_activation(name)
    smap = sign_map(act)
    f = sp.lambdify(x, act.sigma_dsigma, modules="mpmath")
    points = np.random.default_rng(0).uniform(-15, 15, 2000)
    roots = [r.value for r in smap.roots]
    for p in points:
        if any(abs(p - r) < 1e-6 for r in roots):
            continue
        for dps in (60, 400, 2000):  # 1 + erf(p) or 1 + tanh(.) cancel in the left tail
            with mpmath.workdps(dps):
                value = f(mpmath.mpf(p))
            if value != 0:
                break
        expected = 0 if value == 0 else (1 if value > 0 else -1)
        interval = next(iv for iv in smap.intervals if iv.lo <= p <= iv.hi)
        assert interval.sign == expected, (name, p, interval)


def test_gelu_negative_interval_to_nine_digits():
    """Independent oracle: GELU'(x) = Phi(x) + x phi(x), solved by scipy's brentq."""
    expected = optimize.brentq(lambda t: stats.norm.cdf(t) + t * stats.norm.pdf(t), -2, -0.1, xtol=1e-15)
    smap = sign_map(get_activation("gelu"))
    negative = [iv for iv in smap.intervals if iv.sign == -1]
    assert len(negative) == 1
    assert negative[0].hi == 0
    assert negative[0].lo == pytest.approx(expected, abs=1e-9)
    assert f"{negative[0].lo:.6f}" == "-0.751792"
    assert not smap.negative_on_positive


def test_exact_roots_for_polynomials_and_pieces():
    smap = sign_map(get_activation("clipped_relu2"))
    assert smap.exact
    assert [iv.sign for iv in smap.intervals] == [0, 1, 0]
    assert smap.intervals[1].hi == pytest.approx(math.sqrt(50))
    cubic = sign_map(get_activation("x**3 - x"))
    assert cubic.exact and [r.exact for r in cubic.roots] == ["-1", "-sqrt(3)/3", "0", "sqrt(3)/3", "1"]


def test_violating_activation_found():
    smap = sign_map(get_activation("-exp(-x)"))
    assert smap.negative_on_positive
    assert sign_map(get_activation("x*(x-1)*(x-2)")).negative_on_positive  # negative on (0.42, 1)


@given(st.lists(st.floats(min_value=-3, max_value=3), min_size=2, max_size=6),
       st.lists(st.floats(min_value=0.01, max_value=1), min_size=6, max_size=6),
       st.lists(st.floats(min_value=0, max_value=2), min_size=6, max_size=6))
def test_chebyshev_covariance_inequality(support, weights, increments):
    """R3's engine: for zero-mean V and non-decreasing f, E[V f(V)] = Cov(V, f(V)) >= 0.

    Exact arithmetic on random discrete distributions and random monotone functions.
    """
    values = np.sort(np.asarray(support))
    probs = np.asarray(weights[: len(values)])
    probs = probs / probs.sum()
    values = values - probs @ values  # zero mean
    f = np.cumsum(increments[: len(values)])  # non-decreasing in V
    assert probs @ (values * f) >= -1e-12
