"""R3: the sign map of sigma(x) sigma'(x) on the real line, proved or labelled as not proved.

Within each branch of a Piecewise form: identically-zero branches are found symbolically;
polynomial branches get their real roots exactly (SymPy): label *exact*. Every other branch
goes to :func:`driftproof.theory.certify.isolate_sign`, which proves the sign over the
whole branch by ball arithmetic (window, root enclosures and both tails): label *certified*.
When it cannot (an unsupported function, a tail it cannot close, the time budget), the map
is *inconclusive*: it keeps what was proved and fills the rest from a float scan (a dense
grid on |x| <= 12 with mpmath checks), each such interval marked ``certified=False``.
``SignMap.proved`` is what a caller may call a proof.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, x
from ..bounded import bounded
from ..envcheck import cache_root
from .certify import DEFAULT_BUDGET, Isolation, Unsupported, isolate_sign
from .certify.isolate import SYMPY_STEP_LIMIT

__all__ = ["SignInterval", "Root", "SignMap", "sign_map", "compute_sign_map", "EXACT", "CERTIFIED", "INCONCLUSIVE",
           "CUSTOM_BUDGET", "BUILTIN_BUDGET"]

EXACT, CERTIFIED, INCONCLUSIVE = "exact", "certified", "inconclusive"
# Budgets in units of work (certify/isolate.py: boxes, point evaluations, SymPy steps), never seconds:
# the same activation gets the same sign map on a quiet and on a loaded machine.
CUSTOM_BUDGET = DEFAULT_BUDGET  # for a custom expression
BUILTIN_BUDGET = 2 * DEFAULT_BUDGET  # the catalogue: most are proved well within DEFAULT_BUDGET

SCAN_RADIUS = 12.0  # dense float grid on [-R, R]
SCAN_STEP = 1e-3
TAIL_POINTS = tuple(SCAN_RADIUS * 2.0**k for k in range(1, 18))  # mpmath checks out to ~1.6e6
MP_DPS = 40
ROOT_TOL = 1e-20


@dataclass(frozen=True)
class Root:
    """A point where sigma sigma' changes sign."""

    value: float
    exact: str | None  # SymPy text of the exact root, when one was found
    method: str  # "symbolic", "certified (...)" or "numeric (...)" (not proved)
    enclosure: tuple[float, float] | None = None  # proved to hold exactly one root (certified)

    def to_dict(self) -> dict:
        return {"value": self.value, "exact": self.exact, "method": self.method,
                "enclosure": None if self.enclosure is None else list(self.enclosure)}


@dataclass(frozen=True)
class SignInterval:
    """sigma sigma' has constant sign (+1, -1 or 0) on the open interval (lo, hi)."""

    lo: float
    hi: float
    sign: int
    certified: bool = True  # False: read off a float scan, not proved
    # A tail of a periodic map: the pattern of one period repeats here with this period; ``sign`` is
    # then the lowest sign the pattern takes (a negative piece is never hidden), not a constant sign.
    period: float | None = None

    def to_dict(self) -> dict:
        out = {"lo": float(self.lo), "hi": float(self.hi), "sign": int(self.sign), "certified": bool(self.certified)}
        if self.period is not None:
            out["period"] = float(self.period)
        return out

    def describe(self) -> str:
        if self.period is not None:
            return f"({_fmt(self.lo)}, {_fmt(self.hi)}): the pattern repeats with period {self.period:.10g}"
        # A sign is printed only where it is proved: the float scan behind an unproved piece is a guess.
        symbol = {1: ">0", -1: "<0", 0: "=0"}[self.sign] if self.certified else "sign not proved"
        return f"({_fmt(self.lo)}, {_fmt(self.hi)}): {symbol}"


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.10g}"


