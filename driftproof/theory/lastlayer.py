"""R1, R2 and the controls: E[delta_i | p] for the last hidden layer, derived with SymPy.

delta_i = sigma'(p_i) sum_k V_ki dl/dz_k, z_k = V_ki h_i + sum_{j != i} V_kj h_j (c = 0 at init).
The expectation over the output weights V and the labels y (uniform one-hot, independent)
needs only the moments of one row of V: E[V] = mu, Var V = s^2, Cov(V_ki, V_kj) = rho.
MSE is exact for any such D (R1); CE uses Stein's lemma and needs a Gaussian row (R2).
Both reduce to  E[delta_i | p] = sigma'(p_i) (A sigma(p_i) + B S_{-i}  + C0),  S_{-i} = sum_{j!=i} h_j.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..activations import x
from ..config import Config
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Estimate, Verdict
from .certify import Unsupported, isolate_sign
from .curvature import output_curvature
from .derivation import Derivation, Step
from .gaussian import gaussian_moment
from .meanfield import mean_field
from .signmap import SignMap, sign_map

__all__ = ["derive_last_layer", "conditional_last_layer", "ConditionalPrediction", "Coefficients",
           "coefficients", "PointwiseCheck", "pointwise_check"]

# Symbols of the derivation.
p_i, h_i, S, K, N = sp.symbols("p_i h_i S_{-i} K N", real=True)
s, mu, rho, C = sp.symbols("s mu rho C", real=True)
V_ki, V_kj, y_k, pi_k, z_k = sp.symbols("V_ki V_kj y_k pi_k z_k", real=True)
delta_i = sp.Symbol("delta_i", real=True)
sigma = sp.Function("sigma")
E = sp.Function("E")


@dataclass(frozen=True)
class Coefficients:
    """E[delta_i | p] = sigma'(p_i) (A sigma(p_i) + B S_{-i} + C0) for this configuration."""

    A: float
    B: float
    C0: float
    curvature: Estimate | None  # CE: E[sum pi (1 - pi)], the numeric step
    exact: bool
    method: str


def _init_moments(config: Config) -> dict:
    init = config.init_dist
    s_V = config.stds[-1]
    var, cov = init.covariance(s_V, config.width)
    return {s: s_V, mu: init.mean_shift, rho: cov, K: config.classes, N: config.width, "var": var}


def logit_variance(init, var: float, n: int, sum_h2: float, sum_h: float) -> float:
    """Var z_k given h: s^2 ||h||^2 for independent rows of V; the centered rows (each summing
    to zero) remove the mean direction, leaving s^2 n/(n-1) (||h||^2 - (sum h)^2 / n)."""
    if init.kind == "centered":
        return var * n / (n - 1) * (sum_h2 - sum_h**2 / n)
    return var * sum_h2


def _loss_gradient(config: Config) -> tuple[sp.Expr, sp.Expr]:
    """dl/dz_1 from the loss's symbolic form (a K = 3 instance), and its generic form."""
    expr, z, y = config.loss_fn.symbolic(3)
    return sp.diff(expr, z[0]), config.loss_fn.symbolic_gradient(z_k, y_k, pi_k, K)


