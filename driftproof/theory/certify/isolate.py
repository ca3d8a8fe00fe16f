"""Branch and bound on a window, tails closed by enclosure or monotonicity: ``isolate_sign``."""

from __future__ import annotations

import math
import time

import sympy as sp
from flint import arb, arb_series

from .balls import Unsupported, _compile, _prec, _Undecided
from ...bounded import bounded
from .extended import INF, _TailFail, _XI, _xi_eval, exact_rationals
from .results import CertifiedInterval, CertifiedRoot, Isolation
from .rewrite import prepare

__all__ = ["isolate_sign", "DEFAULT_BUDGET"]

# The budget is counted in work, never in wall-clock time, so that the same expression gets the same
# answer on a quiet and on a loaded machine: one unit is one enclosure at 64 bits of an expression of
# at most 64 nodes (larger ones cost in proportion); at b bits it costs b/64 units, a Taylor series of
# length n costs n, an end-point interval evaluation WIDE_BOX_COST, and a
# SymPy step on a tail (factor, together, limit) costs SYMPY_STEP_COST units and runs in a bounded child
# process with a fixed CPU-time limit (driftproof/bounded.py): factor of exp(-(x - c)**2) with a float c
# can build a polynomial of huge degree.
DEFAULT_BUDGET = 200_000  # work units (about 10 s on one core of the reference machine)
SYMPY_STEP_LIMIT = 0.3  # CPU seconds for one SymPy step
SYMPY_STEP_COST = 2_000  # work units charged for one SymPy step (0.3 s of CPU and a fork), whatever it took
START_WINDOW = 16.0
MAX_WINDOW = 2.0**64
BOX_PREC = 64
POINT_PRECS = (64, 256, 1024, 4096)
MIN_REL_WIDTH = 1e-13
TAYLOR_REL_WIDTH = 1e-4
MAX_MULTIPLICITY = 8
NODES_PER_UNIT = 64  # an expression of n nodes costs max(1, n / 64) units per evaluation
INTERVAL_MAX_SIZE = 4  # end-point intervals on boxes only for expressions of at most 4 * 64 nodes (a Python walk)
WIDE_BOX_COST = 200  # work units for one end-point evaluation (a walk of the SymPy tree in Python)


