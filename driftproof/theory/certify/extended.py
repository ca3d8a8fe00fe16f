"""Extended intervals for the tails: enclosures over unbounded boxes that track attained ends.

x never equals inf, so exp(x) > 0 on (-inf, -W] even though its infimum is 0: each end of
an ``_XI`` records whether it is attained (closed) or only approached (open).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cmp_to_key, lru_cache

import sympy as sp
from flint import arb, fmpq

from .balls import _compile

INF = math.inf


@dataclass(frozen=True)
class _XI:
    """A set of reals inside [lo, hi] (ends arb-exact or +-inf); an open end is not attained."""

    lo: object
    hi: object
    lo_open: bool = False
    hi_open: bool = False

    def sign(self) -> int | None:
        if _gt0(self.lo) or (_is0(self.lo) and self.lo_open):
            return 1
        if _lt0(self.hi) or (_is0(self.hi) and self.hi_open):
            return -1
        return None


def _is_inf(e) -> bool:
    return isinstance(e, float) and math.isinf(e)


def _is0(e) -> bool:
    return not _is_inf(e) and e.is_zero()


def _gt0(e) -> bool:
    return e == INF if _is_inf(e) else bool(e > 0)


def _lt0(e) -> bool:
    return e == -INF if _is_inf(e) else bool(e < 0)


def _lower(ball: arb):
    if not ball.is_finite():
        raise _TailFail
    return ball.lower()


def _upper(ball: arb):
    if not ball.is_finite():
        raise _TailFail
    return ball.upper()


class _TailFail(Exception):
    pass


def _point(e) -> arb:
    """The exact number that stands for a finite end: the ball itself if exact, else its lower bound."""
    return e if e.rad() == 0 else e.lower()


def _compare(a, b) -> int:
    """-1, 0 or 1: the order of two ends (floats ±inf or arb balls), decided in Arb.

    Never through float(): an end like exp(1e22) is finite but overflows a double, and a
    float key once ranked it equal to +inf, so a maximum picked it over +inf and an unbounded
    enclosure came out bounded (a wrong sign on a tail).
    """
    if _is_inf(a) or _is_inf(b):
        rank_a = (1 if a > 0 else -1) if _is_inf(a) else 0
        rank_b = (1 if b > 0 else -1) if _is_inf(b) else 0
        return (rank_a > rank_b) - (rank_a < rank_b)
    pa, pb = _point(a), _point(b)
    return 1 if pa > pb else -1 if pa < pb else 0


_key = cmp_to_key(_compare)  # a sort key for ends: max(ends, key=_key)


def _less(a, b) -> bool:
    return _compare(a, b) < 0


def _xi_const(c: arb) -> _XI:
    return _XI(_lower(c), _upper(c))


def _xi_neg(a: _XI) -> _XI:
    return _XI(_neg(a.hi), _neg(a.lo), a.hi_open, a.lo_open)


def _neg(e):
    return -e if _is_inf(e) else -e


def _add_end(a, b, lower: bool):
    if _is_inf(a) or _is_inf(b):
        if _is_inf(a) and _is_inf(b) and a != b:
            raise _TailFail
        return a if _is_inf(a) else b
    s = a + b
    return s.lower() if lower else s.upper()


def _xi_add(a: _XI, b: _XI) -> _XI:
    return _XI(_add_end(a.lo, b.lo, True), _add_end(a.hi, b.hi, False),
               a.lo_open or b.lo_open, a.hi_open or b.hi_open)


def _corner(a, a_open, b, b_open):
    """(lower, upper, open) of the product of two interval ends (0 * inf = 0, see module doc)."""
    if (not _is_inf(a) and a.is_zero()) or (not _is_inf(b) and b.is_zero()):
        zero_closed = (not _is_inf(a) and a.is_zero() and not a_open) or \
                      (not _is_inf(b) and b.is_zero() and not b_open)
        return arb(0), arb(0), not zero_closed
    if _is_inf(a) or _is_inf(b):
        sa = (1 if a > 0 else -1) if _is_inf(a) else (1 if a > 0 else -1)
        sb = (1 if b > 0 else -1) if _is_inf(b) else (1 if b > 0 else -1)
        value = INF if sa * sb > 0 else -INF
        return value, value, True
    p = a * b
    return p.lower(), p.upper(), a_open or b_open


def _xi_mul(a: _XI, b: _XI) -> _XI:
    corners = [_corner(ea, oa, eb, ob) for ea, oa in ((a.lo, a.lo_open), (a.hi, a.hi_open))
               for eb, ob in ((b.lo, b.lo_open), (b.hi, b.hi_open))]
    lo = min((c[0] for c in corners), key=_key)
    hi = max((c[1] for c in corners), key=_key)
    lo_open = all(c[2] for c in corners if not _less(lo, c[0]) and not _less(c[0], lo))
    hi_open = all(c[2] for c in corners if not _less(hi, c[1]) and not _less(c[1], hi))
    return _XI(lo, hi, lo_open, hi_open)


def _xi_inv(a: _XI) -> _XI:
    positive = _gt0(a.lo) or (_is0(a.lo) and a.lo_open)
    negative = _lt0(a.hi) or (_is0(a.hi) and a.hi_open)
    if not (positive or negative):
        raise _TailFail

    def inv(e, lower):
        if _is_inf(e):
            return arb(0)
        if e.is_zero():
            return INF if positive else -INF
        r = 1 / e
        return r.lower() if lower else r.upper()
    return _XI(inv(a.hi, True), inv(a.lo, False), a.hi_open or _is_inf(a.hi), a.lo_open or _is_inf(a.lo))


def _monotone(a: _XI, fn, at_minus_inf, at_plus_inf, increasing=True) -> _XI:
    def end(e, lower):
        if _is_inf(e):
            return at_plus_inf if e > 0 else at_minus_inf
        ball = fn(e)
        if _is_inf(ball):
            return ball
        return _lower(ball) if lower else _upper(ball)
    # an infinite end is never attained
    lo_open, hi_open = a.lo_open or _is_inf(a.lo), a.hi_open or _is_inf(a.hi)
    if increasing:
        return _XI(end(a.lo, True), end(a.hi, False), lo_open, hi_open)
    return _XI(end(a.hi, True), end(a.lo, False), hi_open, lo_open)


def _xi_pow(a: _XI, n: int) -> _XI:
    if n == 0:
        return _XI(arb(1), arb(1))
    if n < 0:
        return _xi_inv(_xi_pow(a, -n))
    power = lambda e: e ** n  # noqa: E731
    if n % 2 == 1 or _gt0(a.lo) or _is0(a.lo):
        return _monotone(a, power, -INF if n % 2 else INF, INF)
    if _lt0(a.hi) or _is0(a.hi):
        return _monotone(a, power, INF, INF if n % 2 == 0 else -INF, increasing=False)
    top = max(_xi_abs_ends(a), key=lambda t: _key(t[0]))
    top_val = top[0] if _is_inf(top[0]) else _upper(top[0] ** n)
    return _XI(arb(0), top_val, False, top[1])


def _xi_abs_ends(a: _XI):
    return [(_neg(a.lo), a.lo_open or _is_inf(a.lo)), (a.hi, a.hi_open or _is_inf(a.hi))]


def _xi_abs(a: _XI) -> _XI:
    if _gt0(a.lo) or _is0(a.lo):
        return a
    if _lt0(a.hi) or _is0(a.hi):
        return _xi_neg(a)
    top = max(_xi_abs_ends(a), key=lambda t: _key(t[0]))
    return _XI(arb(0), top[0], False, top[1])


def _xi_hull(parts: list[_XI]) -> _XI:
    lo = min(parts, key=lambda p: _key(p.lo))
    hi = max(parts, key=lambda p: _key(p.hi))
    return _XI(lo.lo, hi.hi, all(p.lo_open for p in parts if not _less(lo.lo, p.lo)),
               all(p.hi_open for p in parts if not _less(p.hi, hi.hi)))


def _xi_eval(expr: sp.Expr, sym: sp.Symbol, box: _XI) -> _XI:
    """Enclosure of ``expr`` for ``sym`` in ``box`` (unbounded allowed); raises _TailFail."""
    if expr == sym:
        return box
    if not expr.has(sym):
        return _xi_const(_compile(expr, sym, {})(arb(0)))
    for kind, rule in _XI_RULES:
        if isinstance(expr, kind):
            return rule(expr, sym, box)
    raise _TailFail


def _xi_fold(combine):
    def rule(expr, sym, box):
        out = _xi_eval(expr.args[0], sym, box)
        for a in expr.args[1:]:
            out = combine(out, _xi_eval(a, sym, box))
        return out
    return rule


def _xi_eval_pow(expr: sp.Pow, sym, box) -> _XI:
    base = _xi_eval(expr.base, sym, box)
    if expr.exp.is_Integer:
        return _xi_pow(base, int(expr.exp))
    if not expr.exp.is_Rational:
        return _xi_eval(sp.exp(expr.exp * sp.log(expr.base)), sym, box)
    if not (_gt0(base.lo) or _is0(base.lo)):
        raise _TailFail
    if expr.exp > 0:
        return _xi_pow_rational(base, expr.exp)
    return _xi_inv(_xi_pow_rational(base, -expr.exp))


def _xi_eval_log(expr: sp.log, sym, box) -> _XI:
    inner = _xi_eval(expr.args[0], sym, box)
    if not (_gt0(inner.lo) or (_is0(inner.lo) and inner.lo_open)):
        raise _TailFail
    return _monotone(inner, lambda e: -INF if e.is_zero() else e.log(), -INF, INF)


def _xi_monotone_rule(fn, at_minus_inf, at_plus_inf, increasing=True):
    def rule(expr, sym, box):
        return _monotone(_xi_eval(expr.args[0], sym, box), fn, at_minus_inf, at_plus_inf, increasing)
    return rule


def _xi_eval_extremum(expr, sym, box) -> _XI:
    return _xi_extremum([_xi_eval(a, sym, box) for a in expr.args], isinstance(expr, sp.Max))


def _xi_eval_heaviside(expr: sp.Heaviside, sym, box) -> _XI:
    s = _xi_eval(expr.args[0], sym, box).sign()
    return _XI(arb(1), arb(1)) if s == 1 else _XI(arb(0), arb(0)) if s == -1 else _XI(arb(0), arb(1))


def _xi_eval_piecewise(expr: sp.Piecewise, sym, box) -> _XI:
    parts = []
    for e, cond in expr.args:
        truth = _xi_decide(cond, sym, box)
        if truth is False:
            continue
        parts.append(_xi_eval(e, sym, box))
        if truth is True:
            break
    if not parts:
        raise _TailFail
    return _xi_hull(parts)


def _unbounded(box: _XI) -> bool:
    return _is_inf(box.lo) or _is_inf(box.hi)


def _xi_eval_mul(expr: sp.Mul, sym, box) -> _XI:
    """A product, factor by factor; on a tail, a polynomial times a decaying exponential
    (x * exp(-x) on [16, oo): oo * 0 to the factors' enclosures) by its monotone decay to 0."""
    try:
        out = _xi_fold(lambda a, b: _xi_mul(a, b))(expr, sym, box)
    except _TailFail:
        if not _unbounded(box):
            raise
        out = None
    if out is not None and not (_unbounded(box) and (_is_inf(out.lo) or _is_inf(out.hi))):
        return out
    decay = _xi_decay(expr, sym, box)
    if decay is not None:
        return decay
    if out is None:
        raise _TailFail
    return out


def _xi_decay(expr: sp.Mul, sym, box) -> _XI | None:
    """P(x) exp(U(x)) on a tail where U -> -oo (P, U polynomials): when (P e^U)' = (P' + P U') e^U has
    no real root on the tail (SymPy, exact), P e^U moves monotonically from its value at the edge to
    its limit 0, so it lies between them (0 not attained)."""
    factors = sp.Mul.make_args(expr)
    exps = [f for f in factors if isinstance(f, sp.exp)]
    rest = [f for f in factors if not isinstance(f, sp.exp)]
    if not exps or not all(f.is_polynomial(sym) for f in rest):
        return None
    side = 1 if _is_inf(box.hi) else -1
    edge = box.lo if side > 0 else box.hi
    if _is_inf(edge) or edge.rad() != 0:
        return None
    p_poly, u_poly = sp.Mul(*rest), sp.expand(sp.Add(*(f.args[0] for f in exps)))
    if not u_poly.is_polynomial(sym) or not _decays_monotonically(p_poly, u_poly, sym, side,
                                                                    sp.Rational(float(edge.mid()))):
        return None
    at_edge = _compile(expr, sym, {})(edge)
    if at_edge > 0:
        return _XI(arb(0), _upper(at_edge), True, False)
    if at_edge < 0:
        return _XI(_lower(at_edge), arb(0), False, True)
    return None


MAX_DECAY_DEGREE = 8  # P and U of higher degree are not tried (exact real roots of a big polynomial cost too much)


@lru_cache(maxsize=512)
def _decays_monotonically(p_poly: sp.Expr, u_poly: sp.Expr, sym: sp.Symbol, side: int, edge: sp.Rational) -> bool:
    try:
        if max(sp.degree(p_poly, sym), sp.degree(u_poly, sym)) > MAX_DECAY_DEGREE:
            return False
    except sp.PolynomialError:
        return False
    # degree <= MAX_DECAY_DEGREE with rational coefficients: exact real roots are cheap (no bounded child)
    return _decay_roots(p_poly, u_poly, sym, side, edge)


def _decay_roots(p_poly, u_poly, sym, side, edge) -> bool:
    p_poly, u_poly = exact_rationals(p_poly), exact_rationals(u_poly)
    u = sp.Poly(u_poly, sym)
    slope = sp.Poly(sp.expand(sp.diff(p_poly, sym) + p_poly * sp.diff(u_poly, sym)), sym)
    if u.domain not in (sp.ZZ, sp.QQ) or slope.domain not in (sp.ZZ, sp.QQ):
        return False  # coefficients such as sqrt(2): no exact real roots here
    if u.degree() < 1 or u.LC() * side ** u.degree() >= 0:
        return False  # U does not go to -oo on this side
    if slope.is_zero:
        return False
    return not any((r >= edge) if side > 0 else (r <= edge) for r in slope.real_roots())


def exact_rationals(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each float replaced by the rational it stands for exactly (0.1 -> 3602879701896397/2**55)."""
    return expr.xreplace({f: sp.Rational(f) for f in expr.atoms(sp.Float)})


# One rule per node type the tails support; anything else cannot be enclosed (_TailFail).
_XI_RULES = (
    (sp.Add, _xi_fold(lambda a, b: _xi_add(a, b))),
    (sp.Mul, _xi_eval_mul),
    (sp.Pow, _xi_eval_pow),
    (sp.exp, _xi_monotone_rule(lambda e: e.exp(), arb(0), INF)),
    (sp.log, _xi_eval_log),
    (sp.tanh, _xi_monotone_rule(lambda e: e.tanh(), arb(-1), arb(1))),
    (sp.erf, _xi_monotone_rule(lambda e: e.erf(), arb(-1), arb(1))),
    (sp.erfc, _xi_monotone_rule(lambda e: e.erfc(), arb(2), arb(0), increasing=False)),
    (sp.Abs, lambda expr, sym, box: _xi_abs(_xi_eval(expr.args[0], sym, box))),
    ((sp.Max, sp.Min), _xi_eval_extremum),
    (sp.Heaviside, _xi_eval_heaviside),
    (sp.Piecewise, _xi_eval_piecewise),
)


def _xi_pow_rational(base: _XI, r: sp.Rational) -> _XI:
    rr = arb(fmpq(int(r.p), int(r.q)))
    return _monotone(base, lambda e: (rr * e.log()).exp() if not e.is_zero() else arb(0), arb(0), INF)


def _xi_extremum(parts: list[_XI], pick_max: bool) -> _XI:
    pick = max if pick_max else min
    lo = pick(parts, key=lambda p: _key(p.lo))
    hi = pick(parts, key=lambda p: _key(p.hi))
    return _XI(lo.lo, hi.hi, lo.lo_open, hi.hi_open)


def _xi_decide(cond, sym, box) -> bool | None:
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.core.relational.Relational):
        s = _xi_eval(cond.lhs - cond.rhs, sym, box).sign()
        if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
            return None if s is None else s < 0
        if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
            return None if s is None else s > 0
    return None
