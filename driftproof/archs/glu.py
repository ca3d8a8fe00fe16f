"""The gated MLP (GLU) of LLaMA-style models and of the paper's repository: ``h = σ(W₁x) ⊙ (W₃x)``, then a
down-projection. ``--act relu`` is ReLU-GLU, ``--act silu`` SwiGLU, ``--act gelu`` GeGLU.

Network (depth L, width N), for l = 1..L::

    g^l = W^l h^{l-1} + b^l     the gate's pre-activation (the ``p`` of the other networks)
    u^l = Wu^l h^{l-1}          the up projection (no bias, as in LLaMA)
    h^l = σ(g^l) ⊙ u^l
    z   = V h^L + c             V: the last layer's down-projection, to the K outputs

(between gated layers the next layer's W and Wu read h directly). ``δ^l = ∂ℓ_n/∂g^l`` is the gate's
gradient, whose sign the claim is about: E[δ_gate | g, u] ≥ 0 for g > 0.

G1 (derived by :func:`derive_gate`, as R1/R2 are in :mod:`driftproof.theory.lastlayer`): at init, in the
last hidden layer, with V's entries independent of the labels, of mean μ, variance s_V² and covariance ρ
within a row, and c = 0,

    E[δ_gate,i | g, u, S_{-i}] = σ'(g_i) u_i (A σ(g_i) u_i + B S_{-i} + C0),   S_{-i} = Σ_{j≠i} h_j,

exactly for MSE (linearity: second moments only); for CE by Stein's lemma (Gaussian V, μ = 0, ρ = 0),
with K replaced by the curvature E[Σ_k π_k(1 - π_k)]. With μ = ρ = 0 it is K s_V² σ(g)σ'(g) u² (MSE):
on g > 0 its sign is that of σσ' (R3's sign map).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import sympy as sp

from . import Arch, Renderer
from .mlp import MLP_DATASETS, layer_columns, layer_metrics

__all__ = ["ARCH", "GLU", "GateTheory", "derive_gate", "gate_theory", "predict", "gate_deltas", "last_layer_deltas", "last_layer_delta", "montecarlo_row",
           "symbolic_row", "MC_DRAWS", "MC_INPUTS"]

MC_DRAWS = 2000  # verify's Monte Carlo row: draws of the downstream weights and labels per inner layer
LAST_DRAWS = 20000  # and for the last layer (vectorized: V alone is downstream)
MC_INPUTS = 4  # inputs x ~ N(0, I) whose units are tested (their upstream weights fixed by the seed)
CONFIDENCE, ALPHA = 0.95, 1e-3


class GLU:
    """The gated network above: parameters, forward, and the hand-written backward (``Backward`` as the MLP's)."""

    arch = "glu"

    def __init__(self, config, activation=None, *, rng: np.random.Generator, dtype: str = "float64",
                 kernel: str = "numpy"):
        from ..network import dtype_of
        from ..pointwise import Pointwise

        self.config, self.depth, self.dtype = config, config.depth, dtype_of(dtype)
        self.activation = activation if activation is not None else config.activation
        self.sigma = Pointwise(self.activation, kernel)
        self.params: dict[str, np.ndarray] = {}
        sizes = [config.d_in] + [config.width] * config.depth
        for layer in range(1, config.depth + 1):
            self.params[f"W{layer}"] = self._weight(rng, sizes[layer - 1], sizes[layer])
            self.params[f"Wu{layer}"] = self._weight(rng, sizes[layer - 1], sizes[layer])
            self.params[f"b{layer}"] = np.zeros(sizes[layer], dtype=self.dtype)
        self.params["V"] = self._weight(rng, config.width, config.classes)
        self.params["c"] = np.zeros(config.classes, dtype=self.dtype)
        self.cache: dict = {}

    def _weight(self, rng, fan_in: int, fan_out: int) -> np.ndarray:
        std = self.config.scale_rule.std(fan_in, fan_out)
        return self.config.init_dist.sample(rng, (fan_out, fan_in), std).astype(self.dtype)

    def redraw_after(self, layer: int, rng: np.random.Generator) -> None:
        """Draw the weights downstream of hidden layer ``layer`` afresh (W, Wu of the layers after it, and V)."""
        sizes = [self.config.d_in] + [self.config.width] * self.depth
        for later in range(layer + 1, self.depth + 1):
            self.params[f"W{later}"] = self._weight(rng, sizes[later - 1], sizes[later])
            self.params[f"Wu{later}"] = self._weight(rng, sizes[later - 1], sizes[later])
        self.params["V"] = self._weight(rng, self.config.width, self.config.classes)

    def layer_params(self, layer: int) -> tuple[str, str]:
        """The gate's weight and bias (whose pre-activation is g^layer)."""
        return f"W{layer}", f"b{layer}"

    @property
    def n_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    def forward(self, x: np.ndarray) -> np.ndarray:
        P = self.params
        h = np.asarray(x, dtype=self.dtype)
        ins, gs, us, ss, ds, hs = [], [], [], [], [], []
        for layer in range(1, self.depth + 1):
            g = h @ P[f"W{layer}"].T + P[f"b{layer}"]
            u = h @ P[f"Wu{layer}"].T
            s, d = self.sigma(g)
            ins.append(h)
            h = s * u
            gs.append(g), us.append(u), ss.append(s), ds.append(d), hs.append(h)
        self.cache = {"in": ins, "p": gs, "u": us, "s": ss, "d": ds, "h": hs}
        return h @ P["V"].T + P["c"]

    def backward(self, dz: np.ndarray):
        """``dz``: dl_n/dz per sample (n, K). Gradients of the batch-mean loss; per layer δ = dl_n/dg per sample."""
        from ..network import Backward

        P, C = self.params, self.cache
        n = dz.shape[0]
        g = dz / n
        grads = {"V": g.T @ C["h"][-1], "c": g.sum(axis=0)}
        deltas = [None] * self.depth
        dh = g @ P["V"]
        for layer in range(self.depth, 0, -1):
            i = layer - 1
            delta = dh * C["u"][i] * C["d"][i]  # through σ(g): ∂h/∂g = σ'(g) u
            dup = dh * C["s"][i]  # through the up projection: ∂h/∂u = σ(g)
            deltas[i] = delta
            grads[f"W{layer}"], grads[f"b{layer}"] = delta.T @ C["in"][i], delta.sum(axis=0)
            grads[f"Wu{layer}"] = dup.T @ C["in"][i]
            if layer > 1:
                dh = delta @ P[f"W{layer}"] + dup @ P[f"Wu{layer}"]
        return Backward({k: grads[k] for k in P}, [d * n for d in deltas])

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray, loss):
        z = self.forward(x)
        values = loss.value(z.astype(np.float64), y)
        return values, z, self.backward(loss.grad(z.astype(np.float64), y).astype(self.dtype))