@lru_cache(maxsize=64)
def derive_last_layer(config: Config) -> tuple[Derivation, Coefficients]:
    """R1 (MSE) or R2 (CE) for the configuration's init, as numbered SymPy steps."""
    init, loss = config.init_dist, config.loss_fn
    values = _init_moments(config)
    instance, generic = _loss_gradient(config)
    steps = [
        Step("loss gradient (SymPy, K = 3 instance)", sp.Eq(sp.Symbol("dl/dz_1"), instance),
             "differentiated from the loss's symbolic form"),
        Step("chain rule", sp.Eq(delta_i, sp.Derivative(sigma(p_i), p_i) * sp.Sum(V_ki * generic, (sp.Symbol("k"), 1, K)))),
        Step("logits at init (c = 0)", sp.Eq(z_k, V_ki * h_i + sp.Symbol("R_k")),
             "R_k = sum_{j != i} V_kj h_j; every other unit enters through the same cross moment"),
        Step("moments of a row of V", sp.Tuple(sp.Eq(E(V_ki), mu), sp.Eq(E(V_ki**2), s**2 + mu**2),
                                                sp.Eq(E(V_ki * V_kj), rho + mu**2), sp.Eq(E(y_k), 1 / K)),
             f"init {init.name}: mu = {values[mu]:g}, s^2 = {values['var']:.6g}, rho = {values[rho]:.6g}; labels independent"),
    ]
    if loss.linear_gradient:  # R1: exact for any zero-mean D
        scale = 1 / K if loss.mean_reduction else 1
        per_k = sp.expand(V_ki * (V_ki * h_i + V_kj * S - y_k))
        expectation = per_k.subs(V_ki**2, s**2 + mu**2).subs(V_ki * V_kj, rho + mu**2).subs(V_ki * y_k, mu / K)
        total = sp.expand(scale * K * expectation)
        steps += [
            Step("expand one output k (S_{-i} = sum_{j!=i} h_j)", sp.Eq(E(V_ki * (z_k - y_k)), E(per_k))),
            Step("linearity of expectation, moments substituted", sp.Eq(E(V_ki * (z_k - y_k)), expectation),
                 "exact: only first and second moments of D enter (R1)"),
            Step("sum over the K outputs", sp.Eq(E(delta_i) / sp.Derivative(sigma(p_i), p_i), total)),
        ]
        A_expr, B_expr, C_expr = total.coeff(h_i), total.coeff(S), total.subs({h_i: 0, S: 0})
        exact, curvature = True, None
        method = "exact (R1: linearity, second moments only)"
    else:
        stein = sp.Eq(E(V_ki * sp.Function("g")(V_ki)), mu * E(sp.Function("g")(V_ki))
                      + sp.Sum(sp.Symbol("Cov_ij") * E(sp.Derivative(sp.Function("g")(V_kj), V_kj)),
                               (sp.Symbol("j"), 1, N)))
        field = mean_field(config)
        # The logit variance a row of V gives: s^2 ||h||^2 for independent rows; the centered
        # rows remove the mean direction. Typical ||h||^2 from mean field.
        q_last = field.layers[-1].q
        e_sigma2 = gaussian_moment(config.activation, "sigma2", q_last).mean
        e_sigma = gaussian_moment(config.activation, "sigma", q_last).mean
        n = config.width
        variance = logit_variance(init, values["var"], n, n * e_sigma2, n * e_sigma)
        curvature = output_curvature(loss, config.classes, variance, config.seed)
        total = sp.expand(C * (s**2 * h_i + rho * S))
        steps += [
            Step("Stein's lemma for a Gaussian row of V", stein,
                 "holds for jointly Gaussian rows (normal, shifted, centered)" if init.gaussian else
                 f"does NOT hold for {init.name}: the magnitude below is the Gaussian approximation; "
                 "the sign is still exact by R3 (Chebyshev) when D is zero-mean and independent"),
            Step("softmax derivative", sp.Eq(sp.Derivative(pi_k, V_kj), pi_k * (1 - pi_k) * sp.Symbol("h_j"))),
            Step("the mean term cancels", sp.Eq(mu * sp.Sum(E(pi_k - y_k), (sp.Symbol("k"), 1, K)), 0),
                 "sum_k pi_k = sum_k y_k = 1: a shifted mean adds the same logit to every class"),
            Step("result", sp.Eq(E(delta_i) / sp.Derivative(sigma(p_i), p_i), total),
                 "C = E[sum_k pi_k(1-pi_k)], z ~ N(0, v I_K)"),
            Step("C at the typical logit variance v (mean field)", sp.Symbol("C"), curvature.method,
                 exact=False, value=curvature.mean, error=curvature.stderr),
        ]
        A_expr, B_expr, C_expr = total.coeff(h_i), total.coeff(S), sp.S.Zero
        exact = init.gaussian
        method = ("Stein's lemma (R2), C numeric" if init.gaussian
                  else "Gaussian approximation (R2 assumes a Gaussian row); sign exact by R3")
    substitutions = {s: values[s], mu: values[mu], rho: values[rho], K: values[K], N: values[N]}
    if curvature is not None:
        substitutions[C] = curvature.mean
    coeffs = Coefficients(float(A_expr.subs(substitutions)), float(B_expr.subs(substitutions)),
                          float(C_expr.subs(substitutions)), curvature, exact, method)
    finite = all(math.isfinite(v) for v in (coeffs.A, coeffs.B, coeffs.C0))
    # with a non-finite coefficient SymPy would print Eq(..., nan*...) as "False": say so instead
    final = sp.Eq(E(delta_i), sp.Derivative(sigma(p_i), p_i) * (
        sp.Float(coeffs.A, 6) * sigma(p_i) + sp.Float(coeffs.B, 6) * S + sp.Float(coeffs.C0, 6))) if finite else None
    steps.append(Step(f"this configuration ({init.name}, s_V = {values[s]:.4g}, K = {config.classes})", final,
                      "" if finite else "no finite coefficients: C above has no value at this logit variance",
                      exact=exact and curvature is None))
    conclusion = _conclusion(coeffs)
    key = loss.result
    title = f"last hidden layer, {loss.name}, E[delta_i | p] over the output weights and labels"
    assumptions = ["output bias c = 0 at init", "labels uniform over K classes, independent of the weights"]
    return Derivation(key, title, tuple(steps), tuple(assumptions), conclusion), coeffs


