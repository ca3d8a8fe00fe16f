"""R4 and R5: mean-field predictions for every hidden layer at initialization.

Forward: q_1 = s_1^2 d (inputs x ~ N(0, I_d)), q_{l+1} = s_{l+1}^2 N E[sigma(p^l)^2].
Backward: T^{L+1} = E[tr Hessian of the loss in z]; T^l = N s_{l+1}^2 E[(sigma sigma')'(p^l)] T^{l+1},
with E[(sigma sigma')'(p)] = E[p sigma sigma'(p)] / q by Stein's lemma.
Then E[delta^l_i | p^l_i] ~ s_{l+1}^2 sigma sigma'(p^l_i) T^{l+1} (R4), and the first SGD step
changes the mean bias by -eta E[delta^l] and the mean weight by -eta E[delta^l] E[h^{l-1}] (R5).
"""

from __future__ import annotations

import math

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..activations import x
from ..config import Config
from .curvature import output_curvature
from ..results import Estimate
from .gaussian import gaussian_moment, piecewise_branches

__all__ = ["LayerPrediction", "OutputPrediction", "MeanField", "mean_field", "delta_conditional"]


@dataclass(frozen=True)
class LayerPrediction:
    """Mean-field predictions for hidden layer ``layer`` (1..L). dW/db are per unit learning rate."""

    layer: int
    q: float  # Var p^l
    s2_next: float  # s_{l+1}^2, the variance of the weights reading this layer
    T_next: float  # T^{l+1}
    T_next_stderr: float
    E_sigma: float
    E_sigma2: float
    E_sigma_dsigma: float
    delta_given_positive: float  # E[delta^l_i | p^l_i > 0]
    delta_mean: float  # E[delta^l_i]
    h_mean_prev: float  # E[h^{l-1}_j]; 0 for layer 1 (zero-mean inputs)
    dW_mean: float  # predicted first-step change of mean(W^l), per unit lr (R5)
    db_mean: float  # predicted first-step change of mean(b^l), per unit lr (R5)
    moments_exact: bool
    db_error: float = 0.0  # bound on |db_mean - exact|, from the quadrature's error and T's stderr
    dW_error: float = 0.0

    @property
    def relative_error(self) -> float:
        """Relative standard error inherited from the CE curvature (0 for MSE)."""
        return self.T_next_stderr / self.T_next if self.T_next else 0.0


@dataclass(frozen=True)
class OutputPrediction:
    logit_variance: float
    T: float
    T_stderr: float
    T_method: str
    dV_mean: float  # per unit lr
    dc_mean: float


@dataclass(frozen=True)
class MeanField:
    layers: tuple[LayerPrediction, ...]
    output: OutputPrediction
    applicable: bool
    note: str

    def to_dict(self) -> dict:
        return {"layers": [asdict(layer) for layer in self.layers], "output": asdict(self.output),
                "applicable": self.applicable, "note": self.note}


def _note(config: Config) -> tuple[bool, str]:
    init, act = config.init_dist, config.activation
    if not (init.zero_mean and init.independent):
        return False, (f"init {init.name} is not zero-mean and independent: the mean-field recursion "
                       "does not apply (Monte Carlo decides)")
    linear_pieces = act.is_piecewise and all(_at_most_linear(branch) for branch, _ in piecewise_branches(act.normalized))
    if init.gaussian and linear_pieces:
        return True, "Gaussian init, piecewise-linear activation: exact up to finite-width corrections"
    if init.gaussian:
        return True, "Gaussian init: Stein's lemma per layer; an approximation (σ is not piecewise linear)"
    return True, f"non-Gaussian init {init.name}: mean field by the central limit theorem, an approximation"


def _at_most_linear(branch) -> bool:
    return bool(branch.is_polynomial(x) and sp.Poly(branch, x).degree() <= 1)


