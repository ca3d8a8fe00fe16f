"""Expectations E[f(p)] for p ~ N(0, q) of functions built from sigma and sigma'.

Closed forms (SymPy) where every branch is a polynomial (relu, leaky_relu, relu2,
clipped_relu2, identity); Gauss-Hermite quadrature for smooth activations, with the change
from n to 2n nodes as its error estimate; otherwise (a kink, or the half line p > 0) composite
Gauss-Legendre between the kinks, one panel per standard deviation, with the change from n to
2n nodes per panel as its error estimate, and SciPy's adaptive QUADPACK only where that estimate
misses QUADPACK's tolerance or the integrand has not vanished at 38 standard deviations (SciPy's
``integrate`` costs ~0.3 s to import, more than every integral ``verify`` needs).
SymPy is never handed a transcendental integral (erf^2 integrands run for minutes).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

from ..activations import Activation, numeric_function, x
from ..results import Estimate

__all__ = ["gaussian_moment", "MOMENTS", "GH_NODES", "GL_NODES", "TAIL_SD", "QUAD_TOLERANCE", "quad",
           "gauss_legendre", "piecewise_branches"]

GH_NODES = 200
GL_NODES = 20  # Gauss-Legendre nodes per panel of one standard deviation (the error estimate doubles them)
TAIL_SD = 38.0  # the N(0, 1) density is 1e-314 there: beyond it every term underflows
QUAD_TOLERANCE = (1e-13, 1e-11)  # (absolute, relative): QUADPACK's targets, which Gauss-Legendre must meet
q_symbol = sp.Symbol("q", positive=True)

# name -> (integrand as a function of the activation, restrict to p > 0)
MOMENTS = {
    "sigma": (lambda a: a.normalized, False),
    "sigma2": (lambda a: a.normalized**2, False),
    "sigma_dsigma": (lambda a: a.sigma_dsigma, False),
    # Stein: E[(sigma sigma')'(p)] = E[p sigma sigma'(p)] / q, valid across jumps of sigma'.
    "p_sigma_dsigma": (lambda a: x * a.sigma_dsigma, False),
    "sigma_dsigma_pos": (lambda a: a.sigma_dsigma, True),
}


def piecewise_branches(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Set]]:
    """(branch, domain) for each branch of a (folded) Piecewise; the whole line otherwise."""
    expr = sp.piecewise_fold(expr)
    if not isinstance(expr, sp.Piecewise):
        return [(expr, sp.S.Reals)]
    return expr.as_expr_set_pairs(sp.S.Reals)


def _is_piecewise_polynomial(expr: sp.Expr) -> bool:
    return all(branch.is_polynomial(x) for branch, _ in piecewise_branches(expr))


@lru_cache(maxsize=256)
def _closed_form(activation: Activation, name: str) -> sp.Expr | None:
    """E[f(p)] as a SymPy expression in q, when every branch of f is a polynomial."""
    build, positive_only = MOMENTS[name]
    expr = build(activation)
    if not _is_piecewise_polynomial(expr):
        return None
    total = sp.S.Zero
    for branch, domain in piecewise_branches(expr):
        if positive_only:
            domain = domain.intersect(sp.Interval.open(0, sp.oo))
        parts = domain.args if isinstance(domain, sp.Union) else (domain,)
        for part in parts:
            if isinstance(part, sp.Interval) and part.measure != 0 and branch != 0:
                poly = sp.Poly(sp.expand(branch), x)
                total += sum(coeff * _monomial_integral(power, part.start, part.end)
                             for (power,), coeff in poly.terms())
    return sp.nsimplify(total) if total.is_number else total


def _monomial_integral(n: int, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """Integral of x^n phi_q(x) over (a, b), phi_q the N(0, q) density, in closed form.

    Integration by parts: I_n = [-q x^(n-1) phi_q]_a^b + (n-1) q I_(n-2), with
    I_0 = Phi(b/sqrt q) - Phi(a/sqrt q) and I_1 = q (phi_q(a) - phi_q(b)).
    """
    q = q_symbol

    def phi(t):
        return sp.S.Zero if t in (sp.oo, -sp.oo) else sp.exp(-t**2 / (2 * q)) / sp.sqrt(2 * sp.pi * q)

    def cdf(t):
        return sp.S.One if t == sp.oo else sp.S.Zero if t == -sp.oo else (1 + sp.erf(t / sp.sqrt(2 * q))) / 2

    def boundary(t, k):  # t^k phi_q(t), zero at infinity
        return sp.S.Zero if t in (sp.oo, -sp.oo) else t**k * phi(t)

    if n == 0:
        return cdf(b) - cdf(a)
    if n == 1:
        return q * (phi(a) - phi(b))
    return -q * (boundary(b, n - 1) - boundary(a, n - 1)) + (n - 1) * q * _monomial_integral(n - 2, a, b)


@lru_cache(maxsize=256)
def _integrand(activation: Activation, name: str):
    """The moment's integrand as a numpy function (lambdify costs ~50 ms: build it once)."""
    return numeric_function(MOMENTS[name][0](activation))