@dataclass(frozen=True)
class SignMap:
    """The sign of sigma sigma' over the real line, with the roots between intervals.

    ``certification``: "exact" (SymPy closed form), "certified" (ball arithmetic over the
    whole line) or "inconclusive" (``reason`` says why and how far the proof got).
    """

    activation: str
    intervals: tuple[SignInterval, ...]
    roots: tuple[Root, ...]
    exact: bool  # certification == "exact": every root symbolic (no numeric step)
    method: str
    certification: str = EXACT
    reason: str = ""

    @property
    def proved(self) -> bool:
        """The whole map is a proof (exact or certified): a caller may say *holds* from it."""
        return self.certification in (EXACT, CERTIFIED)

    def on_positive(self, sign: int) -> list[SignInterval]:
        """Intervals meeting p > 0 with the given sign (beyond the enclosure of a root that straddles 0:
        there the part on p > 0 is not proved to exist, see :attr:`unresolved_at_zero`)."""
        return [iv for iv in self.intervals if iv.sign == sign and iv.hi > 0 and iv not in self._straddling()]

    def _straddling(self) -> list[SignInterval]:
        """Intervals that reach p > 0 only up to a root whose enclosure contains 0."""
        ends = {r.value: r.enclosure for r in self.roots if r.enclosure is not None and r.enclosure[0] <= 0 < r.enclosure[1]}
        return [iv for iv in self.intervals if iv.hi in ends and iv.hi > 0 and iv.lo < 0]

    @property
    def unresolved_at_zero(self) -> bool:
        """A negative interval ends at a root whose enclosure straddles 0: whether sigma sigma' < 0 on a
        sliver (0, r) of p > 0 is not proved either way."""
        return any(iv.sign < 0 for iv in self._straddling())

    @property
    def negative_on_positive(self) -> list[SignInterval]:
        return self.on_positive(-1)

    @property
    def zero_on_positive(self) -> list[SignInterval]:
        return self.on_positive(0)

    @property
    def zeros_on_positive(self) -> list[float]:
        """Isolated points p > 0 where sigma sigma' = 0 (a touching zero such as p = 1 for
        x**3/3 - x**2 + x, or a sign change): there E[delta|p] = 0, so the claim is at best non-strict."""
        return [r.value for r in self.roots
                if math.isfinite(r.value) and (r.enclosure[0] if r.enclosure is not None else r.value) > 0]

    def sign_at(self, p: float) -> int | None:
        """The proved sign of sigma sigma' at p: +1, -1, 0, or None (not proved there, or at an interval's end).
        On the tail of a periodic map, the sign at the translate of p into the listed periods."""
        for iv in self.intervals:
            if iv.lo < p < iv.hi:
                if not iv.certified:
                    return None
                if iv.period is None:
                    return iv.sign
                window = (self.intervals[1].lo, self.intervals[-2].hi)  # the periods listed between the tails
                shifted = window[0] + math.fmod(p - window[0], iv.period) % iv.period
                return self.sign_at(shifted) if window[0] < shifted < window[1] else None
        return None

    def describe(self) -> str:
        pieces: list[SignInterval] = []  # neighbouring unproved pieces read as one
        for iv in self.intervals:
            if pieces and not iv.certified and not pieces[-1].certified and pieces[-1].hi == iv.lo:
                pieces[-1] = SignInterval(pieces[-1].lo, iv.hi, 0, certified=False)
            else:
                pieces.append(iv)
        text = "; ".join(iv.describe() for iv in pieces)
        return text if self.proved else f"{text} [inconclusive: {self.reason}]"

    @classmethod
    def from_dict(cls, data: dict) -> SignMap:
        """The map back from :meth:`to_dict`'s form (the disk cache)."""
        intervals = tuple(SignInterval(float(iv["lo"]), float(iv["hi"]), int(iv["sign"]), bool(iv["certified"]),
                                       iv.get("period")) for iv in data["intervals"])
        roots = tuple(Root(float(r["value"]), r["exact"], r["method"],
                           None if r["enclosure"] is None else (float(r["enclosure"][0]), float(r["enclosure"][1])))
                      for r in data["roots"])
        return cls(data["activation"], intervals, roots, bool(data["exact"]), data["method"], data["certification"],
                   data["reason"])

    def to_dict(self) -> dict:
        return {"activation": self.activation, "intervals": [iv.to_dict() for iv in self.intervals],
                "roots": [r.to_dict() for r in self.roots], "exact": self.exact, "method": self.method,
                "certification": self.certification, "reason": self.reason, "proved": self.proved,
                "zeros_on_positive": self.zeros_on_positive}


def _branches(expr: sp.Expr) -> list[tuple[sp.Expr, float, float]]:
    """(branch expression, lo, hi) for each interval of each branch of a Piecewise."""
    if not isinstance(expr, sp.Piecewise):
        return [(expr, -math.inf, math.inf)]
    out = []
    for branch, domain in expr.as_expr_set_pairs(sp.S.Reals):
        parts = domain.args if isinstance(domain, sp.Union) else (domain,)
        for part in parts:
            if isinstance(part, sp.Interval) and part.measure != 0:
                out.append((branch, float(part.start), float(part.end)))
    return sorted(out, key=lambda item: item[1])


