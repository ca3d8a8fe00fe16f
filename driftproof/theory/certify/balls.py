"""SymPy expressions compiled to Arb ball functions (outward-rounded enclosures)."""

from __future__ import annotations

from contextlib import contextmanager

import sympy as sp
from flint import arb, arb_series, ctx, fmpq, fmpz

from .rewrite import prepare

__all__ = ["Unsupported", "arb_function"]


class Unsupported(ValueError):
    """The expression uses a function the certifier cannot enclose."""


class _Undecided(Exception):
    """A Piecewise / Abs / Max / Min whose branch is not decided on the current box (series only)."""


@contextmanager
def _prec(bits: int):
    old = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = old


def _const(value: sp.Expr) -> arb:
    if isinstance(value, sp.Integer):
        return arb(fmpz(int(value)))
    if isinstance(value, sp.Rational):
        return arb(fmpq(int(value.p), int(value.q)))
    if isinstance(value, sp.Float):
        sign, man, exp, _ = value._mpf_
        if man == 0:
            return arb(0)
        return arb((fmpz(-man if sign else man), fmpz(exp)))
    if value is sp.pi:
        return arb.pi()
    if value is sp.E:
        return arb.const_e()
    raise Unsupported(f"constant {value} is not supported")


def _tanh(v):
    if isinstance(v, arb):
        return v.tanh()
    c0 = v.coeffs()[0] if v.coeffs() else arb(0)
    if c0 >= 0:
        return 1 - 2 / ((2 * v).exp() + 1)
    return 2 / ((-2 * v).exp() + 1) - 1


def _asinh(v):
    """asinh; on a Taylor series (arb_series has no asinh) as log(v + sqrt(v^2 + 1)), the same function."""
    if isinstance(v, arb):
        return v.asinh()
    return (v + (v * v + 1).sqrt()).log()


def _exp(v):
    """exp, keeping the enclosure positive on a wide ball: Arb's exp of [999984, 1000000] is a ball about
    0 ([+/- 3e434294]), and dividing by it gives nan; exp is increasing, so the hull of the ends is exact."""
    out = v.exp()
    if isinstance(v, arb) and v.is_finite() and not out > 0:
        ends = v.lower().exp().union(v.upper().exp())
        if ends > 0:
            return ends
    return out


def _decide(cond, v, sym, cache) -> bool | None:
    """Truth of a Piecewise condition on the ball v: True, False, or None (undecided)."""
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [_decide(c, v, sym, cache) for c in cond.args]
        if isinstance(cond, sp.And):
            return False if False in parts else (None if None in parts else True)
        return True if True in parts else (None if None in parts else False)
    if isinstance(cond, sp.Not):
        inner = _decide(cond.args[0], v, sym, cache)
        return None if inner is None else not inner
    if isinstance(cond, sp.core.relational.Relational):
        d = _compile(cond.lhs - cond.rhs, sym, cache)(v)
        d = d if isinstance(d, arb) else d.coeffs()[0]
        if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
            return True if d < 0 else (False if d > 0 else None)
        if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
            return True if d > 0 else (False if d < 0 else None)
        return None
    raise Unsupported(f"condition {cond} is not supported")


def _union(values):
    out = values[0]
    for other in values[1:]:
        if not isinstance(out, arb) or not isinstance(other, arb):
            raise _Undecided
        out = out.union(other)
    return out


def _compile(expr: sp.Expr, sym: sp.Symbol, cache: dict):
    """A closure evaluating ``expr`` on an arb ball or an arb_series in ``sym``."""
    key = expr
    if key in cache:
        return cache[key]
    fn = _compile_node(expr, sym, cache)
    cache[key] = fn
    return fn