@lru_cache(maxsize=8)
def _hermite_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    return hermegauss(n)


@lru_cache(maxsize=8)
def _legendre_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    return leggauss(n)


def _weighted(f, sd: float):
    """t -> f(sd t) phi(t) for arrays of standardized points t, 0 where the density underflows."""
    def g(t: np.ndarray) -> np.ndarray:
        density = np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
        with np.errstate(all="ignore"):  # a Piecewise's unused branch may divide by zero; exp may overflow
            values = np.asarray(f(sd * t), dtype=float) * np.ones_like(t)
        return np.where(density > 0, values * density, 0.0)
    return g


def gauss_legendre(g, a: float, b: float, n: int) -> float:
    """The integral of g over the finite [a, b] by n-point Gauss-Legendre on each of ceil(b - a) equal panels."""
    panels = max(1, math.ceil(b - a))
    edges = np.linspace(a, b, panels + 1)
    nodes, weights = _legendre_nodes(n)
    half, mid = (edges[1:] - edges[:-1]) / 2, (edges[1:] + edges[:-1]) / 2
    return float(np.dot((half[:, None] * weights).ravel(), g((mid[:, None] + half[:, None] * nodes).ravel())))


def _segment(f, sd: float, a: float, b: float) -> tuple[float, float] | None:
    """E[f(p) 1{a < p < b}] by composite Gauss-Legendre in standardized units, with |G(n) - G(2n)| as the
    error; None where that misses QUAD_TOLERANCE or the integrand has not vanished at a cut-off tail."""
    g = _weighted(f, sd)
    lo, hi = max(a / sd, -TAIL_SD), min(b / sd, TAIL_SD)
    if lo >= hi:
        return 0.0, 0.0
    coarse, fine = gauss_legendre(g, lo, hi, GL_NODES), gauss_legendre(g, lo, hi, 2 * GL_NODES)
    error = abs(fine - coarse) + 1e-15 * abs(fine)
    cut = [t for t, end in ((lo, a), (hi, b)) if t != end / sd]  # the ends cut off at TAIL_SD
    absolute, relative = QUAD_TOLERANCE
    if not math.isfinite(fine) or error > max(absolute, relative * abs(fine)) \
            or any(abs(g(np.array([t]))[0]) > 1e-300 for t in cut):
        return None
    return fine, error


