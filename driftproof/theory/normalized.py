"""R6: E[delta | p] in pre-norm residual blocks, derived with SymPy (DESIGN.md §2, issue 16).

Stream ``x_0 = E x``, block l: ``p^l = W1^l n(x_{l-1})``, ``x_l = x_{l-1} + W2^l sigma(p^l)``;
readout ``z = V n(x_L)``; n is LayerNorm or RMSNorm without gain (as at init), or the identity.
Write a = |P x|^2 (P centres for LayerNorm, else P = I); then |n(x)|^2 = rho(a) = N a / (a + N eps)
(rho(a) = a without a norm). For a Gaussian readout independent of the stream, z | x ~ N(0, s_V^2
rho I_K), so the expected loss is a function of a alone: Phi(x) = psi(rho(a)).

The key step: E[dl/dx_L | x_L] = grad Phi(x_L) = 2 psi'(rho) rho'(a) P x_L, and rho' = 0 when
eps = 0. Backpropagation is linear in dl/dx_L and every other factor is independent of V, so
E[delta^l_i | p^l] = 0 for EVERY block l, any loss, any activation and any law of the block
weights -- stronger than the conjecture (which had only the last block). With eps > 0 Stein's
lemma on a Gaussian W2 gives E[delta^l_i | p] = s_2^2 sigma sigma'(p_i) T_l, where T_L =
E[Laplacian Phi(x_L)] is O(eps) and earlier blocks follow a mean-field recursion T_{l-1} = T_l
(1 + chi_l). Without a norm (rho = a) the same formulas give the plain residual network's R4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..config import Config
from ..errors import InputError
from ..nets import LN_EPS
from ..results import Estimate
from .curvature import ce_curvature
from .derivation import Derivation, Step
from .gaussian import _hermite_nodes, gaussian_moment

__all__ = ["NORMS", "Residual", "radial", "psi_derivatives", "laplacian_last", "BlockPrediction",
           "ResidualPrediction", "predict", "conditional_block", "derive_residual", "A_SAMPLES", "step_a",
           "trace_at"]

NORMS = ("layernorm", "rmsnorm", "none")
A_SAMPLES = 200_000  # draws of the scalar a = |P x_L|^2 when averaging the Laplacian over W2

# Symbols of the derivation.
a, N, eps, trP, v = sp.symbols("a N epsilon trP v", positive=True)
s2, sV, K = sp.symbols("s_2^2 s_V K", positive=True)
p_i, delta_i = sp.symbols("p_i delta_i", real=True)
sigma, psi, T_z = sp.Function("sigma"), sp.Function("psi"), sp.Function("T_z")
E, Lap = sp.Function("E"), sp.Function("Laplacian")


@dataclass(frozen=True)
class Residual:
    """A pre-norm residual MLP at init as :class:`driftproof.nets.ResMLP` builds it (gains 1, biases 0).

    ``config.depth`` is the number of blocks; every matrix is drawn from ``config.init`` with
    ``config.scale``'s std for its fans: E (d_in -> N), W1 and W2 (N -> N), V (N -> K).
    """

    config: Config
    norm: str = "layernorm"
    eps: float = LN_EPS

    def __post_init__(self):
        if self.norm not in NORMS:
            raise InputError(f"norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if not isinstance(self.eps, (int, float)) or not math.isfinite(self.eps) or self.eps < 0:
            raise InputError(f"eps must be a finite number >= 0, got {self.eps!r}")
        object.__setattr__(self, "eps", float(self.eps))

    @property
    def width(self) -> int:
        return self.config.width

    @property
    def trace_P(self) -> int:
        """tr P: N - 1 for LayerNorm (it removes the mean direction), N otherwise."""
        return self.width - 1 if self.norm == "layernorm" else self.width

    @property
    def stds(self) -> dict[str, float]:
        rule, n, c = self.config.scale_rule, self.width, self.config
        return {"E": rule.std(c.d_in, n), "W1": rule.std(n, n), "W2": rule.std(n, n), "V": rule.std(n, c.classes)}

    @property
    def vanishes(self) -> bool:
        """True when R6 gives E[delta | p] = 0 exactly: a norm with eps = 0 and a readout that
        is Gaussian (any loss) or has independent zero-mean entries under MSE."""
        init = self.config.init_dist
        readout_ok = init.gaussian or (self.config.loss_fn.linear_gradient and init.zero_mean and init.independent)
        return self.norm != "none" and self.eps == 0.0 and readout_ok and init.zero_mean and init.kind != "centered"

    def rho(self, a_value):
        """|n(x)|^2 as a function of a = |P x|^2."""
        if self.norm == "none":
            return a_value
        return self.width * a_value / (a_value + self.width * self.eps)

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "norm": self.norm, "eps": self.eps}


def _rho_expr(norm: str) -> sp.Expr:
    return a if norm == "none" else N * a / (a + N * eps)


psi1, psi2 = sp.symbols("psi' psi''", real=True)  # psi'(rho), psi''(rho)


@lru_cache(maxsize=8)
def radial(norm: str) -> tuple[sp.Expr, sp.Expr, object]:
    """(dPhi/da, Laplacian of Phi, numeric Laplacian) for Phi = psi(rho(a)), a = |P x|^2.

    For a radial function f(a) of a = |P x|^2 (P a projection): grad f = 2 f'(a) P x and
    Laplacian f = 4 a f''(a) + 2 tr(P) f'(a); chain rule f' = psi' rho', f'' = psi'' rho'^2 + psi' rho''.
    The numeric form takes (a, N, eps, trP, psi', psi'').
    """
    rho = _rho_expr(norm)
    d1 = psi1 * sp.diff(rho, a)
    d2 = psi2 * sp.diff(rho, a) ** 2 + psi1 * sp.diff(rho, a, 2)
    lap = sp.factor(sp.together(4 * a * d2 + 2 * trP * d1))
    numeric = sp.lambdify((a, N, eps, trP, psi1, psi2), lap, "numpy")
    return d1, lap, numeric


def psi_derivatives(res: Residual, variance: float) -> tuple[Estimate, Estimate]:
    """psi'(v), psi''(v) at |n|^2 = v, psi(v) = E l(z), z ~ N(0, s_V^2 v I_K) (heat equation:
    d/dv E f(sqrt(v) xi) = E[Laplacian f] / 2, so psi' = s_V^2 T_z(s_V^2 v) / 2).

    MSE: T_z = K (or 1) exactly and psi'' = 0. CE: T_z by ce_curvature; its derivative by a
    central difference on common random numbers (the same logit draws at both variances).
    """
    config = res.config
    sv2 = res.stds["V"] ** 2
    loss = config.loss_fn
    constant = loss.curvature(config.classes)
    if constant is not None:
        return Estimate.exact(sv2 * constant / 2), Estimate.exact(0.0)
    logit = sv2 * variance
    t = ce_curvature(logit, config.classes, config.seed)
    step = 1e-3 * max(logit, 1e-6)
    up = ce_curvature(logit + step, config.classes, config.seed).mean
    down = ce_curvature(max(logit - step, 0.0), config.classes, config.seed).mean
    slope = (up - down) / (logit + step - max(logit - step, 0.0))
    first = Estimate.from_moments(sv2 * t.mean / 2, sv2 * t.stderr / 2, t.n, t.confidence, t.method, t.seed)
    return first, Estimate.bounded(sv2**2 * slope / 2, abs(sv2**2 * slope / 2) * 1e-2, "central difference")


def _laplacian(res: Residual, a_values: np.ndarray) -> np.ndarray:
    """Laplacian of Phi at points with |P x|^2 = a_values (mean psi', psi'' at the typical |n|^2)."""
    typical = float(np.mean(res.rho(a_values)))
    first, second = psi_derivatives(res, typical)
    numeric = radial(res.norm)[2]
    return np.asarray(numeric(a_values, res.width, res.eps, res.trace_P, first.mean, second.mean), float) \
        * np.ones_like(a_values)


def laplacian_last(res: Residual, x_prev: np.ndarray, h: np.ndarray, samples: int = A_SAMPLES) -> Estimate:
    """T_L = E_{W2}[Laplacian Phi(x_{L-1} + W2 h)] for a Gaussian W2, given the stream and h.

    Only a = |P(x + w)|^2 enters, w ~ N(0, tau^2 I), tau^2 = s_2^2 |h|^2; with c = P x,
    a = (|c| + tau g)^2 + tau^2 chi^2_{trP - 1}: a 2-D Monte Carlo (seeded), exact in law.
    """
    if res.vanishes:
        return Estimate.exact(0.0, "exact: rho'(a) = 0 (eps = 0)")
    c = float(np.linalg.norm(_project(res, np.asarray(x_prev, float))))
    tau = res.stds["W2"] * float(np.linalg.norm(h))
    rng = np.random.default_rng([res.config.seed, 0x526])
    a_values = (c + tau * rng.standard_normal(samples)) ** 2 + tau**2 * rng.chisquare(res.trace_P - 1, samples)
    values = _laplacian(res, a_values)
    return Estimate.from_moments(values.mean(), values.std(ddof=1) / math.sqrt(samples), samples, 0.95,
                                 "normal: Monte Carlo over a = |P x_L|^2", res.config.seed)


def _project(res: Residual, x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=-1, keepdims=True) if res.norm == "layernorm" else x


@dataclass(frozen=True)
class BlockPrediction:
    """Mean-field R6 for block ``block``: E[delta_i | p] = coefficient * sigma sigma'(p_i)."""

    block: int
    q_in: float  # per-coordinate second moment of the stream entering the block
    q_p: float  # Var p^l
    chi: float  # T_{l-1} / T_l - 1: how much this block amplifies the expected curvature
    trace: Estimate  # T_l, the expected Laplacian at the block's output x_l
    coefficient: Estimate  # s_2^2 T_l
    delta_given_positive: Estimate  # E[delta^l_i | p^l_i > 0]
    exact: bool

    def to_dict(self) -> dict:
        return {"block": self.block, "q_in": self.q_in, "q_p": self.q_p, "chi": self.chi,
                "trace": self.trace.to_dict(), "coefficient": self.coefficient.to_dict(),
                "delta_given_positive": self.delta_given_positive.to_dict(), "exact": self.exact}


@dataclass(frozen=True)
class ResidualPrediction:
    """R6 for every block; ``vanishes`` when every block's expectation is exactly zero."""

    residual: Residual
    blocks: tuple[BlockPrediction, ...]
    vanishes: bool
    method: str

    def to_dict(self) -> dict:
        return {**self.residual.to_dict(), "vanishes": self.vanishes, "method": self.method,
                "blocks": [block.to_dict() for block in self.blocks]}


def _scale(estimate: Estimate, factor: float, method: str) -> Estimate:
    return Estimate(estimate.mean * factor, abs(estimate.stderr * factor), estimate.n,
                    *sorted((estimate.ci_low * factor, estimate.ci_high * factor)), estimate.confidence, method,
                    estimate.seed)


def _gauss(values_of, q: float) -> float:
    """E[g(p)], p ~ N(0, q), by 200-node Gauss-Hermite (smooth enough for sigma^2 of the registry's activations)."""
    nodes, weights = _hermite_nodes(200)  # cached: computing the nodes (an eigenproblem) costs 65 ms a call
    return float(weights @ values_of(math.sqrt(q) * nodes) / math.sqrt(2 * math.pi))


@lru_cache(maxsize=8)
def _rho_derivatives(norm: str):
    rho = _rho_expr(norm)
    return sp.lambdify((a, N, eps), sp.diff(rho, a), "numpy"), sp.lambdify((a, N, eps), sp.diff(rho, a, 2), "numpy")


def step_a(res: Residual, a_value: float) -> float:
    """One block's mean-field map of a = |P x|^2: a + trP s_2^2 N E[sigma(p)^2], p ~ N(0, s_1^2 rho(a))."""
    stds, act = res.stds, res.config.activation
    q_p = stds["W1"] ** 2 * float(res.rho(a_value))
    return a_value + res.trace_P * stds["W2"] ** 2 * res.width * _gauss(lambda t: act.numpy(t) ** 2, q_p)


def trace_at(res: Residual, a_value: float, later: int) -> float:
    """T = E[Laplacian of Phi_l] at a stream with |P x_l|^2 = a, ``later`` blocks still to come.

    Phi_l(x) = E[Phi(x_L) | x_l] is radial (rotating x and the later blocks' weights together
    leaves the law unchanged), Phi_l = f(G(a)) with G the later blocks' mean-field map of a and
    f = psi o rho; Laplacian = 4 a Phi_l'' + 2 trP Phi_l' (fluctuations of |P x_L|^2: O(1/N)).
    """
    def compose(value):
        for _ in range(later):
            value = step_a(res, value)
        return value

    end = compose(a_value)
    if later:
        h = 1e-3 * a_value
        up, down = compose(a_value + h), compose(a_value - h)
        g1, g2 = (up - down) / (2 * h), (up - 2 * end + down) / h**2
    else:
        g1, g2 = 1.0, 0.0
    d_rho, dd_rho = _rho_derivatives(res.norm)
    r1, r2 = float(d_rho(end, res.width, res.eps)), float(dd_rho(end, res.width, res.eps))
    first, second = psi_derivatives(res, float(res.rho(end)))
    f1, f2 = first.mean * r1, second.mean * r1**2 + first.mean * r2
    return 4 * a_value * (f2 * g1**2 + f1 * g2) + 2 * res.trace_P * f1 * g1


@lru_cache(maxsize=64)
def predict(res: Residual) -> ResidualPrediction:
    """Mean-field R6 for every block at the typical stream.

    Forward: q_0 = s_E^2 d, a = trP q, Var p = s_1^2 rho(a), a_l = a_{l-1} + trP s_2^2 N E[sigma^2].
    Backward: T_l = :func:`trace_at` (the radial Laplacian through the later blocks' mean-field map).
    """
    config, stds, act = res.config, res.stds, res.config.activation
    a_value = res.trace_P * stds["E"] ** 2 * config.d_in
    s22 = stds["W2"] ** 2
    blocks = []
    for index in range(config.depth):
        q_p = stds["W1"] ** 2 * float(res.rho(a_value))
        a_out = step_a(res, a_value)
        later = config.depth - index - 1
        if res.vanishes:
            trace = Estimate.exact(0.0, "exact: rho'(a) = 0 (eps = 0)")
        else:
            exact = res.norm == "none" and later == 0 and config.loss_fn.linear_gradient
            method = "exact (Stein, MSE)" if exact else "mean field: radial Laplacian through later blocks"
            trace = Estimate(trace_at(res, a_out, later), 0.0, 0, math.nan, math.nan, 0.95, method)
            trace = Estimate.exact(trace.mean, method) if exact else trace
        positive = gaussian_moment(act, "sigma_dsigma_pos", q_p)
        coefficient = _scale(trace, s22, trace.method)
        given = _scale(coefficient, positive.mean / 0.5, coefficient.method)
        growth = (trace_at(res, a_value, later + 1) / trace.mean) if trace.mean else 1.0
        blocks.append(BlockPrediction(index + 1, a_value / res.trace_P, q_p, growth - 1, trace, coefficient, given,
                                      res.vanishes or trace.is_exact))
        a_value = a_out
    method = "exact zero (R6, eps = 0)" if res.vanishes else "mean field (R6: Stein on W2, radial Laplacian)"
    return ResidualPrediction(res, tuple(blocks), res.vanishes, method)


def conditional_block(res: Residual, block: int, x_prev: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, Estimate]:
    """Predicted E[delta^block_i | p] for each unit, given the stream x_{block-1} and p^block.

    The last block: Stein on W2 with T_L averaged over W2 exactly in law (:func:`laplacian_last`).
    Earlier blocks: T at the block's output a = |P x_prev|^2 + trP s_2^2 |h|^2 through the later
    blocks' mean-field map (:func:`trace_at`). Returns (values, coefficient s_2^2 T_block).
    """
    act, config = res.config.activation, res.config
    p = np.asarray(p, float)
    h = act.numpy(p)
    if block == config.depth or res.vanishes:
        trace = laplacian_last(res, x_prev, h)
    else:
        x_prev = _project(res, np.asarray(x_prev, float))
        a_out = float(x_prev @ x_prev) + res.trace_P * res.stds["W2"] ** 2 * float(h @ h)
        trace = Estimate(trace_at(res, a_out, config.depth - block), 0.0, 0, math.nan, math.nan, 0.95,
                         "mean field: radial Laplacian through later blocks")
    coefficient = _scale(trace, res.stds["W2"] ** 2, trace.method)
    return coefficient.mean * act.numpy_sigma_dsigma(p), coefficient


def _jacobian_check() -> sp.Expr:
    """J_n(x)^T n(x) for RMSNorm at eps = 0, N = 3, symbolic x: simplifies to the zero vector."""
    xs = sp.symbols("x1:4", real=True)
    vec = sp.Matrix(xs)
    n_x = sp.sqrt(3) * vec / sp.sqrt(vec.dot(vec))
    return sp.simplify(n_x.jacobian(xs).T * n_x)


@lru_cache(maxsize=32)
def derive_residual(res: Residual) -> Derivation:
    """R6 as numbered SymPy steps for this residual network (norm, eps, loss, init)."""
    config = res.config
    rho = _rho_expr(res.norm)
    d1, lap, _ = radial(res.norm)
    g_sym, J_sym = sp.Symbol("(W2^T J_l^T g)_i"), sp.Symbol("J_l")
    normed = res.norm != "none"
    steps = [
        Step("chain rule, block l", sp.Eq(delta_i, sp.Derivative(sigma(p_i), p_i) * g_sym),
             "g = dl/dx_L; J_l = dx_L/dx_l depends on blocks l+1..L only, never on V or the label"),
        Step(f"squared norm of the readout's input ({res.norm})", sp.Eq(sp.Symbol("|n(x)|^2"), rho),
             "a = |P x|^2, P = I - 11^T/N for LayerNorm, I for RMSNorm"),
        Step("readout law: z | x ~ N(0, s_V^2 |n(x)|^2 I_K)", sp.Eq(sp.Function("Phi")(sp.Symbol("x")), psi(rho)),
             "V Gaussian, independent of the stream and of the label: Phi(x) = E_{V,y} l depends on |n(x)| only"),
        Step("expected output gradient (tower property)", sp.Eq(E(sp.Symbol("g") | sp.Symbol("x_L")),
                                                                 2 * d1 * sp.Symbol("P x_L")),
             "grad Phi = 2 (dPhi/da) P x; differentiation under E by dominated convergence"),
    ]
    if normed:
        at_zero = sp.simplify(d1.subs(eps, 0))
        steps += [
            Step("eps = 0: the expected output gradient vanishes at every x",
                 sp.Eq(sp.Symbol("dPhi/da|_{eps=0}"), at_zero, evaluate=False),
                 "so E[delta^l_i | p^l] = E[(W2^T J_l^T E[g | x_L])_i sigma'] = 0 for every block l and any loss "
                 "(every block, not only the last: this supersedes the R6 paragraph of the design notes)"),
            Step("the same by Stein on V: E_V[V^T g] = s_V^2 E[tr Hess_z l] n(x), and J_n^T n = 0 (N = 3 check)",
                 _jacobian_check(),
                 "the norm's Jacobian annihilates its own output; LayerNorm likewise (n lies in the range of P)"),
            Step("eps = 0, whatever makes the stream: E_V[dl/dx_L | x_L, y] = 0 uses only V (Gaussian, i.i.d., independent of "
                 "x_L and y)", None,
                 "delta of any block is J^T dl/dx_L with J independent of V, so E[delta | p] = 0 for every block "
                 "of a GPT too: causal attention mixes positions before the norm, each position's readout is "
                 "V n(x_L,t) with its own label, and the step holds position by position"),
            Step("tied readout (V = the token embedding, as in the paper's GPT): the stream starts at V[ids], so V "
                 "is not independent of x_L; a uniform V is not rotation invariant", None,
                 "the argument does not apply and no exact statement is made; Monte Carlo at the GPT's "
                 "initialization measures it (scripts/r6_transformer.py)", exact=False),
        ]
    steps += [
        Step("Stein's lemma on a Gaussian W2 (last block; x_L = x_{L-1} + W2 h depends on W2)",
             sp.Eq(E(delta_i), s2 * sigma(p_i) * sp.Derivative(sigma(p_i), p_i) * E(Lap(sp.Function("Phi")(sp.Symbol("x_L"))))),
             "d g_j / d W2_ji = h_i d g_j / d x_j: only the trace of the Hessian survives"),
        Step("Laplacian of a radial function f(a) = psi(rho(a)): 4a f'' + 2 tr(P) f'", sp.Eq(Lap(psi(rho)), lap)),
        Step("heat equation for psi", sp.Eq(sp.Derivative(psi(v), v), sV**2 / 2 * T_z(sV**2 * v)),
             "T_z = E[tr Hess_z l] at logit variance s_V^2 v: K (MSE sum), 1 (mean), E[sum pi(1-pi)] (CE)"),
    ]
    if normed:
        leading = sp.factor(sp.series(lap, eps, 0, 2).removeO())
        steps.append(Step("leading order in eps", sp.Eq(Lap(psi(rho)), leading),
                          "positive for N > 4 (tr P > 4): the sign of sigma sigma' again, with magnitude O(eps / q^2)"))
    phi_l, G = sp.Function("phi_l"), sp.Function("G")
    steps.append(Step("earlier blocks: Phi_l(x) = E[Phi(x_L) | x_l] is radial, Phi_l = f(G(a)) (mean field)",
                      sp.Eq(Lap(phi_l(a)), sp.expand(4 * a * sp.diff(psi(G(a)), a, 2) + 2 * trP * sp.diff(psi(G(a)), a))),
                      "G: the later blocks' map a -> a + trP s_2^2 N E[sigma(p)^2], Var p = s_1^2 rho(a); "
                      "fluctuations of |P x_L|^2 dropped (relative O(1/N)); LayerNorm's radial symmetry is only "
                      "within range(P)", exact=False))
    field = predict(res)
    for block in field.blocks:
        steps.append(Step(f"block {block.block}: E[delta_i | p] / sigma sigma'(p_i) = s_2^2 T_{block.block}",
                          None, block.trace.method, exact=block.exact, value=block.coefficient.mean,
                          error=block.coefficient.stderr or None))
    if field.vanishes:
        conclusion = ("E[delta^l_i | p^l] = 0 exactly in every block: the drift vanishes at init; the claim's strict "
                      "form (> 0 for p_i > 0) does not apply")
    elif normed:
        conclusion = ("E[delta^l_i | p] = s_2^2 T_l sigma sigma'(p_i) with T_l = O(eps): the sign of sigma sigma' "
                      "but negligible against the plain residual network's")
    else:
        conclusion = "E[delta^l_i | p] = s_2^2 T_l sigma sigma'(p_i) with T_l > 0: R4 for the plain residual stream"
    assumptions = ["readout V with i.i.d. Gaussian entries independent of the stream and the label (untied)",
                   "norm gains 1 and biases 0 (init)", "Stein steps: Gaussian W2"]
    title = f"pre-norm residual MLP ({res.norm}, eps = {res.eps:g}), E[delta | p] over downstream weights and labels"
    return Derivation("R6", title, tuple(steps), tuple(assumptions), conclusion,
                      extra={"prediction": field.to_dict()})
