"""The expression parser's grammar (sin, cos, atan, asinh, erfc, log1p, expm1, sign, Piecewise) and
register_activation, which applies the same checks to a SymPy expression as to a string."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from driftproof.activations import get_activation, register_activation, x
from driftproof.errors import InputError


@pytest.mark.parametrize("expr,reason", [(sp.Integer(3), "does not depend on x"), (sp.zoo * x, "finite real"),
                                         (sp.I * x, "finite real"), (sp.sqrt(x), "not real"),
                                         (sp.tanh(x) * sp.Symbol("y"), "only the symbol x"),
                                         # SymPy calls x**(1/3) continuous on the reals; its principal root is not
                                         (x ** sp.Rational(1, 3), "is not real for x in (-inf, 0)"),
                                         (sp.Symbol("x") ** sp.Rational(2, 5) + x, "is not real for x in (-inf, 0)")])
def test_register_activation_checks_a_sympy_expression_like_a_string(expr, reason):
    with pytest.raises(InputError) as caught:
        register_activation("mine_bad", expr)
    assert reason in str(caught.value)


def test_a_users_own_symbol_x_is_the_variable():
    """``sp.Symbol("x")`` without assumptions is not this module's real x, but it means it: accepted as x."""
    own = sp.Symbol("x")
    act = register_activation("mine_own_x", own * sp.tanh(own))
    assert act.expr == x * sp.tanh(x)
    assert np.allclose(act.numpy(np.array([-1.0, 2.0])), [np.tanh(1.0), 2 * np.tanh(2.0)])


@pytest.mark.parametrize("text,reference", [
    ("x*sin(x)", lambda v: v * mpmath.sin(v)), ("x*cos(x)", lambda v: v * mpmath.cos(v)),
    ("atan(x)", mpmath.atan), ("asinh(x)", mpmath.asinh), ("x*erfc(-x)", lambda v: v * mpmath.erfc(-v)),
    ("log1p(exp(x))", lambda v: mpmath.log(1 + mpmath.exp(v))), ("expm1(x)", mpmath.expm1),
    ("sign(x)*x**2", lambda v: mpmath.sign(v) * v**2),
    ("Piecewise((0.1*x, x < 0), (x, x <= 2), (2 + 0.5*(x - 2), True))",
     lambda v: 0.1 * v if v < 0 else (v if v <= 2 else 2 + 0.5 * (v - 2))),
])
def test_the_grown_grammar_parses_and_evaluates_like_mpmath(text, reference):
    act = get_activation(text)
    points = np.linspace(-5.0, 5.0, 41)
    with mpmath.workdps(30):
        want = np.array([float(reference(mpmath.mpf(float(v)))) for v in points])
    assert np.allclose(act.numpy(points), want, rtol=1e-12, atol=1e-14)


def test_a_string_is_parsed_never_evaluated():
    with pytest.raises(InputError):
        get_activation("Piecewise((__import__('os').getcwd(), True))")