class _OutOfTime(Exception):
    """The work budget is spent."""


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
    def __init__(self, expr: sp.Expr, sym: sp.Symbol, budget: float, meter: list | None = None):
        self.sym = sym
        self.expr = prepare(expr)
        self.f = _compile(self.expr, sym, {})
        # The form as given, enclosed beside the prepared one on boxes: prepare() keeps tails from
        # cancelling (1 - tanh(a)**2 -> 4/(e^a + e^-a)**2), but far out on a wide box the exponentials'
        # enclosure straddles 0 where 1 - tanh(a)**2 is a tight [0, tiny]. Both are true: intersect.
        self.f_raw = _compile(sp.sympify(expr), sym, {}) if self.expr != expr else None
        self.budget = budget
        self.meter = meter if meter is not None else [0]  # work spent, shared with helper certifiers
        # an evaluation costs in proportion to the expression's size (GELU² nested 4 deep has ~2000 nodes)
        self.size = max(1.0, sum(1 for _ in sp.preorder_traversal(self.expr)) / NODES_PER_UNIT)
        self.boxes = 0
        self._forms: dict = {}
        self._slope = None
        self._limits: dict = {}

    # -- evaluations
    def charge(self, units: float):
        """Spend ``units`` of work; past the budget, stop (_OutOfTime)."""
        self.meter[0] += units
        if self.meter[0] > self.budget:
            raise _OutOfTime

    @property
    def spent(self) -> float:
        return self.meter[0]

    def value(self, ball: arb, prec: int = BOX_PREC) -> arb:
        self.charge(self.size * prec / BOX_PREC)
        with _prec(prec):
            out = self.f(ball)
            if self.f_raw is not None and not (out.is_finite() and _ball_sign(out) is not None):
                self.charge(self.size * prec / BOX_PREC)
                other = self.f_raw(ball)
                if not out.is_finite():
                    return other
                if other.is_finite():
                    try:
                        return out.intersection(other)
                    except ValueError:
                        return out
            return out

    def series(self, ball: arb, length: int, prec: int = BOX_PREC):
        """Taylor coefficients f^(j)(ball)/j!, j < length, or None through an undecided branch."""
        self.charge(self.size * length * prec / BOX_PREC)
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
            coeffs = self._centered(u, v, self.series(box, 3))
            if coeffs is not None and _ball_sign(coeffs[0]) is not None:
                events.append(("sign", u, v, _ball_sign(coeffs[0])))
                continue
            slope = None if coeffs is None else _ball_sign(coeffs[1])
            if slope is None and self.size <= INTERVAL_MAX_SIZE:
                # exp over a wide range: a ball straddles 0 where end-point intervals stay positive
                s = self.interval_sign(self.expr, u, v)
                if s is not None:
                    events.append(("sign", u, v, s))
                    continue
                slope = self.interval_sign(self.slope_expr, u, v)
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

    @property
    def slope_expr(self) -> sp.Expr:
        if self._slope is None:
            self._slope = prepare(sp.diff(self.expr, self.sym))
        return self._slope

    def interval_sign(self, expr: sp.Expr, u: float, v: float) -> int | None:
        """The sign of ``expr`` on [u, v] from end-point interval arithmetic (extended.py), or None."""
        self.charge(self.size * WIDE_BOX_COST)
        try:
            with _prec(BOX_PREC):
                return _xi_eval(expr, self.sym, _XI(arb(u), arb(v))).sign()
        except (_TailFail, Unsupported, ZeroDivisionError, ValueError):
            return None

    def _centered(self, u: float, v: float, coeffs):
        """Tighter enclosures of f and f' on [u, v] by the mean-value (centred) form around the midpoint m:
        f'(box) in f'(m) + f''(box) (box - m) and f(box) in f(m) + f'(box) (box - m), each intersected with
        the direct enclosure. Where x occurs more than once (x - 1.0000001*tanh(x)) the direct enclosure is
        as wide as the box while the centred one shrinks with its square."""
        if coeffs is None:
            return None
        m = u + (v - u) / 2
        at = self.series(arb(m), 2)
        if at is None:
            return coeffs
        with _prec(BOX_PREC):
            d = _ball(u, v) - m
            slope = at[1] + 2 * coeffs[2] * d
            try:
                slope = slope.intersection(coeffs[1])
                value = (at[0] + slope * d).intersection(coeffs[0])
            except ValueError:  # disjoint enclosures cannot both hold: keep the direct ones
                return coeffs
        return [value, slope, coeffs[2]]

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
            if at is None or not self._zero_coefficient(at, 0, x0):
                continue
            k = next((j for j, c in enumerate(at) if not self._zero_coefficient(at, j, x0)), None)
            if k is None or _ball_sign(at[k]) is None:
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

    def _zero_coefficient(self, at: list, j: int, x0: float) -> bool:
        """The j-th Taylor coefficient at the dyadic x0 is exactly 0: Arb says so, or, where its ball
        only contains 0 (4*exp(0)/5 - 4/5: 4/5 is not a binary number), SymPy's automatic evaluation
        of the j-th derivative at x0 gives the integer 0 (a proof; no simplification is trusted)."""
        c = at[j]
        if c.is_exact() and c.is_zero():
            return True
        if _ball_sign(c) is not None or not c.is_finite():
            return False
        self.charge(SYMPY_STEP_COST)
        point = sp.Rational(x0)
        expr, sym = self.expr, self.sym
        return bool(bounded(lambda: sp.diff(expr, sym, j).subs(sym, point) == 0, SYMPY_STEP_LIMIT))

    # -- the tails
    def forms(self, g: sp.Expr):
        """Equivalent forms of g to enclose on a tail, generated lazily, cheap ones first."""
        if g not in self._forms:
            makers = [lambda: sp.factor_terms(g), lambda: sp.together(g)]
            if sp.count_ops(g) < 120:
                makers.append(lambda: sp.factor(g))
                if g.has(sp.tanh):
                    makers.append(lambda: sp.factor(g.rewrite(sp.exp)))
                if _integer_exponentials(g, self.sym):
                    makers += [lambda: _dominant_form(g, self.sym, +1), lambda: _dominant_form(g, self.sym, -1)]
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
            self.charge(SYMPY_STEP_COST)
            form = bounded(lambda: prepare(make()), SYMPY_STEP_LIMIT)
            if form is not None and form not in forms:
                forms.append(form)

    def tail_box(self, side: int, edge: float) -> _XI:
        return _XI(arb(edge), INF, False, True) if side > 0 else _XI(-INF, arb(edge), True, False)

    def enclosure_sign(self, g: sp.Expr, box: _XI) -> int | None:
        for form in self.forms(g):
            self.charge(self.size * WIDE_BOX_COST)
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
        s, how = self.special_sign(self.expr, side, edge, box)
        if s is not None:
            return s, how
        s = self.monotone_sign(self.expr, side, edge, box)
        return (s, "monotonicity and limit") if s is not None else None

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
        s, how = self.special_sign(factor, side, edge, box)
        if s is not None:
            return s, how
        s = self.monotone_sign(factor, side, edge, box)
        return (s, "monotonicity and limit") if s is not None else (None, "")

    def special_sign(self, g, side, edge, box) -> tuple[int | None, str]:
        """The sign of g on a tail by a rule for its form: a polynomial by its exact real roots, a sum
        with a square root by its conjugate (x + sqrt(x**2 + 4) on the left tail is oo - oo to an
        enclosure, and 4 / (sqrt(x**2 + 4) - x) in truth)."""
        if g.is_polynomial(self.sym):
            return self.polynomial_sign(g, side, edge), "exact real roots (SymPy)"
        if g.has(sp.sqrt(self.sym)) or any(p.exp in (sp.S.Half, -sp.S.Half) for p in g.atoms(sp.Pow)):
            return self.conjugate_sign(g, side, edge, box), "conjugate of a square root"
        return None, ""

    def polynomial_sign(self, g, side, edge) -> int | None:
        """A polynomial's sign beyond ``edge``: no real root out there (SymPy, exact), so the sign of its
        leading term at infinity."""
        self.charge(SYMPY_STEP_COST)
        sym = self.sym

        def decide():
            poly = sp.Poly(exact_rationals(g), sym)
            if poly.is_zero or poly.domain not in (sp.ZZ, sp.QQ):
                return None
            if any((r >= edge) if side > 0 else (r <= edge) for r in poly.real_roots()):
                return None
            lead = poly.LC() * (side ** poly.degree())
            return 1 if lead > 0 else -1
        return bounded(decide, SYMPY_STEP_LIMIT)

    def conjugate_sign(self, g, side, edge, box) -> int | None:
        """g = (A + C sqrt(B)) / D with A, B, C, D free of that root: where A and C have one sign, g has
        it over D; where they differ, A + C sqrt(B) has the sign of A times that of A**2 - C**2 B."""
        roots = {p.base for p in g.atoms(sp.Pow) if p.exp in (sp.S.Half, -sp.S.Half) and p.base.has(self.sym)}
        if len(roots) != 1:
            return None
        base = roots.pop()
        s = sp.Dummy("s", positive=True)
        self.charge(SYMPY_STEP_COST)

        def split():
            num, den = sp.fraction(sp.together(g.subs({sp.sqrt(base): s, 1 / sp.sqrt(base): 1 / s})))
            num = sp.expand(num)
            if sp.Poly(num, s).degree() != 1:
                return None
            a, c = num.coeff(s, 0), num.coeff(s, 1)
            return a, c, sp.expand(a**2 - c**2 * base), den.subs(s, sp.sqrt(base))
        parts = bounded(split, SYMPY_STEP_LIMIT)
        if parts is None:
            return None
        a, c, gap, den = parts
        signs = []
        for part in (a, c, den):
            ps = self.enclosure_sign(part, box) if part.has(self.sym) else _ball_sign(_compile(part, self.sym, {})(arb(0)))
            if ps is None and part.has(self.sym):
                ps, _ = self.factor_sign(part, side, edge, box) if not part.has(sp.sqrt(base)) else (None, "")
            if ps is None:
                return None
            signs.append(ps)
        sa, sc, sd = signs
        if sa == sc:
            return sa * sd
        gap_sign = self.polynomial_sign(gap, side, edge) if gap.is_polynomial(self.sym) else self.enclosure_sign(gap, box)
        return None if gap_sign is None else sa * gap_sign * sd

    def monotone_sign(self, g, side, edge, box) -> int | None:
        """g strictly monotone on the tail, so g lies strictly between g(edge) and its limit L."""
        slope = self.enclosure_sign(sp.diff(g, self.sym), box)
        if slope is None:
            return None
        key = (g, side)
        if key not in self._limits:
            self.charge(SYMPY_STEP_COST)
            limit = bounded(lambda: sp.limit(g, self.sym, sp.oo if side > 0 else -sp.oo), SYMPY_STEP_LIMIT)
            self._limits[key] = sp.nan if limit is None else limit
        limit = self._limits[key]
        if limit in (sp.oo, -sp.oo):
            limit_sign = 1 if limit == sp.oo else -1
        elif limit.is_extended_real and limit.is_finite:
            limit_sign = 0 if limit == 0 else (1 if limit > 0 else -1)
        else:
            return None
        g_edge = _Certifier(g, self.sym, self.budget, self.meter).point_sign(edge)
        if g_edge in (None, 0):
            return None
        # g moves monotonically from g(edge) towards L as x goes out to the tail.
        toward_limit = slope * side  # +1: increasing towards L, so L > g(edge)
        if limit_sign == 0:
            return g_edge if toward_limit * g_edge < 0 else None
        return g_edge if limit_sign == g_edge else None