def _identically_zero(expr: sp.Expr) -> bool:
    if expr.is_zero:
        return True
    probe = sp.lambdify(x, expr, modules="mpmath")
    with mpmath.workdps(MP_DPS):
        if any(abs(probe(mpmath.mpf(v))) > mpmath.mpf(10) ** (-MP_DPS + 5) for v in (-2.3, -0.7, 0.3, 1.9, 5.1)):
            return False
    return sp.simplify(expr) == 0


class _Signer:
    """Sign of a branch at a point: float64 where it is trustworthy, else mpmath.

    mpmath evaluates with adaptive precision, and on each side of 0 with erf rewritten
    through erfc so that 1 + erf(x) does not cancel to 0 in the left tail. A point whose
    sign is still lost (value exactly 0 at the highest precision) is reported as 0 only if
    it is a root that SymPy confirms; otherwise it is skipped as unresolved.
    """

    DPS_LADDER = (MP_DPS, 200, 1000)

    def __init__(self, expr: sp.Expr):
        self.expr = expr
        self.float_f = sp.lambdify(x, expr, modules=["scipy", "numpy"])
        self.mp_f = sp.lambdify(x, expr, modules="mpmath")
        left = expr.replace(sp.erf, lambda arg: sp.erfc(-arg) - 1)
        right = expr.replace(sp.erf, lambda arg: 1 - sp.erfc(arg))
        self.mp_left = sp.lambdify(x, left, modules="mpmath")
        self.mp_right = sp.lambdify(x, right, modules="mpmath")

    def mp_sign(self, value) -> int | None:
        """+1, -1, 0 (a confirmed root) or None (unresolved)."""
        function = self.mp_left if value < 0 else self.mp_right
        for dps in self.DPS_LADDER:
            with mpmath.workdps(dps):
                try:
                    v = function(mpmath.mpf(value))
                except (ValueError, ZeroDivisionError, OverflowError):
                    return None
                if v != 0 and mpmath.isfinite(v):
                    return 1 if v > 0 else -1
        return 0 if _exact_root(self.expr, float(value)) is not None else None

    def grid_signs(self, grid: np.ndarray) -> np.ndarray:
        """Signs at the grid points; 2 marks an unresolved point."""
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(self.float_f(grid), dtype=float), grid.shape)
        signs = np.sign(np.nan_to_num(values, nan=0.0)).astype(int)
        # float64 loses the sign where it underflows or cancels (e.g. 1 + erf(-9) == 0):
        # ask mpmath there, subsampled in long runs.
        doubtful = np.flatnonzero(~np.isfinite(values) | (np.abs(values) < 1e-290))
        if doubtful.size:
            checked = set(doubtful[:: max(1, doubtful.size // 400)].tolist()) | {int(doubtful[-1])}
            for i in doubtful:
                if i in checked:
                    sign = self.mp_sign(float(grid[i]))
                    signs[i] = 2 if sign is None else sign
                else:
                    signs[i] = 2
        return signs


def _polynomial_roots(expr: sp.Expr, lo: float, hi: float) -> list[sp.Expr] | None:
    """Exact real roots inside (lo, hi) of a polynomial branch, else None (not a polynomial).

    A rational branch qualifies only when its denominator has no real root in (lo, hi), so
    that the sign between consecutive numerator roots is constant.
    """
    numerator, denominator = sp.fraction(sp.together(expr))
    if not (numerator.is_polynomial(x) and denominator.is_polynomial(x)):
        return None
    if denominator.has(x) and any(lo < float(r) < hi for r in sp.Poly(denominator, x).real_roots()):
        return None
    roots = sp.Poly(numerator, x).real_roots()
    return sorted({r for r in roots if lo < float(r) < hi}, key=float)


def _refine(signer: _Signer, a: float, b: float) -> float:
    with mpmath.workdps(MP_DPS):
        try:
            root = mpmath.findroot(signer.mp_f, (mpmath.mpf(a), mpmath.mpf(b)), solver="anderson", tol=ROOT_TOL)
            if a <= float(root) <= b:
                return float(root)
        except (ValueError, ZeroDivisionError):
            pass
        lo, hi = mpmath.mpf(a), mpmath.mpf(b)  # plain bisection as the fallback
        sign_lo = signer.mp_sign(lo)
        for _ in range(200):
            mid = (lo + hi) / 2
            if signer.mp_sign(mid) == sign_lo:
                lo = mid
            else:
                hi = mid
        return float((lo + hi) / 2)


def _exact_root(expr: sp.Expr, value: float) -> str | None:
    """A nice exact root near ``value`` (0, an integer, a simple rational) confirmed symbolically."""
    candidate = sp.nsimplify(round(value, 9), rational=True, tolerance=1e-9)
    if abs(float(candidate) - value) > 1e-9 or sp.denom(candidate) > 12:
        return None
    try:
        # SymPy's automatic evaluation only: simplify() and evalf() can run away on erf tails.
        return sp.sstr(candidate) if expr.subs(x, candidate) == 0 else None
    except (TypeError, ValueError, ArithmeticError):
        return None


def _scan_grid(lo: float, hi: float) -> np.ndarray:
    """The float scan's points in (lo, hi): step SCAN_STEP on [-SCAN_RADIUS, SCAN_RADIUS], then TAIL_POINTS."""
    grid_lo, grid_hi = max(lo, -SCAN_RADIUS), min(hi, SCAN_RADIUS)
    points: list[float] = []
    if grid_lo < grid_hi:
        count = int(round((grid_hi - grid_lo) / SCAN_STEP)) + 1
        points = list(np.linspace(grid_lo, grid_hi, count))
    tails_left = [-t for t in reversed(TAIL_POINTS) if -t > lo and -t < grid_lo]
    tails_right = [t for t in TAIL_POINTS if t < hi and t > grid_hi]
    return np.array(tails_left + points + tails_right, dtype=float)


def _numeric_root(signer: _Signer, expr: sp.Expr, a: float, b: float) -> Root:
    value = _refine(signer, a, b)
    exact = _exact_root(expr, value)
    return Root(value, exact, "symbolic" if exact else f"numeric (mpmath anderson at {MP_DPS} digits, tol {ROOT_TOL:g})")


def _numeric_branch(expr: sp.Expr, lo: float, hi: float) -> tuple[list[SignInterval], list[Root]]:
    """Sign intervals of a branch from a float scan (not a proof): used only where certification failed."""
    signer = _Signer(expr)
    grid = _scan_grid(lo, hi)
    signs = signer.grid_signs(grid)
    # Interior points strictly inside (lo, hi), resolved signs only (2 marks unresolved).
    keep = (grid > lo) & (grid < hi) & (signs != 2)
    grid, signs = grid[keep], signs[keep]
    roots: list[Root] = []
    cuts: list[tuple[float, int]] = []  # (position, sign to its right)
    last = None  # index of the last non-zero sample
    for i, (point, sign) in enumerate(zip(grid, signs)):
        if sign == 0:
            exact = _exact_root(expr, float(point))
            roots.append(Root(float(point), exact, "symbolic" if exact else "numeric (value 0 at 1000 digits)"))
            continue
        if last is None:
            cuts.append((lo, sign))
        elif sign != signs[last]:
            a, b = float(grid[last]), float(point)
            zero_points = [r for r in roots if a < r.value < b]
            if not zero_points:
                roots.append(_numeric_root(signer, expr, a, b))
            cuts.append((roots[-1].value, sign))
        last = i
    if last is None:  # no non-zero sample at all
        return [SignInterval(lo, hi, 0)], roots
    intervals = [SignInterval(start, cuts[k + 1][0] if k + 1 < len(cuts) else hi, s)
                 for k, (start, s) in enumerate(cuts)]
    return intervals, roots


def _merge(intervals: list[SignInterval], keep_apart: frozenset = frozenset()) -> list[SignInterval]:
    merged: list[SignInterval] = []
    for iv in intervals:
        if (merged and merged[-1].sign == iv.sign and merged[-1].hi == iv.lo
                and merged[-1].certified == iv.certified and iv.lo not in keep_apart
                and merged[-1].period is None and iv.period is None):
            merged[-1] = SignInterval(merged[-1].lo, iv.hi, iv.sign, iv.certified)
        else:
            merged.append(iv)
    return merged


def _certified_branch(branch: sp.Expr, lo: float, hi: float, budget: float):
    """(intervals, roots, isolation or None, reason) for a non-polynomial branch on (lo, hi)."""
    try:
        iso = isolate_sign(branch, lo, hi, budget=max(budget, 0.0), symbol=x)
    except Unsupported as error:
        intervals, roots = _numeric_branch(branch, lo, hi)
        return [_uncertified(iv) for iv in intervals], roots, None, str(error)
    intervals = [SignInterval(iv.lo, iv.hi, iv.sign) for iv in iso.intervals]
    roots = [Root(r.value, _exact_root(branch, r.value) if math.isfinite(r.value) else None, _root_method(r),
                  (r.lo, r.hi)) for r in iso.roots if r.changes_sign or r.multiplicity > 0]
    if iso.proved:
        return intervals, roots, iso, ""
    filled = list(intervals)
    for gap_lo, gap_hi in _gaps(intervals, lo, hi):
        scanned, scanned_roots = _numeric_branch(branch, gap_lo, gap_hi)
        filled += [_uncertified(iv) for iv in scanned]
        roots += [r for r in scanned_roots if gap_lo < r.value < gap_hi]
    return sorted(filled, key=lambda iv: iv.lo), sorted(roots, key=lambda r: r.value), iso, iso.reason


def _normalized(branch: sp.Expr) -> sp.Expr | None:
    """branch as a product whose sums of exponentials are one fraction, its numerator collected by
    exponential: sigmoid(1000 x)' = (1 + (1000 x + 1) e^(-1000 x)) / (1 + e^(-1000 x))**2, where the form as
    given adds two terms of size e^16000 that cancel on every box of [-16, -15] wider than 1e-3. None where
    nothing changes (or SymPy's step runs past its limit)."""
    def rewrite():
        parts = []
        for factor in sp.Mul.make_args(branch):
            if isinstance(factor, sp.Add) and factor.has(sp.exp):
                num, den = sp.fraction(sp.together(factor))
                num = sp.collect(sp.expand(num), sorted(num.atoms(sp.exp), key=sp.default_sort_key))
                parts += [num, sp.Pow(den, -1)]
            else:
                parts.append(factor)
        out = sp.Mul(*parts)
        return None if out == branch else out
    return bounded(rewrite, SYMPY_STEP_LIMIT)


def _factor_branch(branch: sp.Expr, lo: float, hi: float, budget: float):
    """Prove the sign of a product branch (sigma sigma' is one) factor by factor: each factor alone
    has fewer repeated occurrences of x, so its enclosures are tight and its boxes monotone where a
    product's are not (x - 1.0000001*tanh(x) times its derivative). The signs multiply.

    Returns None when the branch is not a product worth splitting, else (intervals or None, roots,
    isolations, work spent); intervals is None when some factor was not proved or two factors' root
    enclosures overlap (then the caller isolates the whole branch with what is left of the budget).
    """
    coeff, rest = branch.as_coeff_Mul()
    factors = [f for f in sp.Mul.make_args(rest) if f.has(x)]
    if len(factors) < 2 or not coeff.is_number or coeff == 0:
        return None
    spent, isos, pieces = 0.0, [], []  # pieces: (intervals, roots, power) per factor
    for factor in factors:
        power = 1
        if isinstance(factor, sp.Pow) and factor.exp.is_Integer:
            factor, power = factor.base, int(factor.exp)
        try:
            iso = isolate_sign(factor, lo, hi, budget=max(budget - spent, 0.0), symbol=x)
        except Unsupported:
            return None, [], [], spent
        spent += iso.work
        if not iso.proved or (power < 0 and iso.roots):  # unproved, or a pole
            return None, [], [], spent
        isos.append(iso)
        pieces.append((iso.intervals, iso.roots, power))
    all_roots = sorted((r for _, rs, _ in pieces for r in rs), key=lambda r: r.lo)
    for a, b in zip(all_roots[:-1], all_roots[1:]):
        if b.lo <= a.hi and not (a.lo == a.hi == b.lo == b.hi):
            return None, [], [], spent  # the order of two factors' roots is not proved
    edges = sorted({lo, hi, *(r.value for r in all_roots)})
    sign0 = 1 if coeff > 0 else -1
    intervals = []
    for a, b in zip(edges[:-1], edges[1:]):
        sign = sign0
        for factor_intervals, _, power in pieces:
            iv = next((iv for iv in factor_intervals if iv.lo <= a and b <= iv.hi), None)
            if iv is None:
                return None, [], [], spent
            sign *= iv.sign ** abs(power)
        intervals.append(SignInterval(a, b, sign))
    roots = {}
    for r in all_roots:
        if r.value not in roots:
            roots[r.value] = Root(r.value, _exact_root(branch, r.value) if math.isfinite(r.value) else None,
                                  _root_method(r) + ", factor by factor", (r.lo, r.hi))
    return intervals, list(roots.values()), isos, spent


def _snap_exact_roots(intervals: list[SignInterval], roots: list[Root]):
    """Where SymPy proved a root exactly (f(0) = 0 for -167/200 + (x + 167/100)*sigmoid(x)) inside an
    enclosure that holds exactly one root, the root is that point: intervals meet there, not at the
    enclosure's float midpoint (1.7e-18 would put a sliver of a negative interval on p > 0)."""
    moves = {}
    for r in roots:
        if r.exact is None or r.enclosure is None or not math.isfinite(r.value):
            continue
        try:
            point = float(sp.sympify(r.exact))
        except (TypeError, ValueError, sp.SympifyError):
            continue
        if r.enclosure[0] <= point <= r.enclosure[1] and point != r.value:
            moves[r.value] = point
    if not moves:
        return intervals, roots
    snapped = [SignInterval(moves.get(iv.lo, iv.lo), moves.get(iv.hi, iv.hi), iv.sign, iv.certified) for iv in intervals]
    roots = [Root(moves[r.value], r.exact, r.method, r.enclosure) if r.value in moves else r for r in roots]
    return [iv for iv in snapped if iv.lo < iv.hi], roots


def _uncertified(iv: SignInterval) -> SignInterval:
    return SignInterval(iv.lo, iv.hi, iv.sign, certified=False)


def _gaps(intervals: list[SignInterval], lo: float, hi: float) -> list[tuple[float, float]]:
    """The parts of (lo, hi) that no interval covers."""
    gaps, at = [], lo
    for iv in sorted(intervals, key=lambda iv: iv.lo):
        if iv.lo > at:
            gaps.append((at, iv.lo))
        at = max(at, iv.hi)
    if at < hi:
        gaps.append((at, hi))
    return gaps


def _root_method(root) -> str:
    if root.multiplicity > 1:
        return f"certified (Arb): zero of order {root.multiplicity} at an exact point"
    if root.lo == root.hi:
        return "certified (Arb): exact zero, f' bounded away from 0 around it"
    return f"certified (Arb): one root in [{root.lo!r}, {root.hi!r}], f' bounded away from 0"


def _method(certification: str, isolations: list[Isolation], reason: str, symbolic: bool) -> str:
    if certification == EXACT:
        return "exact (SymPy)"
    if certification == CERTIFIED:
        windows = ", ".join(f"[{iso.window[0]:g}, {iso.window[1]:g}]" for iso in isolations)
        tails = sorted({t for iso in isolations for t in iso.tails if t})
        return (f"certified (Arb ball arithmetic on {windows}; tails by {' and '.join(tails) or 'finite ends'})"
                + ("; polynomial branches by SymPy" if symbolic else ""))
    return f"inconclusive ({reason}); where not proved, a float scan on [-{SCAN_RADIUS:g}, {SCAN_RADIUS:g}]"


@lru_cache(maxsize=64)
def sign_map(activation: Activation, budget: float | None = None) -> SignMap:
    """The sign map of sigma sigma' (R3): where the expected gradient is positive, negative, zero.

    Computed once per expression and budget and kept under ``$DRIFTPROOF_CACHE/signmaps``, keyed by the
    expression, the budget and the sources of the certifier (a warm ``verify`` proves nothing again: GELU's
    map costs about a second, most of it SymPy steps in bounded child processes).

    Args:
        activation: the activation.
        budget: units of work for the ball arithmetic, shared by the branches (default CUSTOM_BUDGET
            for a custom expression, BUILTIN_BUDGET for a built-in); past it the map is inconclusive.
            Work, not time: the answer does not depend on the machine's load.
    """
    if budget is None:
        budget = CUSTOM_BUDGET if activation.custom else BUILTIN_BUDGET
    path = _disk_path(activation, float(budget))
    try:
        return SignMap.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    smap = compute_sign_map(activation, budget)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.partial")
        scratch.write_text(json.dumps(smap.to_dict()))
        scratch.replace(path)
    except OSError:
        pass  # an unwritable cache only costs a recomputation
    return smap


_SOURCES = ("theory/signmap.py", "theory/certify/isolate.py", "theory/certify/extended.py", "theory/certify/balls.py",
            "theory/certify/rewrite.py", "theory/certify/results.py", "activations.py", "bounded.py")


@lru_cache(maxsize=1)
def _sources_digest() -> str:
    here = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for part in _SOURCES:
        digest.update((here / part).read_bytes())
    return digest.hexdigest()


def _disk_path(activation: Activation, budget: float) -> Path:
    key = hashlib.sha256("\n".join([_sources_digest(), activation.name, sp.srepr(activation.sigma_dsigma),
                                     repr(budget)]).encode()).hexdigest()[:24]
    return cache_root() / "signmaps" / f"{key}.json"


def compute_sign_map(activation: Activation, budget: float | None = None) -> SignMap:
    """:func:`sign_map` without its caches: the map proved anew."""
    if budget is None:
        budget = CUSTOM_BUDGET if activation.custom else BUILTIN_BUDGET
    g = activation.sigma_dsigma
    period = _period(g)
    if period is not None:
        periodic = _periodic_map(activation, g, period, float(budget))
        if periodic is not None:
            return periodic
    intervals, roots, isolations, reasons, symbolic = _pieces(g, _branches(g), float(budget))
    certification = INCONCLUSIVE if reasons else CERTIFIED if isolations else EXACT
    return _finish(activation, g, intervals, roots, isolations, "; ".join(reasons), certification, symbolic)


def _pieces(g: sp.Expr, branches, budget: float):
    """Sign intervals and roots of g over the given branches (expression, lo, hi), proved where the
    budget allows: (intervals, roots, isolations, reasons not proved, whether SymPy solved a branch)."""
    left = budget
    intervals: list[SignInterval] = []
    roots: list[Root] = []
    isolations: list[Isolation] = []
    reasons: list[str] = []
    symbolic = False  # some branch solved by SymPy
    for branch, lo, hi in branches:
        if _identically_zero(branch):
            intervals.append(SignInterval(lo, hi, 0))
            continue
        solved = _polynomial_branch(branch, lo, hi)
        if solved is not None:
            intervals += solved[0]
            roots += solved[1]
            symbolic = True
            continue
        proved = False
        for form, share in ((branch, 2), (None, 2)):  # as given, then normalized; what is left for the whole
            form = form if form is not None else _normalized(branch)
            by_factor = None if form is None else _factor_branch(form, lo, hi, left / share)
            if by_factor is not None:
                factor_intervals, factor_roots, factor_isos, spent = by_factor
                left -= spent
                if factor_intervals is not None:
                    intervals += factor_intervals
                    roots += factor_roots
                    isolations += factor_isos
                    proved = True
                    break
        if proved:
            continue
        branch_intervals, branch_roots, iso, reason = _certified_branch(branch, lo, hi, left)
        left -= iso.work if iso is not None else 0.0
        isolations += [iso] if iso is not None else []
        reasons += [reason] if reason else []
        intervals += branch_intervals
        roots += branch_roots
    return intervals, roots, isolations, reasons, symbolic


def _finish(activation, g, intervals, roots, isolations, reason, certification, symbolic, period=None) -> SignMap:
    intervals, roots = _snap_exact_roots(intervals, roots)
    touching = frozenset(r.value for r in roots if r.enclosure is not None and r.enclosure[0] == r.enclosure[1]
                         and "order" in r.method and _even_order(r.method))
    merged = _merge(sorted(intervals, key=lambda iv: iv.lo), touching)
    roots = sorted({r.value: r for r in roots + _boundary_roots(g, merged, roots)}.values(), key=lambda r: r.value)
    if certification == INCONCLUSIVE:
        reason = _open_pieces(merged, roots, reason)
    method = _method(certification, isolations, reason, symbolic)
    if period is not None:
        method = (f"certified (Arb ball arithmetic on one period [0, {float(sp.sympify(period)):.10g}]); sigma sigma' "
                  f"periodic with period {period} (SymPy), so that period decides the whole line")
    return SignMap(activation.name, tuple(merged), tuple(roots), certification == EXACT,
                   method, certification, reason)


def _open_pieces(intervals: list[SignInterval], roots: list[Root], reason: str) -> str:
    """The reason, with the intervals not closed named, and how often the float scan saw σσ' change sign in
    each (many changes on a tail: likely infinitely many, which no finite map can prove)."""
    pieces: list[list[float]] = []
    for iv in intervals:
        if iv.certified:
            continue
        if pieces and pieces[-1][1] == iv.lo:
            pieces[-1][1] = iv.hi
        else:
            pieces.append([iv.lo, iv.hi])
    if not pieces:
        return reason
    texts, points = [], []
    for lo, hi in pieces:
        if math.isfinite(lo) and hi - lo <= 1e-9 * max(1.0, abs(lo)):
            points.append(_fmt(lo))
            continue
        changes = sum(1 for r in roots if lo < r.value < hi and r.enclosure is None)
        seen = f" (the float scan sees {changes} sign changes there)" if changes else ""
        texts.append(f"({_fmt(lo)}, {_fmt(hi)}){seen}")
    if points:
        texts.append(f"the points {', '.join(points)} (σσ' seems to touch 0 there without changing sign; Arb "
                     "proves no zero exactly at a point that is not a binary number)")
    return f"{reason}; not closed: {'; '.join(texts)}"


PERIODIC_WINDOW = 16.0  # a periodic map lists its translates over whole periods covering [-16, 16]


def _period(g: sp.Expr) -> sp.Expr | None:
    """A period of g (SymPy's periodicity; exact), or None: not periodic, or not found in one step."""
    if isinstance(g, sp.Piecewise) or not g.has(sp.sin, sp.cos, sp.tan):
        return None
    period = bounded(lambda: sp.periodicity(g, x), SYMPY_STEP_LIMIT)
    if period is None or not period.is_positive or not period.is_finite:
        return None
    return period


def _periodic_map(activation: Activation, g: sp.Expr, period: sp.Expr, budget: float) -> SignMap | None:
    """sigma sigma' periodic with an exact period T: its sign map proved on [0, T] is proved on the whole
    line. The map lists the translates over whole periods covering [-PERIODIC_WINDOW, PERIODIC_WINDOW] and
    two tails marked ``period`` (the pattern repeats there; their ``sign`` is the lowest sign the pattern
    takes, so a negative piece on p > 0 is never hidden). None where one period is not proved."""
    t = float(period)
    intervals, roots, isolations, reasons, symbolic = _pieces(g, [(g, 0.0, t)], budget)
    if reasons:
        return None
    n = max(1, math.ceil(PERIODIC_WINDOW / t))
    shifted_intervals, shifted_roots = [], []
    for k in range(-n, n):
        shift = k * t
        shifted_intervals += [SignInterval(iv.lo + shift, iv.hi + shift, iv.sign) for iv in intervals]
        for r in roots:
            value = r.value + shift
            pad = 4 * math.ulp(max(abs(value), t * n))  # the float translate's rounding
            enclosure = None if r.enclosure is None else (r.enclosure[0] + shift - pad, r.enclosure[1] + shift + pad)
            shifted_roots.append(Root(value, None, r.method + f", translated by {k} periods", enclosure))
        edge_root = Root(shift, None, "end of a period (sigma sigma' there as at 0)", None)
        if _sign_changes_at_period_end(intervals):
            shifted_roots.append(edge_root)
    lowest = min(iv.sign for iv in intervals)
    tails = [SignInterval(-math.inf, -n * t, lowest, period=t), SignInterval(n * t, math.inf, lowest, period=t)]
    return _finish(activation, g, shifted_intervals + tails, shifted_roots, isolations, "", CERTIFIED, symbolic,
                   period=sp.sstr(period))


def _sign_changes_at_period_end(intervals: list[SignInterval]) -> bool:
    ordered = sorted(intervals, key=lambda iv: iv.lo)
    return ordered[0].sign != ordered[-1].sign


def _polynomial_branch(branch: sp.Expr, lo: float, hi: float) -> tuple[list[SignInterval], list[Root]] | None:
    """Exact sign intervals and roots of a polynomial (or pole-free rational) branch, else None."""
    poly_roots = _polynomial_roots(branch, lo, hi)
    if poly_roots is None:
        return None
    edges = [lo] + [float(r) for r in poly_roots] + [hi]
    intervals = []
    for a, b in zip(edges[:-1], edges[1:]):
        mid = (a + b) / 2 if math.isfinite(a) and math.isfinite(b) else (b - 1 if math.isfinite(b) else a + 1)
        if not math.isfinite(mid):
            mid = 0.0
        value = branch.subs(x, sp.nsimplify(mid)).evalf(MP_DPS)
        intervals.append(SignInterval(a, b, int(sp.sign(value))))
    return intervals, [Root(float(r), sp.sstr(r), "symbolic") for r in poly_roots]


def _boundary_roots(g: sp.Expr, merged: list[SignInterval], roots: list[Root]) -> list[Root]:
    """A root at a branch boundary (e.g. relu at 0): where two differently signed intervals meet."""
    known = {r.value for r in roots}
    found = []
    for left, right in zip(merged[:-1], merged[1:]):
        if left.hi not in known and left.sign != right.sign:
            exact_text = _exact_root(g, left.hi) if math.isfinite(left.hi) else None
            found.append(Root(left.hi, exact_text or sp.sstr(sp.nsimplify(left.hi)), "symbolic (branch boundary)"))
    return found


def _even_order(method: str) -> bool:
    words = method.split("order ")
    return len(words) > 1 and int(words[1].split()[0]) % 2 == 0
