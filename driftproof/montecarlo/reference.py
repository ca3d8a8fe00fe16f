"""The numpy-drawn reference estimators at the last hidden layer, arithmetic in numpy (no Numba).

The weights and labels come from :mod:`.draws` (numpy streams keyed by seed, batch, layer and a
chunk of 16 samples), the arithmetic is vectorized numpy: an implementation independent of the
Numba kernels, which the tests compare against it. ``verify`` runs its Monte Carlo rows here
(``rng="numpy"``): a few hundred samples per row cost ~30 ms of arithmetic, less than loading
(let alone compiling) a kernel, and the path is the same on every run and every machine,
whatever the state of Numba's cache.

Each sampler's ``draw(batch, size)`` returns ``(rows, naive_rows)`` like the kernels' samplers:
the estimator's per-sample values (S, N) and, where the same samples give them, the naive ones.
"""

from __future__ import annotations

import numpy as np

from ..config import Config
from .draws import draw_labels, draw_weights

__all__ = ["LastLayer", "Antithetic", "output_parts"]

_SLICE = 64  # samples per vectorized step: bounds the (S, K, N) temporaries to a few MB


def output_parts(config: Config, z: np.ndarray) -> tuple[np.ndarray, float]:
    """The prediction part g(z) of ∂ℓ/∂z (S, K) and the scale c of its label part -c·onehot(y):
    CE: softmax(z) and 1; MSE: s·z and s (s = 1, or 1/K for the mean reduction)."""
    loss = config.loss_fn
    return loss.prediction_part(z), loss.label_scale(config.classes)


def _log_odds(z: np.ndarray) -> np.ndarray:
    """log(π_k / (1 - π_k)) = z_k - log Σ_{j≠k} exp(z_j), each rest shifted by its own maximum (S, K)."""
    classes = z.shape[1]
    rest = np.broadcast_to(z[:, None, :], (len(z), classes, classes)).copy()
    rest[:, np.arange(classes), np.arange(classes)] = -np.inf
    top = rest.max(axis=2, keepdims=True)
    return z - (top[..., 0] + np.log(np.exp(rest - top).sum(axis=2)))


def _sigmoid(t: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-t)) without overflow on either side."""
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class LastLayer:
    """Naive and control-variate estimators: δ_i = σ'(p_i) Σ_k V_ki (g_k(z) - c y_k), V and labels resampled.

    Returns the prediction part (cv: mean of the label part is 0 for a zero-mean V) and the naive sum.
    """

    def __init__(self, config: Config, h: np.ndarray, dphi: np.ndarray, method: str):
        self.config, self.h, self.dphi, self.method = config, h, dphi, method

    def draw(self, batch: int, size: int):
        config = self.config
        V = draw_weights(config, config.seed, batch, config.depth + 1, size)
        labels = draw_labels(config, config.seed, batch, size)
        pred, label = np.empty((size, config.width)), np.empty((size, config.width))
        for lo in range(0, size, _SLICE):
            part = slice(lo, min(lo + _SLICE, size))
            v = V[part]
            g, scale = output_parts(config, v @ self.h)
            pred[part] = self.dphi * np.einsum("skn,sk->sn", v, g)
            label[part] = -scale * self.dphi * v[np.arange(len(v)), labels[part]]
        naive = pred + label
        return (naive, None) if self.method == "naive" else (pred, naive)


class Antithetic(LastLayer):
    """Each V_ki paired with its reflection 2μ - V_ki about the mean μ, for a D symmetric about μ with
    independent entries: δ_i averaged over the pair, for each k.

    The reflection moves only z_k, by Δ = 2(μ - V_ki) h_i, so under CE the moved π_k is
    sigmoid(log-odds_k + Δ), with log-odds from the logits (finite where π_k rounds to 0 or 1); the
    label part averages to -c μ σ'(p_i) exactly, so no labels are drawn. With μ = 0 every sample has the
    sign of σ'(p_i) h_i (R3's monotonicity), which is why every unit resolves in the first batch.
    """

    def draw(self, batch: int, size: int):
        config = self.config
        center = float(config.init_dist.mean_shift)
        V = draw_weights(config, config.seed, batch, config.depth + 1, size)
        out = np.empty((size, config.width))
        for lo in range(0, size, _SLICE):
            v = V[lo:lo + _SLICE]
            z = v @ self.h
            reflected = 2.0 * center - v
            move = (reflected - v) * self.h
            g, scale = output_parts(config, z)
            if config.loss_fn.family == "ce":
                moved = _sigmoid(_log_odds(z)[:, :, None] + move)
            else:
                moved = scale * (z[:, :, None] + move)
            pairs = v * g[:, :, None] + reflected * moved
            out[lo:lo + _SLICE] = self.dphi * (0.5 * pairs.sum(axis=1) - scale * center)
        return out, None