def _conclusion(coeffs: Coefficients) -> str:
    if not all(math.isfinite(value) for value in (coeffs.A, coeffs.B, coeffs.C0)):
        return "no number: the curvature C is undefined at this scale (see its step); the sign still follows R3"
    if coeffs.B == 0 and coeffs.C0 == 0:
        return "E[delta_i | p] = A sigma(p_i) sigma'(p_i) with A > 0: its sign is the sign of sigma sigma' (R3)"
    return ("E[delta_i | p] depends on the other units through S_{-i} and on the mean shift: "
            "it can be negative for p_i > 0 where sigma(p_i) is small")


def coefficients(config: Config) -> Coefficients:
    return derive_last_layer(config)[1]


@dataclass(frozen=True)
class ConditionalPrediction:
    """Predicted E[delta_i | p] for each unit of the last hidden layer, given p."""

    values: np.ndarray
    curvature: Estimate | None
    exact: bool
    method: str


def conditional_last_layer(config: Config, p: np.ndarray, coeffs: Coefficients | None = None) -> ConditionalPrediction:
    """Unit-by-unit prediction given the last hidden layer's pre-activations ``p`` (shape (N,)).

    MSE: exact for every init. CE: Stein's lemma, C evaluated at this p's own logit variance.
    """
    p = np.asarray(p, dtype=float)
    act = config.activation
    h, dh = act.numpy(p), act.numpy_derivative(p)
    coeffs = coeffs or coefficients(config)
    others = h.sum() - h
    A, B, C0, curvature = coeffs.A, coeffs.B, coeffs.C0, coeffs.curvature
    if config.loss_fn.curvature(config.classes) is None:  # CE: the curvature depends on these p's logits
        init = config.init_dist
        var, _ = init.covariance(config.stds[-1], len(p))
        n = len(p)
        variance = logit_variance(init, var, n, float(h @ h), float(h.sum()))
        curvature = output_curvature(config.loss_fn, config.classes, variance, config.seed)
        ratio = curvature.mean / coeffs.curvature.mean
        A, B = A * ratio, B * ratio
    return ConditionalPrediction(dh * (A * h + B * others + C0), curvature, coeffs.exact, coeffs.method)


@dataclass(frozen=True)
class PointwiseCheck:
    """Does E[delta_i | p] >= 0 hold for every p_i > 0 in the last hidden layer (R1/R2, R3)?

    ``case`` is ``sign_map`` (zero-mean independent init: the sign is that of sigma sigma')
    or ``control`` (an assumption fails: the sign also depends on S_{-i}). ``negative`` and
    ``zero`` are the (lo, hi) p-regions on p > 0 found negative / exactly zero; for a
    control, ``outcome`` is ``negative`` (negative for S anywhere within 3 sd of its
    mean-field value), ``nonnegative``, ``depends_on_S`` or ``not_finite``.
    """

    verdict: Verdict
    case: str
    coefficients: Coefficients
    sign_map: SignMap
    negative: tuple[tuple[float, float], ...] = ()
    zero: tuple[tuple[float, float], ...] = ()
    outcome: str = ""
    typical_S: float | None = None
    S_range: tuple[float, float] | None = None
    q: float | None = None
    scan_max: float | None = None
    enclosures: tuple[tuple[float, float], ...] = ()  # certified enclosures of the roots bounding ``negative``

    def to_dict(self) -> dict:
        coeffs = self.coefficients
        out = {"verdict": str(self.verdict), "case": self.case, "sign_map": self.sign_map.to_dict(),
               "A": coeffs.A, "B": coeffs.B, "C0": coeffs.C0, "method": coeffs.method, "exact": coeffs.exact,
               "negative": [list(iv) for iv in self.negative], "zero": [list(iv) for iv in self.zero]}
        if coeffs.curvature is not None:
            out["curvature"] = coeffs.curvature.to_dict()
        if self.case == "control":
            out.update({"outcome": self.outcome, "typical_S": self.typical_S, "q": self.q,
                        "S_range": list(self.S_range), "scan_max": self.scan_max,
                        "root_enclosures": [list(e) for e in self.enclosures]})
            if self.negative:
                out["negative_p"] = list(self.negative[0])
        return out


