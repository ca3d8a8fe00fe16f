"""isolate_sign: the reusable certified root isolation (driftproof.theory.certify)."""

import math

import pytest
import sympy as sp
from scipy import optimize, special

from driftproof.theory.certify import Unsupported, isolate_sign

p = sp.Symbol("p", real=True)


def test_control_region_on_positive_half_line():
    """The lead's use: E[delta|p] = sigma'(p) (A sigma(p) + B S + C0) on (0, inf), floats substituted.

    For GELU with A = 1, B*S + C0 = -0.5 it is negative exactly where gelu(p) < 0.5 (scipy's brentq)."""
    gelu = p * (1 + sp.erf(p / sp.sqrt(2))) / 2
    expr = sp.diff(gelu, p) * (1.0 * gelu + 0.25 * (-3.0) + 0.25)
    iso = isolate_sign(expr, 0.0, math.inf, budget=100_000)
    assert iso.proved, iso.reason
    expected = optimize.brentq(lambda t: t * (1 + special.erf(t / math.sqrt(2))) / 2 - 0.5, 0.1, 3, xtol=1e-15)
    negative = [iv for iv in iso.intervals if iv.sign == -1]
    assert len(negative) == 1 and negative[0].lo == 0.0
    assert negative[0].hi == pytest.approx(expected, abs=1e-12)
    assert iso.intervals[-1].hi == math.inf and iso.intervals[-1].sign == 1
    root = next(r for r in iso.roots if r.lo <= expected <= r.hi or abs(r.value - expected) < 1e-12)
    assert root.multiplicity == 1 and root.changes_sign


def test_finite_window_and_exact_zero():
    iso = isolate_sign(p * sp.exp(p) - p, -1.0, 1.0)
    assert iso.proved and [iv.sign for iv in iso.intervals] == [1, 1]
    assert [r.value for r in iso.roots] == [0.0] and iso.roots[0].multiplicity == 2
    assert not iso.roots[0].changes_sign


def test_unsupported_and_budget():
    with pytest.raises(Unsupported):
        isolate_sign(sp.sin(p), -1, 1)
    starved = isolate_sign(p * (1 - sp.exp(p - 20)), 0, math.inf, budget=0.0)
    assert not starved.proved and "budget" in starved.reason


def test_tail_that_never_closes_is_not_proved():
    """sin-free but oscillating sign far out cannot be hidden: (x - 3e6) is negative up to 3e6 only."""
    iso = isolate_sign(p - 3e6, 0, math.inf, budget=100_000)
    assert iso.proved and iso.intervals[0].sign == -1 and iso.intervals[-1].sign == 1
    assert iso.roots[0].value == pytest.approx(3e6)