# -- G1: E[δ_gate | g, u] at init, derived with SymPy

g_i, u_i, S, K = sp.symbols("g_i u_i S_{-i} K", real=True)
s, mu, rho, C = sp.symbols("s_V mu rho C", real=True)
V_ki, V_kj, y_k, R_k, z_k = sp.symbols("V_ki V_kj y_k R_k z_k", real=True)
delta = sp.Symbol("delta_gate", real=True)
sigma, E = sp.Function("sigma"), sp.Function("E")


@dataclass(frozen=True)
class GateTheory:
    """E[δ_gate,i | g, u, S_{-i}] = σ'(g_i) u_i (A σ(g_i) u_i + B S_{-i} + C0) for this configuration (G1), or
    ``applies`` False with ``why`` (an assumption fails; sampling decides)."""

    A: float
    B: float
    C0: float
    applies: bool
    why: str
    curvature: float | None  # CE: E[Σ π(1 - π)] at the typical logit variance (None for MSE: exact)
    curvature_stderr: float | None
    logit_variance: float | None


def _softmax_slope() -> sp.Expr:
    """∂π_1/∂z_1 of a 3-way softmax, simplified: π_1 (1 - π_1)."""
    zs = sp.symbols("z_1:4", real=True)
    pi1 = sp.exp(zs[0]) / sum(sp.exp(v) for v in zs)
    slope = sp.simplify(sp.diff(pi1, zs[0]) - pi1 * (1 - pi1))
    assert slope == 0, slope  # the identity the Stein step rests on
    return sp.Symbol("pi_k") * (1 - sp.Symbol("pi_k"))