def _integer_exponentials(g: sp.Expr, sym: sp.Symbol) -> bool:
    """g has exponentials, each exp(k x) with an integer k (what _dominant_form needs)."""
    exps = g.atoms(sp.exp)
    return bool(exps) and all((e.args[0] / sym).is_Integer for e in exps)


def _dominant_form(g: sp.Expr, sym: sp.Symbol, side: int) -> sp.Expr | None:
    """g with its numerator and denominator, as polynomials in t = exp(x) (every exponential of g an
    integer power of it), divided by their highest (side +1) or lowest (side -1) power of t: on that
    tail the leading term is then a bounded coefficient and the others decay, where an enclosure of the
    sum as given reads oo - oo ((x - 2) e^x - (x + 2) on [16, oo): e^x ((x - 2) - (x + 2) e^-x))."""
    exps = g.atoms(sp.exp)
    ks = [e.args[0] / sym for e in exps]
    if not exps or not all(k.is_Integer for k in ks):
        return None
    t = sp.Dummy("t", positive=True)
    rational = sp.together(g.subs({e: t ** int(k) for e, k in zip(exps, ks)}))
    num, den = sp.fraction(rational)

    def balanced(poly_expr):
        poly = sp.Poly(sp.expand(poly_expr), t)
        powers = [m[0] for m in poly.monoms()]
        n = max(powers) if side > 0 else min(powers)
        rest = sp.Add(*(c * sp.exp((m[0] - n) * sym) for m, c in zip(poly.monoms(), poly.coeffs())))
        return sp.exp(n * sym), rest
    (num_exp, num_rest), (den_exp, den_rest) = balanced(num), balanced(den)
    return sp.Mul(num_exp / den_exp, num_rest, sp.Pow(den_rest, -1))


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
        budget: units of work (module constants: boxes, point evaluations, SymPy steps) before the
            answer becomes inconclusive; never wall-clock time, so the answer does not depend on load.
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
    cert = _Certifier(expr, sym, budget)
    a, b = _start_window(lo, hi)
    left, middle, right, tails = [], [], [], ["", ""]
    reason = ""
    try:
        cert.scan(a, b, middle)
        if not math.isfinite(hi):
            b, tails[1] = _grow(cert, +1, b, right)
        if not math.isfinite(lo):
            a, tails[0] = _grow(cert, -1, -a, left)
            a = -a
    except _OutOfTime:
        reason = f"work budget of {budget:g} units spent ({cert.boxes} boxes)"
    events = [e for chunk in reversed(left) for e in chunk] + middle + [e for chunk in right for e in chunk]
    intervals, roots, gaps = _assemble(events)
    reason = _unproved_reason(reason, intervals, gaps, tails, (lo, hi), (a, b))
    return Isolation((lo, hi), tuple(intervals), tuple(roots), tuple(gaps), (a, b),
                     (tails[0] or "", tails[1] or ""), not reason, reason, time.monotonic() - start, cert.spent)