def pointwise_check(config: Config) -> PointwiseCheck:
    """R1/R2 with R3: the sign of E[delta_i | p] on p_i > 0 in the last hidden layer.

    Zero-mean independent init: the sign is that of sigma sigma' (R3), from the exact sign map.
    Controls: scan p in (0, 8 sqrt(q)] with the other units' sum anywhere within 3 sd of its
    mean-field value; inconclusive when the sign depends on where it falls.
    """
    smap = sign_map(config.activation)
    coeffs = coefficients(config)
    if coeffs.B == 0 and coeffs.C0 == 0:
        negative = tuple((iv.lo, iv.hi) for iv in smap.negative_on_positive)
        zero = tuple((iv.lo, iv.hi) for iv in smap.zero_on_positive)
        if any(iv.certified for iv in smap.negative_on_positive):
            verdict = VIOLATED
        else:  # holds only on a proved map
            verdict = HOLDS if smap.proved and not negative else INCONCLUSIVE
        return PointwiseCheck(verdict, "sign_map", coeffs, smap, negative, zero)
    return _control_check(config, coeffs, smap)


CONTROL_BUDGET = 60_000  # units of work (certify/isolate.py) of certified root isolation per value of S_{-i}
_p = sp.Symbol("p", positive=True)  # p > 0: the Piecewise branches for p < 0 drop out


def _negative_regions(config: Config, coeffs: Coefficients, S_value: float):
    """The certified regions of p > 0 where sigma'(p) (A sigma(p) + B S + C0) < 0, and the Isolation."""
    act = config.activation
    expr = (act.derivative * (coeffs.A * act.normalized + coeffs.B * S_value + coeffs.C0)).subs(x, _p)
    iso = isolate_sign(sp.piecewise_fold(expr), 0.0, math.inf, budget=CONTROL_BUDGET, symbol=_p)
    return tuple((iv.lo, iv.hi) for iv in iso.intervals if iv.sign < 0), iso


def _control_check(config: Config, coeffs: Coefficients, smap: SignMap) -> PointwiseCheck:
    """The expectation depends on the other units through S_{-i}, linearly. Decide only when the
    sign is the same for S anywhere in its typical +- 3 sd (mean field), else defer to Monte Carlo.
    The negative p-regions come from certified root isolation on the derived expression over the
    whole half-line p > 0 (ball arithmetic, :mod:`driftproof.theory.certify`), not from a grid."""
    q = mean_field(config).layers[-1].q
    e_sigma = gaussian_moment(config.activation, "sigma", q).mean
    e_sigma2 = gaussian_moment(config.activation, "sigma2", q).mean
    typical_S = (config.width - 1) * e_sigma
    sd_S = math.sqrt(max((config.width - 1) * (e_sigma2 - e_sigma**2), 0.0))
    S_range = (typical_S - 3 * sd_S, typical_S + 3 * sd_S)
    common = dict(typical_S=typical_S, S_range=S_range, q=q, scan_max=math.inf)
    answers, isolations = [], []
    for S_value in (S_range[0], typical_S, S_range[1]):
        try:
            negative, iso = _negative_regions(config, coeffs, S_value)
        except Unsupported:
            return PointwiseCheck(INCONCLUSIVE, "control", coeffs, smap, outcome="not_proved", **common)
        if not iso.proved:
            return PointwiseCheck(INCONCLUSIVE, "control", coeffs, smap, outcome="not_proved", **common)
        answers.append(negative)
        isolations.append(iso)
    if all(answers):
        return PointwiseCheck(VIOLATED, "control", coeffs, smap, answers[1], outcome="negative",
                              enclosures=tuple((r.lo, r.hi) for r in isolations[1].roots), **common)
    if not any(answers):
        return PointwiseCheck(HOLDS, "control", coeffs, smap, outcome="nonnegative", **common)
    return PointwiseCheck(INCONCLUSIVE, "control", coeffs, smap, outcome="depends_on_S", **common)
