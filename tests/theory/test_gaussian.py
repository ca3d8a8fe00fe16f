"""Gauss-Legendre between kinks (the default for kinked and half-line moments) against SciPy's QUADPACK."""

from __future__ import annotations

import math

import pytest

from driftproof.activations import get_activation
from driftproof.theory import gaussian
from driftproof.theory.gaussian import MOMENTS, gaussian_moment


def _quadpack(name: str, moment: str, q: float):
    activation = get_activation(name)
    kinks = [b for b in activation.breakpoints if math.isfinite(b)]
    segments = gaussian._segments(kinks, MOMENTS[moment][1])
    return gaussian._quadpack(gaussian._integrand(activation, moment), q, segments)


@pytest.mark.parametrize("q", [0.3, 1.7, 25.0])
@pytest.mark.parametrize("name,moment", [
    ("gelu", "sigma_dsigma_pos"), ("silu", "sigma_dsigma_pos"), ("softplus", "sigma_dsigma_pos"),
    ("mish", "sigma_dsigma_pos"), ("gelu2", "sigma_dsigma_pos"), ("tanh", "sigma_dsigma_pos"),
    ("elu", "sigma"), ("elu", "sigma2"), ("elu", "sigma_dsigma"), ("elu", "p_sigma_dsigma"),
    ("elu", "sigma_dsigma_pos"),
])
def test_gauss_legendre_agrees_with_quadpack_within_both_error_bounds(name, moment, q):
    """Each moment at q = 0.3, 1.7, 25: |GL - QUADPACK| <= the sum of their stated errors (+ 1e-15 relative),
    and GL's error meets QUADPACK's own targets (1e-13 absolute or 1e-11 relative)."""
    ours = gaussian_moment(get_activation(name), moment, q)
    assert ours.method.startswith("quadrature: Gauss-Legendre")
    reference = _quadpack(name, moment, q)
    error = ours.ci_high - ours.mean
    assert abs(ours.mean - reference.mean) <= error + (reference.ci_high - reference.mean) + 1e-15 * abs(ours.mean)
    assert error <= max(1e-13, 1e-11 * abs(ours.mean))


def test_an_integrand_alive_at_the_cut_off_falls_back_to_quadpack():
    """exp(3x) at q = 0.3: f(p) phi(p) at 38 sd is ~1e-260, not negligible: QUADPACK integrates it."""
    result = gaussian_moment(get_activation("exp(3*x)"), "sigma_dsigma_pos", 0.3)
    assert result.method.startswith("quadrature: adaptive (QUADPACK)")
    assert result.mean == pytest.approx(_quadpack("exp(3*x)", "sigma_dsigma_pos", 0.3).mean, rel=1e-12)


@pytest.mark.parametrize("q", [0.5, 2.0])
def test_a_narrow_feature_is_integrated_not_stepped_over(q):
    """x*(1-2*exp(-(10000*(x-1))**2)): a dip of width 1e-4 at p = 1 carries all of E[σσ'] (the rest is odd).
    Nodes one standard deviation apart gave -3.3e-124; split at the feature, the quadrature must agree with
    mpmath (30 digits, split at the same scale) within its own stated error."""
    import mpmath

    activation = get_activation("x*(1-2*exp(-(10000*(x-1))**2))")
    got = gaussian_moment(activation, "sigma_dsigma", q)
    mpmath.mp.dps = 30

    def integrand(t):
        bump = mpmath.exp(-(10000 * (t - 1)) ** 2)
        sigma, dsigma = t * (1 - 2 * bump), 1 - 2 * bump + 4e8 * t * (t - 1) * bump
        return sigma * dsigma * mpmath.npdf(t, 0, mpmath.sqrt(q))

    edges = [-mpmath.inf, -1, 0, 1 - 1e-3, 1 - 1e-4, 1, 1 + 1e-4, 1 + 1e-3, 2, mpmath.inf]
    truth = float(mpmath.quad(integrand, edges))
    assert truth < -1e-6
    assert abs(got.mean - truth) <= (got.ci_high - got.mean) + 1e-12 * abs(truth)


def test_the_drift_row_and_the_verdict_line_share_one_rule():
    """A value within its error bound is 'unresolved' in both places; outside it, its sign."""
    from driftproof.render import drift_word

    assert drift_word(-1.1e-5, 1.0, 2e-13) == "negative"
    assert drift_word(-1e-10, 1.0, 1e-9) == "unresolved"
    assert drift_word(1e-20, 1.0, 0.0) == "none"
