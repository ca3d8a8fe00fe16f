"""LayerNorm and RMSNorm once (driftproof.norms): the networks use it, and the Monte Carlo engine's
batched copy (montecarlo/residual.py, with gains 1 and biases 0) agrees with it to 1e-12 relative,
forward and backward (seed 0, 5 samples of width 7, three upstream parts)."""

from __future__ import annotations

import numpy as np
import pytest

from driftproof import nets, norms
from driftproof.config import Config
from driftproof.montecarlo import residual as mc_residual
from driftproof.theory.normalized import Residual
from driftproof.transformer import layers

TOL = dict(rtol=1e-12, atol=1e-14)


def test_the_networks_use_the_one_definition():
    assert nets.layernorm is norms.layernorm and nets.layernorm_backward is norms.layernorm_backward
    assert layers.rmsnorm is norms.rmsnorm and layers.layernorm is norms.layernorm


@pytest.mark.parametrize("norm, eps", [("layernorm", 1e-5), ("rmsnorm", 1e-6), ("layernorm", 0.0)])
def test_the_monte_carlo_copy_agrees(norm, eps):
    rng = np.random.default_rng(0)
    x, du = 2.0 * rng.standard_normal((5, 7)) + 0.5, rng.standard_normal((5, 7, 3))
    res = Residual(Config(width=7), norm, eps)
    ones, zeros = np.ones(7), np.zeros(7)
    if norm == "layernorm":
        expected, saved = norms.layernorm(x, ones, zeros, eps)
        backward = [norms.layernorm_backward(du[..., m], ones, saved)[0] for m in range(3)]
    else:
        expected, saved = norms.rmsnorm(x, ones, eps)
        backward = [norms.rmsnorm_backward(du[..., m], ones, saved)[0] for m in range(3)]
    u, mc_saved = mc_residual._norm(res, x)
    np.testing.assert_allclose(u, expected, **TOL)
    np.testing.assert_allclose(mc_residual._norm_backward(res, du, mc_saved), np.stack(backward, axis=2), **TOL)
