"""A first-order prediction of when the label part of delta overtakes the self part (DESIGN.md §2 item D).

Last hidden layer L of an MLP, ``z = V h + c``, loss gradient ``g(z) - s y`` (CE: g = softmax, s = 1;
MSE: g = s z, s = 1 or 1/K). The label part of ``delta_i`` for a sample (h, y) is
``-s sigma'(p_i) (V^T y)_i``. Under SGD with learning rate eta, to first order in eta and with the
hidden features frozen at their initial values (the readout moves, nothing else),

    V(t) = V0 - eta t (E_tr[g h^T] - s M),     M = E_tr[y h^T]   (means over the training set).

Taking the expectation over V0 (i.i.d. rows, zero mean): ``E[g_k | h] = 1/K`` exactly for CE
(the logits are exchangeable) and ``E[z] = 0`` for MSE, so

    CE:  E[label_i](t) = -eta t sigma'(p_i) ((M^T y)_i - mu_i / K),   mu = E_tr[h]
    MSE: E[label_i](t) = -eta t s^2 sigma'(p_i) (M^T y)_i.

Averaged over the entries with p_i > 0 of a batch, this is ``-eta t A``: the *label rate* A.
Two sources feed it. If the class-conditional means of h differ (learnable data), the term is
``(1/K) E[sigma'(p_i) (m_{y,i} - mu_i)]``, of order 1/K. On data whose labels are independent of
the inputs it is only the sample's own share of M, ``(h_i - mu_i) / n_train``: memorization,
1/n_train (and zero on held-out samples). MSE adds ``s^2 mu_i / K`` (the readout fits the mean
target 1/K through h >= 0), which does not vanish even on pure noise.

The self part is the theorem's R1/R2 value ``S0`` at t = 0; to first order its expectation does
not move (``E[D^T g0] = 0``), so the predicted crossover is ``t* = S0 / (eta A)``. What this
neglects, and the data show: the readout's fast mode along the mean of h (it shrinks the self part
early), the hidden layers' own learning (it speeds memorization), and g(z) aligning with y late
in training (then the self part carries label information too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..config import Config
from ..data import Dataset
from ..losses import one_hot
from ..nets import MLP

__all__ = ["CrossoverPrediction", "label_rate", "predict_crossover"]


@dataclass(frozen=True)
class CrossoverPrediction:
    """The first-order label rate A (per step per unit lr), the self part S0 at t = 0, and t* = S0 / (lr A).

    ``rate`` and ``self_t0`` are means over ``networks`` draws with their standard errors.
    """

    rate: float
    rate_se: float
    self_t0: float
    self_t0_se: float
    lr: float
    networks: int
    batch: int

    @property
    def step(self) -> float:
        """The predicted crossover step (inf if the label part does not grow)."""
        return self.self_t0 / (self.lr * self.rate) if self.rate > 0 else math.inf

    def to_dict(self) -> dict:
        step = self.step
        return {"rate": self.rate, "rate_se": self.rate_se, "self_t0": self.self_t0, "self_t0_se": self.self_t0_se,
                "lr": self.lr, "networks": self.networks, "batch": self.batch,
                "step": step if math.isfinite(step) else None}


def _targets(y: np.ndarray, classes: int) -> np.ndarray:
    return np.asarray(y, float) if np.ndim(y) == 2 else one_hot(np.asarray(y), classes)


def label_rate(net: MLP, loss, data: Dataset, batch: int) -> tuple[float, float]:
    """(A, S0) of one network at init: the label rate of the last hidden layer and its self part.

    The batch is the first ``batch`` training samples (a training batch: memorization counts).
    S0 is the self part's expectation over V0 given the hidden layer, R1/R2's
    ``tr(Hessian) s_V^2 sigma sigma'`` replaced by the exact ``E_V0[sigma'(p_i) (V0^T g)_i]`` estimated
    by this network's own readout (so it is this draw's value, averaged over draws by the caller).
    """
    classes = net.config.classes
    scale = loss.label_scale(classes)
    net.forward(data.x_train)
    h_train = net.cache["h"][-1].astype(float)
    y_train = _targets(data.y_train, classes)
    M = y_train.T @ h_train / len(h_train)  # (K, N)
    mu = h_train.mean(axis=0)
    z = net.forward(data.x_train[:batch]).astype(float)
    p, d = net.cache["p"][-1], net.cache["d"][-1]
    y = y_train[:batch]
    if loss.family == "ce":
        drive = y @ M - mu / classes
    else:
        drive = scale * scale * (y @ M)
    mask = p > 0
    count = mask.sum()
    rate = float(np.sum(np.where(mask, d * drive, 0.0)) / count)
    from ..training.split import output_gradient_split  # the same g(z) the logged split uses

    g, _ = output_gradient_split(loss, z, data.y_train[:batch])
    self_part = d * (g @ net.params["V"])
    return rate, float(np.sum(np.where(mask, self_part, 0.0)) / count)


def predict_crossover(config: Config, data: Dataset, *, lr: float, seeds: list[int], batch: int = 256,
                      dtype: str = "float64") -> CrossoverPrediction:
    """t* = S0 / (lr A) for the last hidden layer of an MLP, A and S0 averaged over one network per seed.

    The networks are drawn as the training runs draw them (generator ``[seed, 2]``).
    """
    if not seeds:
        raise ValueError("seeds must name at least one network, got none")
    cfg = replace(config, input_dim=data.input_dim, classes=data.classes)
    rates, selfs = [], []
    for seed in seeds:
        net = MLP(cfg, rng=np.random.default_rng([seed, 2]), dtype=dtype)
        rate, self_t0 = label_rate(net, cfg.loss_fn, data, batch)
        rates.append(rate)
        selfs.append(self_t0)

    def mean_se(values):
        values = np.asarray(values)
        se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
        return float(values.mean()), se

    (rate, rate_se), (self_t0, self_se) = mean_se(rates), mean_se(selfs)
    return CrossoverPrediction(rate, rate_se, self_t0, self_se, float(lr), len(seeds), int(batch))
