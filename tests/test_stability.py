"""Generated code (numpy and Numba) never overflows where the activation itself is moderate.

Every registered activation's σ and σ' at extreme inputs, against mpmath at 800 digits (1 - tanh(50)**2 needs 60 to resolve; the noise floor stays below 1e-300): where mpmath's
value is a float64 number, the generated value must be finite and agree to 1e-9 (relative, or 1e-300
absolute). Logistic and softplus pieces are the usual culprits (exp(800) = inf, inf/inf = nan).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from driftproof.activations import builtin_names, get_activation, x

EXTREME = np.array([-1e5, -800.0, -710.0, -50.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 39.9995, 40.0, 50.0, 710.0, 800.0, 1e5])
CASES = builtin_names() + ["x - 0.01*sigmoid((x-40)*10000)", "sigmoid(1000*x)*x", "x*sigmoid(x)",
                           "log(1+exp(x))", "x*tanh(log(1+exp(x)))", "exp(x)/(1+exp(x))"]


def _truth(expr, values):
    f = sp.lambdify(x, expr, modules="mpmath")
    out = []
    with mpmath.workdps(800):
        for v in values:
            value = f(mpmath.mpf(float(v)))
            out.append(float(value) if abs(value) < 1e300 else math.inf)
    return np.array(out)


def _agree(got, want):
    """Finite wherever the truth is a float64 number; relative agreement 1e-9 for |x| >= 1 (tails: sech²(50)
    = 1.5e-43 must not come out 0); near 0 also 1e-15 absolute (x - tanh(x) cancels there, not overflows)."""
    finite = np.isfinite(want)
    assert np.all(np.isfinite(got[finite])), (got, want)
    far = finite & (np.abs(EXTREME) >= 1)
    near = finite & (np.abs(EXTREME) < 1)
    assert np.allclose(got[far], want[far], rtol=1e-9, atol=1e-300), (got, want)
    assert np.allclose(got[near], want[near], rtol=1e-9, atol=1e-15), (got, want)


@pytest.mark.parametrize("spec", CASES)
def test_numpy_forms_are_stable_at_extreme_inputs(spec):
    act = get_activation(spec)
    _agree(act.numpy(EXTREME), _truth(act.normalized, EXTREME))
    _agree(act.numpy_derivative(EXTREME), _truth(act.derivative, EXTREME))


# the forms once unstable (cancelling sqrt(x**2 + b) + x, 1 - logistic, log(1 + tiny), inf * sech(inf)**2) too
@pytest.mark.parametrize("spec", ["silu", "softplus", "x - 0.01*sigmoid((x-40)*10000)", "sigmoid(1000*x)*x",
                                  "squareplus", "logish", "tanhexp", "smish", "dsilu", "isru", "isrlu", "bent_identity"])
def test_numba_kernels_are_stable_at_extreme_inputs(spec):
    from driftproof.compiled import activation_kernels

    act = get_activation(spec)
    kernels = activation_kernels(act)
    h, d = np.empty_like(EXTREME), np.empty_like(EXTREME)
    kernels.activate(EXTREME.copy(), h, d)
    _agree(h, _truth(act.normalized, EXTREME))
    _agree(d, _truth(act.derivative, EXTREME))