def _typical_logit_variance(config) -> float:
    """s_V² N E[σ(g)²] E[u²] at the last layer: q_1 = s_1² d, q_{l+1} = s_{l+1}² N E[σ²](q_l) q_l (g and u
    share the variance q_l: independent rows of equal scale)."""
    from ..theory.gaussian import gaussian_moment

    stds = config.stds
    q = stds[0] ** 2 * config.d_in
    for layer in range(1, config.depth):
        q = stds[layer] ** 2 * config.width * gaussian_moment(config.activation, "sigma2", q).mean * q
    return stds[-1] ** 2 * config.width * gaussian_moment(config.activation, "sigma2", q).mean * q


@lru_cache(maxsize=32)
def derive_gate(config):
    """G1 as numbered SymPy steps; returns (Derivation, GateTheory)."""
    from ..theory.derivation import Derivation, Step

    init, loss = config.init_dist, config.loss_fn
    s_V = config.stds[-1]
    var, cov = init.covariance(s_V, config.width)
    values = {s: math.sqrt(var), mu: init.mean_shift, rho: cov, K: config.classes}
    h_i = sigma(g_i) * u_i
    steps = [
        Step("gated unit", sp.Eq(sp.Symbol("h_i"), h_i), "h = σ(g) ⊙ u, then z = V h + c (c = 0 at init)"),
        Step("chain rule (∂h_i/∂g_i = σ'(g_i) u_i)", sp.Eq(delta, sp.diff(h_i, g_i) * sp.Sum(
            V_ki * sp.Symbol("dl/dz_k"), (sp.Symbol("k"), 1, K)))),
        Step("logits", sp.Eq(z_k, V_ki * h_i + R_k), "R_k = Σ_{j≠i} V_kj h_j does not involve V_ki"),
        Step("moments of a row of V", sp.Tuple(sp.Eq(E(V_ki), mu), sp.Eq(E(V_ki**2), s**2 + mu**2),
                                                sp.Eq(E(V_ki * V_kj), rho + mu**2), sp.Eq(E(y_k), 1 / K)),
             f"init {init.name}: μ = {values[mu]:g}, s_V² = {var:.6g}, ρ = {cov:.6g}; labels independent of V"),
    ]
    curvature = stderr = variance = None
    if loss.family == "mse":
        expr, zs, ys = loss.symbolic(3)
        scale = sp.simplify(sp.diff(expr, zs[0]) / (zs[0] - ys[0]))  # the K = 3 instance: 1, or 1/3 for mse_mean
        scale_k = 1 / K if loss.mean_reduction else sp.Integer(1)
        assert sp.simplify(scale - scale_k.subs(K, 3)) == 0, scale  # the generic form agrees with the instance
        per_k = sp.expand(V_ki * (V_ki * h_i + V_kj * S - y_k))
        expectation = per_k.subs(V_ki**2, s**2 + mu**2).subs(V_ki * V_kj, rho + mu**2).subs(V_ki * y_k, mu / K)
        total = sp.expand(sp.diff(h_i, g_i) * scale_k * K * expectation)
        steps += [
            Step("loss gradient (SymPy, K = 3 instance)", sp.Eq(sp.Symbol("dl/dz_k"), scale * (z_k - y_k)),
                 "differentiated from the loss's symbolic form"),
            Step("one output k, S_{-i} = Σ_{j≠i} h_j, moments substituted", sp.Eq(E(V_ki * (z_k - y_k)), expectation),
                 "exact: linearity of expectation, first and second moments of V only"),
            Step("sum over the K outputs", sp.Eq(E(delta), total)),
        ]
        general = total
        applies, why = True, "exact for any init with these moments (MSE)"
    else:
        slope = _softmax_slope()
        stein = sp.Eq(E(V_ki * sp.Function("f")(V_ki)), s**2 * E(sp.Derivative(sp.Function("f")(V_ki), V_ki)))
        per_k = s**2 * sp.diff(V_ki * h_i + R_k, V_ki) * E(slope)
        general = sp.expand(sp.diff(h_i, g_i) * C * s**2 * h_i)
        steps += [
            Step("softmax slope (SymPy, K = 3)", sp.Eq(sp.Symbol("dpi_k/dz_k"), slope), "∂π_k/∂z_j = 0 is not needed"),
            Step("Stein's lemma, V_ki ~ N(0, s_V²) independent of the rest", stein),
            Step("one output k (E[V_ki y_k] = 0)", sp.Eq(E(V_ki * (sp.Symbol("pi_k") - y_k)), per_k)),
            Step("sum over k, C = E[Σ_k π_k(1 - π_k)]", sp.Eq(E(delta), general)),
        ]
        applies = init.gaussian and init.zero_mean and init.independent
        why = ("Stein's lemma: V Gaussian with independent zero-mean entries" if applies else
               f"Stein's lemma needs V Gaussian with independent zero-mean entries; init {init.name} is not")
        if applies:
            from ..theory.curvature import output_curvature

            variance = _typical_logit_variance(config)
            estimate = output_curvature(loss, config.classes, variance, config.seed)
            curvature, stderr = estimate.mean, estimate.stderr
            steps.append(Step("C at the typical logit variance s_V² N E[σ(g)²] E[u²]", sp.Symbol("C"),
                              f"mean-field variance {variance:.6g}; {estimate.method}", exact=False,
                              value=curvature, error=stderr))
            values[C] = curvature
    factor = sp.diff(h_i, g_i)  # σ'(g_i) u_i
    inner = sp.expand(sp.simplify(general / factor))
    A = inner.coeff(sigma(g_i) * u_i) if inner.has(sigma(g_i)) else sp.Integer(0)
    B, C0 = inner.coeff(S), inner.subs({sigma(g_i): 0, S: 0})
    numbers = [float(term.subs(values)) if applies else math.nan for term in (A, B, C0)]
    steps.append(Step("with this config's moments", sp.Eq(E(delta), sp.expand(general.subs(values)))
                      if applies else None, why, exact=loss.family == "mse"))
    theory = GateTheory(*numbers, applies, why, curvature, stderr, variance)
    zero_mean = applies and numbers[1] == 0 and numbers[2] == 0
    conclusion = ("E[δ_gate | g, u] = A σ(g)σ'(g) u² with A > 0: on g > 0 it has the sign of σσ' (R3)"
                  if zero_mean and numbers[0] > 0 else
                  "the S_{-i} and μ terms make the sign depend on the other units: sampling decides" if applies
                  else "outside the assumptions: sampling decides")
    assumptions = ("at init, last hidden layer, c = 0", "V's entries independent of the labels, with mean μ, "
                   "variance s_V², covariance ρ within a row", "CE: V Gaussian, μ = ρ = 0 (Stein's lemma)")
    return Derivation("G1", "gated unit, last hidden layer: E[δ_gate | g, u]", tuple(steps), assumptions,
                      conclusion), theory


