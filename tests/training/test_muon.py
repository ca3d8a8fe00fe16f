"""Muon: the Newton-Schulz iteration against its direct computation on the singular values, and one step."""

import numpy as np
import pytest
from hypothesis import given

from driftproof.optim import MUON_LR_RATIO, NS_COEFFICIENTS, NS_STEPS, make_optimizer, newton_schulz

from ..strategies import seeds


def _direct(g: np.ndarray) -> np.ndarray:
    """U p(S) V^T, p the quintic iterated NS_STEPS times on the singular values of G / ||G||_F."""
    u, s, vt = np.linalg.svd(g / (np.linalg.norm(g) + 1e-7), full_matrices=False)  # eps as in newton_schulz
    a, b, c = NS_COEFFICIENTS
    for _ in range(NS_STEPS):
        s = a * s + b * s**3 + c * s**5
    return (u * s) @ vt


@given(seed=seeds)
def test_newton_schulz_is_the_quintic_on_the_singular_values(seed):
    rng = np.random.default_rng(seed)
    for shape in ((12, 5), (5, 12), (9, 9)):
        g = rng.standard_normal(shape)
        np.testing.assert_allclose(newton_schulz(g), _direct(g), rtol=0, atol=1e-9)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (512, 128)])
def test_newton_schulz_orthogonalizes_a_random_matrix(shape):
    """Every singular value of the update in [0.68, 1.2] (5 quintic steps; exactly 1 is not Muon's aim),
    seed 0, Gaussian matrices (rectangular: their smallest singular value is far from 0)."""
    g = np.random.default_rng(0).standard_normal(shape)
    s = np.linalg.svd(newton_schulz(g), compute_uv=False)
    assert 0.68 <= s.min() and s.max() <= 1.2, (s.min(), s.max())
    # against the plain polar factor U V^T: close in the operator norm
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    assert np.linalg.norm(newton_schulz(g) - u @ vt, 2) < 0.35


def test_muon_step_splits_hidden_matrices_from_the_rest():
    """First step: hidden matrices move by -0.1 lr sqrt(max dim) NS(g); the embedding takes AdamW's sign-like step."""
    rng = np.random.default_rng(1)
    params = {"L1.Wup": rng.standard_normal((8, 4)), "wte": rng.standard_normal((6, 4)), "g": np.ones(4)}
    grads = {name: rng.standard_normal(p.shape) for name, p in params.items()}
    before = {name: p.copy() for name, p in params.items()}
    lr = 0.01
    opt = make_optimizer("muon", lr, steps=10, hidden_matrices=["L1.Wup"])
    opt.step(params, grads)
    expected = before["L1.Wup"] - MUON_LR_RATIO * lr * np.sqrt(8) * newton_schulz(grads["L1.Wup"])
    np.testing.assert_allclose(params["L1.Wup"], expected, rtol=1e-8)  # NS is scale-invariant up to its eps
    # AdamW's first step is lr * g / (|g| + eps'): lr * sign(g) to ~1e-6
    for name in ("wte", "g"):
        np.testing.assert_allclose(params[name], before[name] - lr * np.sign(grads[name]), rtol=0, atol=1e-7)
