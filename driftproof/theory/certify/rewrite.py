"""Exact rewrites that keep tails from cancelling: c + c*erf(a) -> c*erfc(-a), and the like."""

from __future__ import annotations

import sympy as sp

__all__ = ["prepare"]


def _fix_add(expr: sp.Add) -> sp.Expr:
    """c + c*erf(a) -> c*erfc(-a), c - c*tanh(a)**2 -> 4c/(e^a+e^-a)^2, ... (exact identities).

    The pair is rewritten inside a longer sum too; the other terms are kept.
    """
    const, rest = expr.as_independent(sp.Symbol, as_Add=True)
    if const == 0:
        return expr
    terms = list(sp.Add.make_args(rest))
    for i, term in enumerate(terms):
        coeff, core = term.as_coeff_Mul()
        if coeff == 0 or coeff not in (const, -const):
            continue
        same = coeff == const
        if isinstance(core, sp.erf):
            a = core.args[0]
            pair = const * sp.erfc(-a if same else a, evaluate=False)
        elif isinstance(core, sp.tanh):
            a = core.args[0] if same else -core.args[0]
            pair = 2 * const / (1 + sp.exp(-2 * a))
        elif isinstance(core, sp.Pow) and core.exp == 2 and isinstance(core.base, sp.tanh) and not same:
            a = core.base.args[0]
            pair = 4 * const / (sp.exp(a) + sp.exp(-a)) ** 2
        else:
            continue
        return sp.Add(pair, *(terms[:i] + terms[i + 1:]))
    return expr


def prepare(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the cancelling sums above rewritten; mathematically equal."""
    return sp.sympify(expr).replace(lambda e: isinstance(e, sp.Add), _fix_add)