@lru_cache(maxsize=128)
def mean_field(config: Config) -> MeanField:
    """R4/R5 for every hidden layer of ``config`` (per unit learning rate)."""
    act, stds = config.activation, config.stds
    N, L, K = config.width, config.depth, config.classes
    applicable, note = _note(config)
    qs, moments = [], []
    q = stds[0] ** 2 * config.d_in
    for layer in range(L):
        m = {name: gaussian_moment(act, name, q) for name in
             ("sigma", "sigma2", "sigma_dsigma", "p_sigma_dsigma", "sigma_dsigma_pos")}
        if act.is_odd:  # sigma and sigma sigma' are odd: their Gaussian means vanish exactly
            m["sigma"] = m["sigma_dsigma"] = Estimate.exact(0.0, "exact: zero by symmetry (odd activation)")
        qs.append(q)
        moments.append(m)
        q = stds[layer + 1] ** 2 * N * m["sigma2"].mean
    logit_variance = q  # s_V^2 N E[sigma(p^L)^2]
    T = output_curvature(config.loss_fn, K, logit_variance, config.seed)
    T_value, T_rel = T.mean, (T.stderr / T.mean if T.mean else 0.0)
    scale = config.loss_fn.output_scale(K)
    if config.loss_fn.linear_gradient:  # E[(z_k - y_k) h_j] = -E[h]/K; E[z_k - y_k] = -1/K
        output = OutputPrediction(logit_variance, T_value, T.stderr, T.method,
                                  scale * moments[-1]["sigma"].mean / K, scale / K)
    else:  # sum_k (pi_k - y_k) = 0: the output layer's mean weight and bias do not move
        output = OutputPrediction(logit_variance, T_value, T.stderr, T.method, 0.0, 0.0)
    layers: list[LayerPrediction] = []
    T_next = T_value
    for index in reversed(range(L)):
        m, q_l, s2 = moments[index], qs[index], stds[index + 1] ** 2
        delta_mean = s2 * T_next * m["sigma_dsigma"].mean
        delta_pos = s2 * T_next * m["sigma_dsigma_pos"].mean / 0.5
        h_prev = 0.0 if index == 0 else moments[index - 1]["sigma"].mean
        h_prev_error = 0.0 if index == 0 else _error(moments[index - 1]["sigma"])
        delta_error = s2 * abs(T_next) * _error(m["sigma_dsigma"]) + abs(delta_mean) * abs(T_rel)
        layers.append(LayerPrediction(
            layer=index + 1, q=q_l, s2_next=s2, T_next=T_next, T_next_stderr=T_rel * T_next,
            E_sigma=m["sigma"].mean, E_sigma2=m["sigma2"].mean, E_sigma_dsigma=m["sigma_dsigma"].mean,
            delta_given_positive=delta_pos, delta_mean=delta_mean, h_mean_prev=h_prev,
            dW_mean=-delta_mean * h_prev + 0.0, db_mean=-delta_mean + 0.0,
            moments_exact=all(mo.is_exact for mo in m.values()), db_error=delta_error,
            dW_error=delta_error * abs(h_prev) + abs(delta_mean) * h_prev_error))
        # q_l = 0 only where the variance underflowed (x*1e-300 two layers deep): no number, not a crash.
        T_next = N * s2 * (m["p_sigma_dsigma"].mean / q_l) * T_next if q_l > 0 else math.nan
    return MeanField(tuple(reversed(layers)), output, applicable, note)


def _error(estimate: Estimate) -> float:
    """The half-width of an estimate's interval (0 for an exact value; the quadrature's error bound)."""
    if estimate.is_exact:
        return 0.0
    return max(abs(estimate.ci_high - estimate.mean), abs(estimate.mean - estimate.ci_low))


def delta_conditional(config: Config, layer: int, p: np.ndarray, field: MeanField | None = None) -> np.ndarray:
    """R4: predicted E[delta^l_i | p^l_i] = s_{l+1}^2 sigma sigma'(p_i) T^{l+1}, unit by unit."""
    field = field or mean_field(config)
    prediction = field.layers[layer - 1]
    return prediction.s2_next * prediction.T_next * config.activation.numpy_sigma_dsigma(np.asarray(p, float))