def gate_theory(config) -> GateTheory:
    return derive_gate(config)[1]


def predict(theory: GateTheory, g: np.ndarray, u: np.ndarray, h: np.ndarray, activation, *,
            curvature: float | None = None) -> np.ndarray:
    """G1's E[δ_gate | g, u, S_{-i}] per unit (rows of ``g``, ``u``, ``h``: one input each). ``curvature``: CE's C
    at this input's logit variance s_V² ||h||² (the conditional value), in place of the typical one."""
    from ..pointwise import Pointwise

    sig, dsig = Pointwise(activation, "numpy")(np.asarray(g, float))
    A = theory.A if curvature is None or theory.curvature is None else theory.A * curvature / theory.curvature
    others = h.sum(axis=-1, keepdims=True) - h
    return dsig * u * (A * sig * u + theory.B * others + theory.C0)


# -- Monte Carlo: resample everything downstream of a layer, average δ at the gate

def gate_deltas(config, layer: int, draws: int, *, seed: int, inputs: int = MC_INPUTS):
    """δ^layer at the gate over ``draws`` fresh draws of the downstream weights and of uniform labels, the
    upstream network (generator [seed, 11]) and the inputs x ~ N(0, I) ([seed, 12]) fixed.

    Returns (deltas (draws, inputs, N), g, u, h of that layer (inputs, N))."""
    net = GLU(config, rng=np.random.default_rng([seed, 11]))
    x = np.random.default_rng([seed, 12]).standard_normal((inputs, config.d_in))
    rng = np.random.default_rng([seed, 13])
    out = np.empty((draws, inputs, config.width))
    for m in range(draws):
        net.redraw_after(layer, rng)
        z = net.forward(x)
        y = rng.integers(0, config.classes, inputs)
        out[m] = net.backward(config.loss_fn.grad(z, y)).deltas[layer - 1]
    cache = net.cache
    return out, cache["p"][layer - 1], cache["u"][layer - 1], cache["h"][layer - 1]