def _start_window(lo: float, hi: float) -> tuple[float, float]:
    """The bounded window branch and bound starts on: [lo, hi] cut to [-START_WINDOW, START_WINDOW]
    where an end is infinite, and never empty."""
    a = lo if math.isfinite(lo) else -START_WINDOW
    b = hi if math.isfinite(hi) else START_WINDOW
    if not math.isfinite(lo) and a >= b:
        a = b - START_WINDOW
    if not math.isfinite(hi) and b <= a:
        b = a + START_WINDOW
    return a, b


def _unproved_reason(reason: str, intervals, gaps, tails, domain, window) -> str:
    """Why the isolation is not a proof ('' when it is one): budget, unresolved boxes, open tails."""
    a, b = window
    tails_closed = all(t not in ("", None) for t, end in zip(tails, domain) if not math.isfinite(end))
    if not reason and gaps:
        reason = "sign not resolved near " + ", ".join(f"[{u:.6g}, {v:.6g}]" for u, v in gaps[:3])
    if not reason and not tails_closed:
        reason = f"certified on [{a:.3g}, {b:.3g}], tails not closed"
    if reason and "certified on" not in reason:
        covered = (intervals[0].lo if intervals else a, intervals[-1].hi if intervals else a)
        reason += f" (certified pieces within [{covered[0]:.3g}, {covered[1]:.3g}])"
    return reason


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
