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