def _compile_node(expr, sym, cache):
    if expr == sym:
        return lambda v: v
    if expr.is_Atom:
        if expr.has(sp.Symbol):
            raise Unsupported(f"symbol {expr} other than {sym}")
        c = _const(expr)
        return lambda v: c
    args = [_compile(a, sym, cache) for a in expr.args]
    if not expr.has(sym):  # a constant such as sqrt(2)/(2*sqrt(pi)): computed once per precision
        walked = _compile_node_uncached(expr, sym, args)
        memo: dict[int, arb] = {}

        def constant(v):
            if ctx.prec not in memo:
                memo[ctx.prec] = walked(arb(0))
            return memo[ctx.prec]
        return constant
    return _compile_node_uncached(expr, sym, args)


def _by_sign(a, positive, negative, undecided):
    """``positive`` or ``negative`` by the sign of the ball (or a series' value) ``a``; where the
    sign is not decided, ``undecided`` — or _Undecided for a series (its branch would change)."""
    c0 = a if isinstance(a, arb) else a.coeffs()[0]
    if c0 > 0:
        return positive
    if c0 < 0:
        return negative
    if undecided is None:
        raise _Undecided
    return undecided


def _compile_node_uncached(expr, sym, args):  # noqa: C901 - one dispatch table over SymPy node types
    if isinstance(expr, sp.Add):
        def add(v):
            total = args[0](v)
            for a in args[1:]:
                total = total + a(v)
            return total
        return add
    if isinstance(expr, sp.Mul):
        def mul(v):
            total = args[0](v)
            for a in args[1:]:
                total = total * a(v)
            return total
        return mul
    if isinstance(expr, sp.Pow):
        base, exponent = args
        e = expr.exp
        if e.is_Integer:
            n = int(e)
            if n >= 0:
                return lambda v: base(v) ** n
            return lambda v: 1 / (base(v) ** (-n))
        if e == sp.Rational(1, 2):
            return lambda v: base(v).sqrt()
        if e == sp.Rational(-1, 2):
            return lambda v: base(v).rsqrt()
        return lambda v: (exponent(v) * base(v).log()).exp()
    unary = {sp.exp: _exp, sp.log: lambda a: a.log(), sp.erf: lambda a: a.erf(),
             sp.erfc: lambda a: a.erfc(), sp.tanh: _tanh, sp.sin: lambda a: a.sin(), sp.cos: lambda a: a.cos(),
             sp.atan: lambda a: a.atan(), sp.asinh: _asinh}
    for kind, op in unary.items():
        if isinstance(expr, kind) and len(args) == 1:
            inner = args[0]
            return lambda v, op=op, inner=inner: op(inner(v))
    if isinstance(expr, sp.Abs):
        inner = args[0]

        def absolute(v):
            a = inner(v)
            return _by_sign(a, a, -a, abs(a) if isinstance(a, arb) else None)
        return absolute
    if isinstance(expr, (sp.Max, sp.Min)):
        pick_max = isinstance(expr, sp.Max)

        def extremum(v):
            values = [a(v) for a in args]
            if all(isinstance(a, arb) for a in values):
                out = values[0]
                for other in values[1:]:
                    out = out.max(other) if pick_max else out.min(other)
                return out
            raise _Undecided
        return extremum
    if isinstance(expr, sp.Heaviside):
        inner = args[0]

        def step(v):
            a = inner(v)
            return _by_sign(a, arb(1), arb(0), arb(0).union(arb(1)) if isinstance(a, arb) else None)
        return step
    if isinstance(expr, sp.Piecewise):
        cache: dict = {}
        pieces = [(_compile(e, sym, cache), c) for e, c in expr.args]

        def piecewise(v):
            possible = []
            for fn, cond in pieces:
                truth = _decide(cond, v, sym, cache)
                if truth is False:
                    continue
                possible.append(fn(v))
                if truth is True:
                    break
            if not possible:
                return arb.nan()
            return possible[0] if len(possible) == 1 else _union(possible)
        return piecewise
    raise Unsupported(f"function {type(expr).__name__} is not supported by the certifier")


def arb_function(expr: sp.Expr, sym: sp.Symbol):
    """A callable on arb balls or arb_series enclosing ``expr``; raises Unsupported."""
    return _compile(prepare(expr), sym, {})
