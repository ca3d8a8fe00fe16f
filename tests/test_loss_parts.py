"""Each loss owns its gradient's parts, its curvature and its constants: checked against SymPy (an
independent oracle) on a K = 3 instance, seed 0, tolerance 1e-12."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from driftproof.losses import LOSSES


def _symbolic(loss, z_values, y_values):
    expr, z, y = loss.symbolic(3)
    values = dict(zip(z, z_values)) | dict(zip(y, y_values))
    gradient = [float(sp.diff(expr, zk).subs(values)) for zk in z]
    trace = float(sum(sp.diff(expr, zk, 2) for zk in z).subs(values))
    return np.array(gradient), trace


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_parts_sum_to_the_symbolic_gradient_and_the_trace_is_the_hessians(name):
    loss = LOSSES[name]
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    prediction, label = loss.split(z, y)
    trace = loss.hessian_trace(z)
    for n in range(len(z)):
        gradient, hessian_trace = _symbolic(loss, z[n], np.eye(3)[y[n]])
        np.testing.assert_allclose(prediction[n] + label[n], gradient, rtol=1e-12, atol=1e-14)
        assert trace[n] == pytest.approx(hessian_trace, rel=1e-12)
    np.testing.assert_allclose(prediction + label, loss.grad(z, y), rtol=1e-12, atol=1e-14)
    assert np.allclose(label, -loss.label_scale(3) * np.eye(3)[y])  # the label part is the targets alone


def test_constants():
    assert LOSSES["mse"].curvature(10) == 10 and LOSSES["mse_mean"].curvature(10) == 1.0
    assert LOSSES["ce"].curvature(10) is None  # depends on z
    assert [LOSSES[n].label_scale(4) for n in ("mse", "mse_mean", "ce")] == [1.0, 0.25, 1.0]
    k, z_k, y_k, pi_k = sp.symbols("K z_k y_k pi_k")
    assert LOSSES["mse_mean"].symbolic_gradient(z_k, y_k, pi_k, k) == (z_k - y_k) / k
    assert LOSSES["ce"].symbolic_gradient(z_k, y_k, pi_k, k) == pi_k - y_k