def _gauss_hermite(f, sd: float) -> Estimate:
    """E[f(p)], p ~ N(0, sd^2), f smooth on the whole line: Gauss-Hermite, the change from n/2 to n nodes as error."""
    def gh(n):
        nodes, weights = _hermite_nodes(n)
        with np.errstate(all="ignore"):  # overflow gives inf (exp(1000 x)): a value, not a warning
            values = np.asarray(f(sd * nodes), dtype=float) * np.ones_like(nodes)
            return float(np.dot(weights, np.nan_to_num(values)) / math.sqrt(2 * math.pi))

    coarse, fine = gh(GH_NODES // 2), gh(GH_NODES)
    return Estimate.bounded(fine, abs(fine - coarse) + 1e-15 * abs(fine),
                            f"quadrature: Gauss-Hermite, {GH_NODES} nodes (error |GH(n/2) - GH(n)|)")


def _segments(kinks: list[float], positive_only: bool) -> list[tuple[float, float]]:
    """The intervals between the kinks (from 0 for a moment restricted to p > 0) to infinity."""
    edges = sorted({*(k for k in kinks if not positive_only or k > 0), *([0.0] if positive_only else [])})
    lower = 0.0 if positive_only else -math.inf
    points = [lower] + [e for e in edges if e > lower] + [math.inf]
    return [(a, b) for a, b in zip(points[:-1], points[1:]) if a != b]


FEATURE_LEVELS = (0, 1, -1, 4, -4, 16, -16, 64, -64)  # values of an inner argument u(x) that mark a feature


@lru_cache(maxsize=256)
def feature_points(expr: sp.Expr) -> tuple[float, ...]:
    """Points that mark narrow features of ``expr``: for each argument u(x) of exp, tanh, erf, erfc and
    log that is a polynomial of degree <= 4, the real x where u'(x) = 0 (the centre of a bump such as
    exp(-(10000*(x-1))**2)) and where u(x) takes the values FEATURE_LEVELS (its flanks, at the scale
    of the feature, however narrow). Quadrature splits there, so that a feature of width 1e-4 is
    integrated, not stepped over by nodes a standard deviation apart."""
    points: set[float] = set()
    for node in sp.preorder_traversal(expr):
        if not isinstance(node, (sp.exp, sp.tanh, sp.erf, sp.erfc, sp.log)):
            continue
        u = node.args[0]
        if not u.has(x) or not u.is_polynomial(x):
            continue
        poly = sp.Poly(u, x)
        if poly.degree() > 4 or poly.degree() < 1 or not all(c.is_Number for c in poly.coeffs()):
            continue
        scale = max(abs(float(c)) for c in poly.all_coeffs()[:-1])
        if scale < 1e2:  # a feature on the scale of 1: Gauss-Legendre per standard deviation sees it
            continue
        for target in [poly.diff(x)] + [poly - level for level in FEATURE_LEVELS]:
            if target.degree() < 1:
                continue
            for root in np.roots([float(c) for c in target.all_coeffs()]):
                if abs(root.imag) <= 1e-12 * max(1.0, abs(root.real)) and math.isfinite(root.real):
                    points.add(float(root.real))
    return tuple(sorted(points))


def _split_points(activation: Activation, name: str) -> list[float]:
    """Where quadrature splits: kinks, narrow features, and (for moments of sigma sigma') the roots of
    the sign map already proved (where the integrand changes sign)."""
    points = {b for b in activation.breakpoints if math.isfinite(b)}
    points |= set(feature_points(MOMENTS[name][0](activation)))
    if "sigma_dsigma" in name:
        from .signmap import sign_map  # cached: verify has proved it already

        points |= {r.value for r in sign_map(activation).roots if math.isfinite(r.value)}
    return sorted(points)


def _numeric(activation: Activation, name: str, q: float) -> Estimate:
    positive_only = MOMENTS[name][1]
    f = _integrand(activation, name)
    sd = math.sqrt(q)
    kinks = _split_points(activation, name)
    if not kinks and not positive_only:
        return _gauss_hermite(f, sd)
    segments = _segments(kinks, positive_only)
    parts = [_segment(f, sd, a, b) for a, b in segments]
    if all(part is not None for part in parts):
        return Estimate.bounded(sum(v for v, _ in parts), sum(e for _, e in parts),
                                f"quadrature: Gauss-Legendre split at kinks, narrow features and sign changes, {GL_NODES} nodes per sd to "
                                f"{TAIL_SD:g} sd (error |G(n) - G(2n)|)")
    return _quadpack(f, q, segments)


def _quadpack(f, q: float, segments: list[tuple[float, float]]) -> Estimate:
    """E[f(p)] over the segments by SciPy's adaptive QUADPACK (where Gauss-Legendre did not meet its tolerance)."""
    def weighted(p):
        weight = math.exp(-p * p / (2 * q)) / math.sqrt(2 * math.pi * q)
        if weight == 0.0:  # far tail: f may overflow there (softplus at p > 709)
            return 0.0
        with np.errstate(all="ignore"):  # numpy floats: a Piecewise's unused branch may divide by zero here
            return float(f(np.float64(p))) * weight

    absolute, relative = QUAD_TOLERANCE
    value, error = 0.0, 0.0
    for a, b in segments:
        part, part_error = quad(weighted, a, b, epsabs=absolute, epsrel=relative, limit=200)
        value += part
        error += part_error
    return Estimate.bounded(value, error, "quadrature: adaptive (QUADPACK), split at kinks")


def gaussian_moment(activation: Activation, name: str, q: float) -> Estimate:
    """E[f(p)] for p ~ N(0, q) and f one of MOMENTS (``sigma_dsigma_pos`` is E[f(p) 1{p>0}])."""
    if name not in MOMENTS:
        raise KeyError(name)
    closed = _closed_form(activation, name)
    if closed is not None:
        value = float(closed.subs(q_symbol, q).evalf(30))
        return Estimate.exact(value, "exact: closed form (SymPy)")
    return _numeric(activation, name, q)


def quad(*args, **kwargs):
    """scipy.integrate.quad, imported on first use (the import costs ~0.5 s of start-up).

    Where QUADPACK warns (divergent or slowly convergent: a huge --scale), its error estimate is not
    trusted: the error returned is at least |value| (not one digit certain), and no warning is printed.
    """
    import warnings

    from scipy.integrate import IntegrationWarning
    from scipy.integrate import quad as quadpack

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IntegrationWarning)
        value, error = quadpack(*args, **kwargs)[:2]
    if any(issubclass(w.category, IntegrationWarning) for w in caught):
        error = max(error, abs(value))
    return value, error
