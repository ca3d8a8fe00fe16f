"""Certified sign isolation of a one-variable SymPy expression by ball arithmetic (Arb).

``isolate_sign(expr, lo, hi, budget)`` proves the sign of ``expr`` on the whole interval
``[lo, hi]`` (either end may be infinite) or says what it could not prove. Nothing is
sampled: every statement comes from an outward-rounded enclosure.

How a sign is proved
    * The SymPy tree is walked once into Arb operations (Add, Mul, Pow, exp, log, tanh, erf,
      erfc, sqrt, Abs, Max, Min, Heaviside, Piecewise, numbers, pi, E); any other node makes
      the expression *unsupported* (``Unsupported``). Nothing is eval'd or lambdified.
      ``c + c*erf(a)``, ``c - c*erf(a)``, ``c + c*tanh(a)`` and ``c - c*tanh(a)**2`` are first
      rewritten through erfc / exp (exact identities) so that tails do not cancel.
    * Window: branch and bound. A box whose enclosure excludes 0 has that sign. Otherwise,
      if the enclosure of f' (Arb's automatic differentiation, ``arb_series``) excludes 0,
      f is strictly monotone on the box and the signs at its two ends decide it: the same
      sign, or exactly one root, which is refined by bisection to a float-width enclosure.
      A multiple root is accepted only at an exact point x0 (a dyadic number) where Arb
      proves f(x0) = ... = f^(k-1)(x0) = 0 exactly and the enclosure of f^(k) over the box
      excludes 0 (Taylor with Lagrange remainder). Anything else is subdivided down to a
      minimum width and then reported as unresolved: never guessed.
    * Tails: the window starts at [-16, 16] and grows fourfold until each tail [W, inf) is
      closed by one of two arguments, else the answer stays inconclusive:
      (a) an enclosure over the unbounded interval in extended interval arithmetic that
          tracks whether each bound is attained (x never equals inf, so exp(x) > 0 on
          (-inf, -W] even though its infimum is 0) — applied to equivalent forms of f
          (as given, factor_terms, together, factor, tanh rewritten as exp) and factor by
          factor of a product;
      (b) monotonicity: the enclosure of g' has a strict sign on the tail, g(W) has a proved
          sign, and L = lim g (SymPy's Gruntz algorithm) lies on the same side, so g stays
          strictly between g(W) and L.

Returns an ``Isolation``: the certified sign intervals, the certified roots (each an
enclosure holding exactly one zero; sign intervals meet at the root's float midpoint), the
window that was certified, how each tail was closed, and ``proved``.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from flint import arb, arb_series, ctx, fmpq, fmpz

from .bounded import bounded

__all__ = ["Unsupported", "CertifiedInterval", "CertifiedRoot", "Isolation", "isolate_sign",
           "DEFAULT_BUDGET", "arb_function", "prepare"]

DEFAULT_BUDGET = 10.0  # seconds
START_WINDOW = 16.0
MAX_WINDOW = 2.0**64
BOX_PREC = 64
POINT_PRECS = (64, 256, 1024, 4096)
MIN_REL_WIDTH = 1e-13
TAYLOR_REL_WIDTH = 1e-4
MAX_MULTIPLICITY = 8
MAX_BOXES = 400_000


class Unsupported(ValueError):
    """The expression uses a function the certifier cannot enclose."""


class _Undecided(Exception):
    """A Piecewise / Abs / Max / Min whose branch is not decided on the current box (series only)."""


class _OutOfTime(Exception):
    pass


@contextmanager
def _prec(bits: int):
    old = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = old


SYMPY_STEP_LIMIT = 0.3  # seconds for one SymPy factor / limit call on a tail


def _limited(make, seconds: float):
    """make(), or None when it raises or runs past ``seconds`` or its memory limit.

    SymPy can run away (``factor`` of exp(-(x - c)**2) with a float c builds a polynomial in
    exp(x) of enormous degree), so the step runs in a bounded child process (``bounded``).
    """
    return bounded(make, seconds)


# ----------------------------------------------------------------------------- rewriting

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


# ----------------------------------------------------------------------------- Arb balls

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
    unary = {sp.exp: lambda a: a.exp(), sp.log: lambda a: a.log(), sp.erf: lambda a: a.erf(),
             sp.erfc: lambda a: a.erfc(), sp.tanh: _tanh}
    for kind, op in unary.items():
        if isinstance(expr, kind) and len(args) == 1:
            inner = args[0]
            return lambda v, op=op, inner=inner: op(inner(v))
    if isinstance(expr, sp.Abs):
        inner = args[0]

        def absolute(v):
            a = inner(v)
            c0 = a if isinstance(a, arb) else a.coeffs()[0]
            if c0 > 0:
                return a
            if c0 < 0:
                return -a
            if isinstance(a, arb):
                return abs(a)
            raise _Undecided
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
            c0 = a if isinstance(a, arb) else a.coeffs()[0]
            if c0 > 0:
                return arb(1)
            if c0 < 0:
                return arb(0)
            if isinstance(a, arb):
                return arb(0).union(arb(1))
            raise _Undecided
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


# ------------------------------------------------------- extended intervals for the tails

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


def _key(e) -> float:
    return e if _is_inf(e) else float(e.mid()) if e.rad() == 0 else float(e.lower())


def _less(a, b) -> bool:
    if _is_inf(a) or _is_inf(b):
        return _key(a) < _key(b)
    return bool(a < b)


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


def _xi_eval(expr: sp.Expr, sym: sp.Symbol, box: _XI) -> _XI:  # noqa: C901 - dispatch on node type
    """Enclosure of ``expr`` for ``sym`` in ``box`` (unbounded allowed); raises _TailFail."""
    if expr == sym:
        return box
    if not expr.has(sym):
        return _xi_const(_compile(expr, sym, {})(arb(0)))
    args = expr.args
    if isinstance(expr, sp.Add):
        out = _xi_eval(args[0], sym, box)
        for a in args[1:]:
            out = _xi_add(out, _xi_eval(a, sym, box))
        return out
    if isinstance(expr, sp.Mul):
        out = _xi_eval(args[0], sym, box)
        for a in args[1:]:
            out = _xi_mul(out, _xi_eval(a, sym, box))
        return out
    if isinstance(expr, sp.Pow):
        base = _xi_eval(expr.base, sym, box)
        if expr.exp.is_Integer:
            return _xi_pow(base, int(expr.exp))
        if expr.exp.is_Rational:
            if not (_gt0(base.lo) or _is0(base.lo)):
                raise _TailFail
            if expr.exp > 0:
                return _xi_pow_rational(base, expr.exp)
            return _xi_inv(_xi_pow_rational(base, -expr.exp))
        return _xi_eval(sp.exp(expr.exp * sp.log(expr.base)), sym, box)
    if isinstance(expr, sp.exp):
        return _monotone(_xi_eval(args[0], sym, box), lambda e: e.exp(), arb(0), INF)
    if isinstance(expr, sp.log):
        inner = _xi_eval(args[0], sym, box)
        if not (_gt0(inner.lo) or (_is0(inner.lo) and inner.lo_open)):
            raise _TailFail
        return _monotone(inner, lambda e: -INF if e.is_zero() else e.log(), -INF, INF)
    if isinstance(expr, sp.tanh):
        return _monotone(_xi_eval(args[0], sym, box), lambda e: e.tanh(), arb(-1), arb(1))
    if isinstance(expr, sp.erf):
        return _monotone(_xi_eval(args[0], sym, box), lambda e: e.erf(), arb(-1), arb(1))
    if isinstance(expr, sp.erfc):
        return _monotone(_xi_eval(args[0], sym, box), lambda e: e.erfc(), arb(2), arb(0), increasing=False)
    if isinstance(expr, sp.Abs):
        return _xi_abs(_xi_eval(args[0], sym, box))
    if isinstance(expr, (sp.Max, sp.Min)):
        parts = [_xi_eval(a, sym, box) for a in args]
        return _xi_extremum(parts, isinstance(expr, sp.Max))
    if isinstance(expr, sp.Heaviside):
        s = _xi_eval(args[0], sym, box).sign()
        return _XI(arb(1), arb(1)) if s == 1 else _XI(arb(0), arb(0)) if s == -1 else _XI(arb(0), arb(1))
    if isinstance(expr, sp.Piecewise):
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
    raise _TailFail


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


# ------------------------------------------------------------------------------ results

@dataclass(frozen=True)
class CertifiedInterval:
    """expr has the proved strict sign (+1 or -1) on the open interval (lo, hi)."""

    lo: float
    hi: float
    sign: int

    def to_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "sign": self.sign}


@dataclass(frozen=True)
class CertifiedRoot:
    """Exactly one zero of expr lies in [lo, hi]; ``value`` is the float nearest its midpoint.

    ``multiplicity`` 1: f' is bounded away from 0 on the enclosure; k > 1: f vanishes to
    order k at the exact point ``value`` (then lo == hi == value and ``exact`` is True).
    """

    lo: float
    hi: float
    value: float
    multiplicity: int
    exact: bool
    changes_sign: bool

    def to_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "value": self.value, "multiplicity": self.multiplicity,
                "exact": self.exact, "changes_sign": self.changes_sign}


@dataclass(frozen=True)
class Isolation:
    """The outcome of ``isolate_sign``: what was proved on [domain], and what was not."""

    domain: tuple[float, float]
    intervals: tuple[CertifiedInterval, ...]
    roots: tuple[CertifiedRoot, ...]
    unresolved: tuple[tuple[float, float], ...]
    window: tuple[float, float]
    tails: tuple[str, str]
    proved: bool
    reason: str
    seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict:
        return {"domain": list(self.domain), "intervals": [iv.to_dict() for iv in self.intervals],
                "roots": [r.to_dict() for r in self.roots], "unresolved": [list(u) for u in self.unresolved],
                "window": list(self.window), "tails": list(self.tails), "proved": self.proved,
                "reason": self.reason}


# ------------------------------------------------------------------------ branch and bound

def _ball(u: float, v: float) -> arb:
    return arb(u) if u == v else arb(u).union(arb(v))


def _ball_sign(value: arb) -> int | None:
    if value > 0:
        return 1
    if value < 0:
        return -1
    return None


def _dyadic_points(u: float, v: float):
    """The simplest dyadic numbers in [u, v] (0, integers, halves, ...), at most a few."""
    if u <= 0 <= v:
        yield 0.0
        return
    for k in range(-60, 64):
        step = 2.0**-k if k >= 0 else 2.0 ** (-k)
        if k < 0:
            continue
        n = math.ceil(u / step)
        if n * step <= v:
            yield n * step
            return


class _Certifier:
    def __init__(self, expr: sp.Expr, sym: sp.Symbol, deadline: float):
        self.sym = sym
        self.expr = prepare(expr)
        self.f = _compile(self.expr, sym, {})
        self.deadline = deadline
        self.boxes = 0
        self._forms: dict = {}
        self._limits: dict = {}

    # -- evaluations
    def value(self, ball: arb, prec: int = BOX_PREC) -> arb:
        with _prec(prec):
            return self.f(ball)

    def series(self, ball: arb, length: int, prec: int = BOX_PREC):
        """Taylor coefficients f^(j)(ball)/j!, j < length, or None through an undecided branch."""
        with _prec(prec):
            try:
                out = self.f(arb_series([ball, 1], prec=length))
            except (_Undecided, ValueError, ZeroDivisionError):
                return None
            if isinstance(out, arb):
                return [out] + [arb(0)] * (length - 1)
            coeffs = list(out.coeffs()) + [arb(0)] * length
            return coeffs[:length]

    def point_sign(self, t: float, precs: tuple[int, ...] = POINT_PRECS) -> int | None:
        """+1 / -1, 0 for a proved exact zero, None when no precision decides."""
        for prec in precs:
            v = self.value(arb(t), prec)
            if v.is_exact() and v.is_zero():
                return 0
            s = _ball_sign(v)
            if s is not None:
                return s
            if not v.is_finite():
                return None
        return None

    def check_time(self):
        self.boxes += 1
        if time.monotonic() > self.deadline or self.boxes > MAX_BOXES:
            raise _OutOfTime

    # -- the window
    def scan(self, a: float, b: float, events: list):
        """Branch and bound on [a, b]; appends ('sign', u, v, s), ('root', CertifiedRoot), ('gap', u, v)."""
        stack = [(a, b)]
        while stack:
            self.check_time()
            u, v = stack.pop()
            box = _ball(u, v)
            s = _ball_sign(self.value(box))
            width, scale = v - u, max(1.0, abs(u), abs(v))
            if s is None and width < 1e-6 * scale:
                s = _ball_sign(self.value(box, 256))
            if s is not None:
                events.append(("sign", u, v, s))
                continue
            coeffs = self.series(box, 2)
            slope = None if coeffs is None else _ball_sign(coeffs[1])
            if slope is not None and self._monotone_box(u, v, slope, events):
                continue
            if width < TAYLOR_REL_WIDTH * scale and coeffs is not None and self._taylor_box(u, v, events):
                continue
            mid = self._split(u, v)
            if width < MIN_REL_WIDTH * scale or not (u < mid < v):
                events.append(("gap", u, v))
                continue
            stack.append((mid, v))
            stack.append((u, mid))

    def _split(self, u: float, v: float) -> float:
        """The midpoint, or a point near it where f's sign is decided (a root exactly at a
        box end that Arb cannot prove to be 0, e.g. at x = 1000 for exp(x/50 - 20), would
        leave both neighbouring boxes undecided)."""
        mid = u + (v - u) / 2
        if self.point_sign(mid, POINT_PRECS[:2]) is not None:
            return mid
        for j in (1, -1, 3, -3):
            moved = mid + j * (v - u) / 1024
            if self.point_sign(moved, POINT_PRECS[:2]) is not None:
                return moved
        return mid

    def _monotone_box(self, u, v, slope, events) -> bool:
        su, sv = self.point_sign(u), self.point_sign(v)
        if su is None or sv is None:
            return False
        if su == 0 and sv == 0:
            return False  # impossible for a strictly monotone f; do not trust it
        if su == 0:
            events += [("root", CertifiedRoot(u, u, u, 1, True, True)), ("sign", u, v, slope)]
        elif sv == 0:
            events += [("sign", u, v, -slope), ("root", CertifiedRoot(v, v, v, 1, True, True))]
        elif su == sv:
            events.append(("sign", u, v, su))
        else:
            root = self._refine(u, v, su)
            events += [("sign", u, root.value, su), ("root", root), ("sign", root.value, v, sv)]
        return True

    def _refine(self, u: float, v: float, su: int) -> CertifiedRoot:
        """Bisection: f has sign su at u, -su at v, and one zero between."""
        for _ in range(2200):
            mid = u + (v - u) / 2
            if not (u < mid < v):
                break
            sm = self.point_sign(mid)
            if sm == 0:
                return CertifiedRoot(mid, mid, mid, 1, True, True)
            if sm is None:
                break
            if sm == su:
                u = mid
            else:
                v = mid
        return CertifiedRoot(u, v, u + (v - u) / 2, 1, False, True)

    def _taylor_box(self, u, v, events) -> bool:
        """A multiple zero at an exact dyadic x0 in [u, v]: f^(j)(x0) = 0 for j < k, f^(k) != 0 on the box."""
        for x0 in _dyadic_points(u, v):
            at = self.series(arb(x0), MAX_MULTIPLICITY + 1, 256)
            if at is None or not (at[0].is_exact() and at[0].is_zero()):
                continue
            k = next((j for j, c in enumerate(at) if not (c.is_exact() and c.is_zero())), None)
            if k is None:
                continue
            over = self.series(_ball(u, v), k + 1, 256)
            sk = None if over is None else _ball_sign(over[k])
            if sk is None:
                continue
            left = sk * (-1) ** k
            if u < x0:
                events.append(("sign", u, x0, left))
            events.append(("root", CertifiedRoot(x0, x0, x0, k, True, k % 2 == 1)))
            if x0 < v:
                events.append(("sign", x0, v, sk))
            return True
        return False

    # -- the tails
    def forms(self, g: sp.Expr):
        """Equivalent forms of g to enclose on a tail, generated lazily, cheap ones first."""
        if g not in self._forms:
            makers = [lambda: sp.factor_terms(g), lambda: sp.together(g)]
            if sp.count_ops(g) < 120:
                makers.append(lambda: sp.factor(g))
                if g.has(sp.tanh):
                    makers.append(lambda: sp.factor(g.rewrite(sp.exp)))
            self._forms[g] = ([prepare(g)], makers)
        forms, makers = self._forms[g]
        i = 0
        while True:
            if i < len(forms):
                yield forms[i]
                i += 1
                continue
            if not makers:
                return
            make = makers.pop(0)
            form = _limited(lambda: prepare(make()), self._step_limit())
            if form is not None and form not in forms:
                forms.append(form)

    def _step_limit(self) -> float:
        return min(SYMPY_STEP_LIMIT, self.deadline - time.monotonic())

    def tail_box(self, side: int, edge: float) -> _XI:
        return _XI(arb(edge), INF, False, True) if side > 0 else _XI(-INF, arb(edge), True, False)

    def enclosure_sign(self, g: sp.Expr, box: _XI) -> int | None:
        for form in self.forms(g):
            try:
                with _prec(BOX_PREC):
                    s = _xi_eval(form, self.sym, box).sign()
            except (_TailFail, Unsupported, ZeroDivisionError, ValueError):
                s = None
            if s is not None:
                return s
        return None

    def close_tail(self, side: int, edge: float) -> tuple[int, str] | None:
        """(sign, how it was proved) on the tail beyond ``edge``, or None."""
        box = self.tail_box(side, edge)
        s = self.enclosure_sign(self.expr, box)
        if s is not None:
            return s, "enclosure"
        for form in self.forms(self.expr):
            factors = sp.Mul.make_args(form)
            if len(factors) < 2:
                continue
            signs, hows = [], []
            for factor in factors:
                fs, how = self.factor_sign(factor, side, edge, box)
                if fs is None:
                    break
                signs.append(fs)
                hows.append(how)
            else:
                kinds = sorted(set(hows))
                return math.prod(signs), f"factor by factor, by {' and '.join(kinds)}"
        return None

    def factor_sign(self, factor, side, edge, box):
        if not factor.has(self.sym):
            value = _compile(factor, self.sym, {})(arb(0))
            return _ball_sign(value), "enclosure"
        s = self.enclosure_sign(factor, box)
        if s is not None:
            return s, "enclosure"
        if isinstance(factor, sp.exp) and factor.args[0].is_extended_real is not False:
            # exp of a real expression is positive even where its enclosure overflows
            # (exp(exp(exp(x))) on [3, inf)); the caller's expression is real on the reals.
            return 1, "exp > 0"
        if isinstance(factor, sp.Pow) and factor.exp.is_Integer:
            base_sign, how = self.factor_sign(factor.base, side, edge, box)
            if base_sign is not None:
                return base_sign ** int(factor.exp) if int(factor.exp) > 0 else base_sign ** (-int(factor.exp)), how
            return None, ""
        s = self.monotone_sign(factor, side, edge, box)
        return (s, "monotonicity and limit") if s is not None else (None, "")

    def monotone_sign(self, g, side, edge, box) -> int | None:
        """g strictly monotone on the tail, so g lies strictly between g(edge) and its limit L."""
        slope = self.enclosure_sign(sp.diff(g, self.sym), box)
        if slope is None or time.monotonic() > self.deadline:
            return None
        key = (g, side)
        if key not in self._limits:
            limit = _limited(lambda: sp.limit(g, self.sym, sp.oo if side > 0 else -sp.oo), self._step_limit())
            self._limits[key] = sp.nan if limit is None else limit
        limit = self._limits[key]
        if limit in (sp.oo, -sp.oo):
            limit_sign = 1 if limit == sp.oo else -1
        elif limit.is_extended_real and limit.is_finite:
            limit_sign = 0 if limit == 0 else (1 if limit > 0 else -1)
        else:
            return None
        g_edge = _Certifier(g, self.sym, self.deadline).point_sign(edge)
        if g_edge in (None, 0):
            return None
        # g moves monotonically from g(edge) towards L as x goes out to the tail.
        toward_limit = slope * side  # +1: increasing towards L, so L > g(edge)
        if limit_sign == 0:
            return g_edge if toward_limit * g_edge < 0 else None
        return g_edge if limit_sign == g_edge else None


# ---------------------------------------------------------------------------------- driver

def _assemble(events: list):
    intervals: list[CertifiedInterval] = []
    roots: list[CertifiedRoot] = []
    gaps: list[tuple[float, float]] = []
    for event in events:
        kind = event[0]
        if kind == "sign":
            _, u, v, s = event
            if u >= v:
                continue
            last = intervals[-1] if intervals else None
            touching = roots and roots[-1].value == u and not roots[-1].changes_sign
            if last is not None and last.sign == s and last.hi == u and not touching:
                intervals[-1] = CertifiedInterval(last.lo, v, s)
            else:
                intervals.append(CertifiedInterval(u, v, s))
        elif kind == "root":
            root = event[1]
            if not roots or roots[-1].value != root.value:
                roots.append(root)
        else:
            _, u, v = event
            if gaps and gaps[-1][1] == u:
                gaps[-1] = (gaps[-1][0], v)
            else:
                gaps.append((u, v))
    return intervals, roots, gaps


def isolate_sign(expr: sp.Expr, lo: float = -INF, hi: float = INF, budget: float = DEFAULT_BUDGET,
                 symbol: sp.Symbol | None = None) -> Isolation:
    """Prove the sign of ``expr`` (one free symbol) on [lo, hi]; either end may be infinite.

    Args:
        expr: a SymPy expression; floats may be substituted in already.
        lo, hi: the domain; infinite ends are closed by a tail argument (module docstring).
        budget: seconds of work before the answer becomes inconclusive.
        symbol: the variable (default: the only free symbol of ``expr``).
    Returns:
        An Isolation. ``proved`` is True only when every point of [lo, hi] is covered by a
        certified sign interval or root enclosure.
    Raises:
        Unsupported: a function the certifier has no enclosure for.
    """
    start = time.monotonic()
    if not lo < hi:
        raise ValueError(f"isolate_sign needs lo < hi, got [{lo}, {hi}]")
    expr = sp.sympify(expr)
    free = expr.free_symbols
    sym = symbol if symbol is not None else (next(iter(free)) if free else sp.Symbol("x"))
    if free - {sym}:
        raise Unsupported(f"expression has more than one variable: {sorted(map(str, free))}")
    sign = _structural_sign(expr)
    if sign:
        return Isolation((lo, hi), (CertifiedInterval(lo, hi, sign),), (), (), (lo, hi),
                         ("exp > 0", "exp > 0"), True, "", time.monotonic() - start)
    cert = _Certifier(expr, sym, start + budget)
    a = lo if math.isfinite(lo) else -START_WINDOW
    b = hi if math.isfinite(hi) else START_WINDOW
    if not math.isfinite(lo) and a >= b:
        a = b - START_WINDOW
    if not math.isfinite(hi) and b <= a:
        b = a + START_WINDOW
    left, right, tails = [], [], ["", ""]
    middle: list = []
    reason = ""
    try:
        cert.scan(a, b, middle)
        if not math.isfinite(hi):
            b, tails[1] = _grow(cert, +1, b, right)
        if not math.isfinite(lo):
            a, tails[0] = _grow(cert, -1, -a, left)
            a = -a
    except _OutOfTime:
        reason = f"budget of {budget:g} s spent" if cert.boxes <= MAX_BOXES else f"more than {MAX_BOXES} boxes"
    events = [e for chunk in reversed(left) for e in chunk] + middle + [e for chunk in right for e in chunk]
    intervals, roots, gaps = _assemble(events)
    tails_closed = all(t not in ("", None) for t, end in zip(tails, (lo, hi)) if not math.isfinite(end))
    covered = (intervals[0].lo if intervals else a, intervals[-1].hi if intervals else a)
    if not reason and gaps:
        reason = "sign not resolved near " + ", ".join(f"[{u:.6g}, {v:.6g}]" for u, v in gaps[:3])
    if not reason and not tails_closed:
        reason = f"certified on [{a:.3g}, {b:.3g}], tails not closed"
    proved = not reason
    if reason and "certified on" not in reason:
        reason += f" (certified pieces within [{covered[0]:.3g}, {covered[1]:.3g}])"
    return Isolation((lo, hi), tuple(intervals), tuple(roots), tuple(gaps), (a, b),
                     (tails[0] or "", tails[1] or ""), proved, reason, time.monotonic() - start)


def _structural_sign(expr: sp.Expr) -> int:
    """+1 or -1 when expr is a nonzero rational times a product of exponentials of real
    expressions (exp(exp(exp(x))) and its sigma sigma'), whose enclosures overflow far out;
    0 when the structure says nothing."""
    coeff, rest = expr.as_coeff_Mul()
    factors = sp.Mul.make_args(rest)
    if not coeff.is_Rational or coeff == 0 or not factors:
        return 0
    if all(isinstance(f, sp.exp) and f.args[0].is_extended_real is not False for f in factors):
        return 1 if coeff > 0 else -1
    return 0


def _grow(cert: _Certifier, side: int, edge: float, chunks: list) -> tuple[float, str]:
    """Extend the window fourfold on one side until the tail beyond it closes."""
    while True:
        closed = cert.close_tail(side, side * edge)
        if closed is not None:
            sign, how = closed
            chunks.append([("sign", edge, INF, sign)] if side > 0 else [("sign", -INF, -edge, sign)])
            return edge, how
        if edge >= MAX_WINDOW:
            return edge, ""
        events: list = []
        if side > 0:
            cert.scan(edge, 4 * edge, events)
        else:
            cert.scan(-4 * edge, -edge, events)
        chunks.append(events)
        edge *= 4