def last_layer_delta(dz: np.ndarray, V: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """δ^L = σ'(g)u ⊙ (∂ℓ/∂z V), batched over draws: dz (m, inputs, K), V (m, K, N), gate = σ'(g)u (inputs, N)."""
    return np.einsum("mbk,mkn->mbn", dz, V) * gate


def last_layer_deltas(config, draws: int, *, seed: int, inputs: int = MC_INPUTS, chunk: int = 1024):
    """:func:`gate_deltas` for the last hidden layer, vectorized over the draws (the downstream weights are V
    alone): the same network and inputs; V and the labels from the generator [seed, 14], ``chunk`` draws at a time.

    Returns (deltas (draws, inputs, N), g, u, h (inputs, N))."""
    net = GLU(config, rng=np.random.default_rng([seed, 11]))
    net.forward(np.random.default_rng([seed, 12]).standard_normal((inputs, config.d_in)))
    g, u, h, d = (net.cache[name][-1] for name in ("p", "u", "h", "d"))
    K, N, s_V = config.classes, config.width, config.stds[-1]
    rng = np.random.default_rng([seed, 14])
    out = np.empty((draws, inputs, N))
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        V = config.init_dist.sample(rng, (m * K, N), s_V).reshape(m, K, N)
        y = rng.integers(0, K, m * inputs)
        z = np.einsum("mkn,bn->mbk", V, h).reshape(m * inputs, K)
        out[start:start + m] = last_layer_delta(config.loss_fn.grad(z, y).reshape(m, inputs, K), V, d * u)
    return out, g, u, h


def montecarlo_row(config, progress: bool = False, draws: int = MC_DRAWS, last_draws: int = LAST_DRAWS):
    """Per hidden layer, the sign statistic E[δ_gate | g > 0] (mean over the positive gates of ``MC_INPUTS``
    inputs) over ``draws`` downstream draws (``last_draws`` at the last layer), 95% Student t; a sign test over
    the layers (Holm, ``ALPHA``) decides.
    The last layer's units are compared with G1 where it applies (|MC - G1| / stderr per unit)."""
    from ..montecarlo.signtest import SignTest, signs
    from ..results import Estimate, Evidence, RowKey

    start = time.perf_counter()
    estimates, compare = [], None
    for layer in range(1, config.depth + 1):
        last = layer == config.depth
        deltas, g, u, h = (last_layer_deltas(config, last_draws, seed=config.seed) if last else
                           gate_deltas(config, layer, draws, seed=config.seed))
        positive = g > 0
        values = deltas[:, positive].mean(axis=1) if positive.any() else np.full(len(deltas), np.nan)
        estimates.append(replace(Estimate.student_t(values, CONFIDENCE, f"student_t over {len(deltas)} draws"),
                                 values=None, seed=config.seed))
        theory = gate_theory(config)
        if layer == config.depth and theory.applies:
            curvature = _conditional_curvature(config, h)
            predicted = predict(theory, g, u, h, config.activation, curvature=curvature)
            stderr = deltas.std(axis=0, ddof=1) / math.sqrt(len(deltas))
            gap = np.abs(deltas.mean(axis=0) - predicted)
            # a unit whose every draw is exactly 0 (a closed ReLU gate) agrees only if predicted exactly 0
            z = np.where(stderr > 0, gap / np.where(stderr > 0, stderr, 1.0), np.where(gap == 0, 0.0, np.inf))
            compare = {"units": int(z.size), "max_z": float(z.max()), "within_4se": int((z <= 4).sum())}
    means = np.array([e.mean for e in estimates])
    stderrs = np.array([e.stderr for e in estimates])
    test = SignTest.from_signs(signs(means, stderrs, ALPHA), np.arange(1, config.depth + 1), ALPHA, looks=1,
                               samples=min(draws, last_draws), budget=min(draws, last_draws))
    numbers = {"draws": draws, "last_draws": last_draws, "inputs": MC_INPUTS, "seed": config.seed, "width": config.width,
               "depth": config.depth, "confidence": CONFIDENCE,
               "layers": [{"layer": i + 1, "estimate": e.to_dict()} for i, e in enumerate(estimates)],
               "sign_test": test.to_dict(), "vs_G1": compare, "seconds": time.perf_counter() - start}
    return Evidence("montecarlo", RowKey("MC", init=config.init_dist.name, arch="glu"), test.verdict, numbers)


def _conditional_curvature(config, h: np.ndarray):
    """CE: C at each input's own logit variance s_V² ||h||² (given h, z ~ N(0, s_V² ||h||² I)); None for MSE."""
    if config.loss_fn.family == "mse":
        return None
    from ..theory.curvature import output_curvature

    s_V = config.stds[-1]
    return np.array([[output_curvature(config.loss_fn, config.classes, s_V**2 * float(row @ row), config.seed).mean]
                     for row in h])


def symbolic_row(config):
    """G1 at this config: the derived form, and its sign on g > 0 from R3's sign map where it applies."""
    from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, RowKey
    from ..theory.signmap import sign_map

    derivation, theory = derive_gate(config)
    decides = theory.applies and theory.B == 0 and theory.C0 == 0 and theory.A > 0
    verdict = INCONCLUSIVE
    if decides:
        smap = sign_map(config.activation)
        verdict = VIOLATED if smap.negative_on_positive else HOLDS if smap.proved else INCONCLUSIVE
    numbers = {"applies": theory.applies, "why": theory.why, "A": theory.A, "B": theory.B, "C0": theory.C0,
               "curvature": theory.curvature, "curvature_stderr": theory.curvature_stderr,
               "conclusion": derivation.conclusion}
    return Evidence("symbolic", RowKey("G1", layer=config.depth, init=config.init_dist.name, arch="glu"), verdict,
                    numbers)


# -- the registry entry

def _sources() -> tuple:
    from ..evidence import Source
    from ..evidence.training import verify_rows as training_rows

    return (Source("symbolic", "theory (G1)", lambda config, progress: [symbolic_row(config)]),
            Source("montecarlo", "Monte Carlo (GLU)", lambda config, progress: [montecarlo_row(config, progress)]),
            Source("training", "training", lambda config, progress: training_rows(config, progress=progress,
                                                                                    arch="glu")))


def _derivations(config) -> tuple:
    from ..theory.derive import derive_sign_map

    return derive_sign_map(config)[0], derive_gate(config)[0]


def _row_name(row) -> str:
    if row.key.result == "G1":
        return f"G1 gated unit E[δ_gate|g,u], layer {row.key.layer}"
    return "GLU E[δ_gate|g>0] by layer"


def _row_summary(row) -> str:
    from ..render.estimates import interval_text

    n = row.numbers
    if row.key.result == "G1":
        if not n["applies"]:
            return f"G1 does not apply: {n['why']}; sampling decides"
        return (f"E[δ_gate|g,u,S] = σ'(g)u (A σ(g)u + B S + C0), A = {n['A']:.4g}, B = {n['B']:.3g}, "
                f"C0 = {n['C0']:.3g} ({n['why']}): {n['conclusion']}")
    test = n["sign_test"]
    text = (f"draws of the downstream weights and labels: {n['last_draws']} at the last layer, {n['draws']} at the "
            f"others; {n['inputs']} inputs, {n['confidence']:.0%} t: "
            + "; ".join(f"layer {entry['layer']} {interval_text(entry['estimate'], '{:+.3g}')}"
                        for entry in n["layers"])
            + f". Sign test: {test['positive']}/{test['tested']} layers positive, {test['negative']} negative "
              f"(alpha={test['alpha']:g}, Holm)")
    if n["vs_G1"]:
        text += f"; vs G1, last layer: {n['vs_G1']['within_4se']}/{n['vs_G1']['units']} units within 4 stderr"
    return text


def _figure(verification):
    """The sign statistic per layer with its 95% interval, as the Monte Carlo row measured it."""
    from ..render.plots import new_figure

    figure, axes = new_figure(5.0, 3.4)
    ax = axes[0][0]
    for row in verification.rows(result="MC"):
        layers = [entry["layer"] for entry in row.numbers["layers"]]
        estimates = [entry["estimate"] for entry in row.numbers["layers"]]
        ax.errorbar(layers, [e["mean"] for e in estimates],
                    yerr=[[e["mean"] - e["ci_low"] for e in estimates], [e["ci_high"] - e["mean"] for e in estimates]],
                    fmt="o")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("E[δ_gate | g > 0]")
    figure.suptitle(repr(verification), fontsize=8)
    return figure


def _renderer() -> Renderer:
    return Renderer(_row_name, _row_summary, lambda rows: "", _figure)


@dataclass(frozen=True)
class _GLUArch(Arch):
    def verify_budget(self, config):
        """The Monte Carlo row (a forward and backward per draw and layer) and the theory's curvature."""
        from ..budget import Budget

        d, n, k = config.d_in, config.width, config.classes
        params = 2 * (d * n + n * n * (config.depth - 1)) + n * k
        per_draw = 2e-3 + 6 * params * MC_INPUTS / 1e9  # a forward and a backward, Python's overhead included
        seconds = MC_DRAWS * (config.depth - 1) * per_draw + LAST_DRAWS * 4 * MC_INPUTS * k * n / 1e9 + 1.0
        return Budget(int(8 * (2 * params + MC_INPUTS * n * 8 * config.depth)), seconds,
                      f"verify --arch glu, width {n}, depth {config.depth}, {MC_DRAWS} draws a layer")


def _network(config, activation=None, **options):
    return GLU(config, activation, **options)


_columns = layer_columns()
ARCH = _GLUArch(
    name="glu", title="GLU", family="glu", network=_network, datasets=MLP_DATASETS, sources=_sources,
    help="gated MLP, h = σ(W₁x) ⊙ (W₃x) then the down-projection (relu: ReLU-GLU, silu: SwiGLU; G1)",
    metrics=layer_metrics(_columns), columns=_columns, derivations=_derivations,
    derives="R3 and G1, E[δ_gate | g, u] of a gated unit", statement="E[δ_gate|g,u] ≥ 0 for g > 0",
    renderer=_renderer, extra_params=lambda d_in, width, depth: d_in * width + width * width * (depth - 1),
    floats_per_unit=6, family_title="GLU MLP", family_name="gated MLP (GLU)")
