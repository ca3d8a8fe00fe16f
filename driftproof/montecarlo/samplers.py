"""One sampler per estimator: ``draw(batch, size)`` returns per-sample rows of δ for each unit.

The wrapper side of the kernels: it draws the random numbers (:mod:`.draws`), allocates the
outputs and calls the kernels. Each sampler returns ``(rows, naive_rows)``: the estimator's
per-sample values (S, N) and, where the same samples give it for free, the naive values.
The numpy-drawn last-layer estimators (naive, cv, antithetic) compute in numpy: :mod:`.reference`.
"""

from __future__ import annotations

import numpy as np

from ..compiled import activation_kernels
from ..config import Config
from . import kernels
from .draws import BATCH, draw_inputs, draw_labels, draw_weights, stream
from .methods import (_BUDGET_NUMBERS, METHODS, RNGS, SYMMETRIC_INITS, check_method, largest_batch,  # noqa: F401
                      numbers_per_sample)
from .normals import CHUNK
from .projected import last_layer_projected
from .streams import init_code

__all__ = ["METHODS", "SYMMETRIC_INITS", "RNGS", "check_method", "largest_batch", "numbers_per_sample", "Reduced",
           "Network",
           "CounterLastLayer", "CounterReduced", "CounterNetwork", "CounterInner", "ProjectedLastLayer",
           "ProjectedNetwork", "ProjectedInner", "loss_code", "keeps_weights", "chunks"]

KEEP_BYTES = 64 << 20  # one sample's hidden weights are kept per thread below this, else generated twice


def loss_code(config: Config) -> tuple[int, float]:
    """(kernel loss code, gradient scale) of the configured loss: CE, or MSE with its 1/K for the mean."""
    loss = config.loss_fn
    if loss.family == "ce":
        return kernels.CE, 1.0
    return kernels.MSE, loss.output_scale(config.classes)


class Reduced:
    """R2's reduction for CE under a Gaussian init: sample the K logits, not the K·N weights.

    Stein's lemma row by row: E[δ_i | p] = σ'(p_i) (C h)_i E[Σ_k π_k(1-π_k)], with C the
    covariance of a row of V; the logits are independent N(μ Σh, hᵀCh) across k.
    """

    def __init__(self, config: Config, h: np.ndarray, dphi: np.ndarray, method: str):
        self.config, self.h, self.dphi, self.method = config, h, dphi, method
        var, cov = config.init_dist.covariance(config.stds[-1], config.width)
        ch = (var - cov) * h + cov * h.sum()
        self.weight = dphi * ch
        self.logit_mean = config.init_dist.mean_shift * h.sum()
        self.logit_std = float(np.sqrt(max(h @ ch, 0.0)))

    def draw(self, batch: int, size: int):
        z = self.logit_mean + self.logit_std * stream(self.config.seed, BATCH, batch, self.config.depth + 1) \
            .standard_normal((size, self.config.classes))
        trace = np.empty(size)
        kernels.curvature(z, trace)
        return np.outer(trace, self.weight), None


class CounterReduced(Reduced):
    """:class:`Reduced` with the K logits of each sample generated in the kernel from counters indexed by
    the sample (:mod:`.streams`): the same estimator, results a function of the seed alone."""

    def draw(self, batch: int, start: int, size: int):
        classes = self.config.classes
        slots = chunks(size)
        z, pi = np.empty((slots, classes)), np.empty((slots, classes))
        trace = np.empty(size)
        kernels.curvature_counter(self.config.seed, self.config.depth + 1, float(self.logit_mean),
                                  self.logit_std, start, z, pi, np.empty((slots, CHUNK), np.uint32), trace)
        return np.outer(trace, self.weight), None


class Network:
    """Forward and backward through sampled layers ``start+1..L`` and V (naive and cv).

    ``draw`` returns, per hidden layer l > start (and ``start`` itself when given h), the
    per-sample δ^l as (S, parts, N) and p^l. With ``split`` the two parts are the prediction
    and the label part of ∂ℓ/∂z backpropagated separately (cv = part 0, naive = their sum);
    without it one part, the naive δ, at half the backward cost. When one batch's weights do
    not fit the memory budget (wide and deep), each layer is drawn again from its own stream for
    the backward pass instead of being kept: the same numbers, twice the drawing.
    """

    def __init__(self, config: Config, start: int, h: np.ndarray | None = None, dphi: np.ndarray | None = None,
                 split: bool = True):
        self.config, self.start, self.h, self.dphi, self.split = config, start, h, dphi, split
        self.code, self.scale = loss_code(config)
        self.act = activation_kernels(config.activation)

    def draw(self, batch: int, size: int) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        config, seed = self.config, self.config.seed
        if self.start == 0:
            h, dphi = draw_inputs(config, seed, batch, size), None
        else:
            h, dphi = np.tile(self.h, (size, 1)), np.tile(self.dphi, (size, 1))
        ps, dphis, weights = {}, {self.start: dphi}, {}
        keep = size * numbers_per_sample(config, self.start) <= _BUDGET_NUMBERS
        for layer in range(self.start + 1, config.depth + 2):
            W = draw_weights(config, seed, batch, layer, size)
            weights[layer] = W if keep or layer == config.depth + 1 else None
            p = np.empty((size, W.shape[1]))
            kernels.forward_linear(W, h, p)
            if layer == config.depth + 1:
                z = p
                break
            h, d = np.empty_like(p), np.empty_like(p)
            self.act.activate_parallel(p.reshape(-1), h.reshape(-1), d.reshape(-1))
            ps[layer], dphis[layer] = p, d
        gradient = np.empty((size, 2, config.classes))
        kernels.output_gradient(z, draw_labels(config, seed, batch, size), self.code, self.scale, gradient)
        if not self.split:
            gradient = gradient.sum(axis=1, keepdims=True)
        deltas = {}
        delta = gradient
        for layer in range(config.depth, self.start - 1, -1):
            if dphis.get(layer) is None:
                break
            W = weights[layer + 1]
            if W is None:
                W = draw_weights(config, seed, batch, layer + 1, size)
            out = np.empty((size, gradient.shape[1], W.shape[2]))
            kernels.backward(W, delta, dphis[layer], out)
            deltas[layer] = delta = out
        return deltas, ps


def chunks(size: int) -> int:
    """Scratch slots for a batch: one per thread (the numbers do not depend on it)."""
    import numba

    return max(1, min(numba.get_num_threads(), size))


def keeps_weights(config: Config) -> bool:
    """Whether the counter kernels keep one sample's hidden weights for the backward pass (else regenerate)."""
    return 8 * (config.depth - 1) * config.width ** 2 <= KEEP_BYTES


class CounterLastLayer:
    """Naive, cv and antithetic at the last hidden layer, V and the labels generated in the kernel
    from counters indexed by the sample (:mod:`.streams`): results depend on the seed alone."""

    def __init__(self, config: Config, h: np.ndarray, dphi: np.ndarray, method: str):
        self.config, self.h, self.dphi, self.method = config, h, dphi, method
        self.code, self.scale = loss_code(config)
        self.init = init_code(config.init_dist).args(config.stds[-1])

    def draw(self, batch: int, start: int, size: int):
        config = self.config
        slots = chunks(size)
        V = np.empty((slots, config.classes, config.width))
        z, g = np.empty((slots, config.classes)), np.empty((slots, config.classes))
        pred = np.empty((size, config.width))
        antithetic = self.method == "antithetic"
        label = pred if antithetic else np.empty((size, config.width))
        kernels.last_layer_counter(*self.init, config.seed, config.depth + 1, self.h, self.dphi, self.code,
                                   self.scale, antithetic, start, V, z, g, np.empty((slots, CHUNK), np.uint32), pred,
                                   label)
        if antithetic:
            return pred, None
        naive = pred + label
        return (naive, None) if self.method == "naive" else (pred, naive)


class CounterNetwork:
    """The marginal estimator's forward and backward with every weight, input and label generated in
    the kernel: per-sample layer sums (S, depth, 4), never a batch of weight matrices. Per thread it
    holds one sample's W^2..W^L (the ones the backward pass needs) below ``KEEP_BYTES`` and O(width)
    above (then generates them twice)."""

    def __init__(self, config: Config, split: bool):
        self.config, self.split = config, split
        self.code, self.scale = loss_code(config)
        self.act = activation_kernels(config.activation)
        code = init_code(config.init_dist)
        self.init = (int(code.kind), float(code.param), float(code.shift), bool(code.centered))
        self.stds = np.array(config.stds)
        self.keep = keeps_weights(config)

    def scratch(self, size: int) -> tuple:
        """One sample's working arrays per chunk: h, p, d, V, zg, row, delta, update, W, bits."""
        c = self.config
        slots, top = chunks(size), max(c.width, c.d_in)
        kept = (c.depth - 1, c.width, c.width) if self.keep and c.depth > 1 else (1, 1, 1)
        return (np.zeros((slots, c.depth + 1, top)), np.zeros((slots, c.depth, c.width)),
                np.zeros((slots, c.depth, c.width)), np.empty((slots, c.classes, c.width)),
                np.empty((slots, 2, c.classes)), np.empty((slots, 1, top)), np.empty((slots, 2, c.width)),
                np.empty((slots, 2, c.width)), np.empty((slots, *kept)), np.empty((slots, CHUNK), np.uint32))

    def draw(self, batch: int, start: int, size: int) -> np.ndarray:
        c = self.config
        out = np.empty((size, c.depth, 4))
        self.act.network_counter(self.init, self.stds, c.seed, c.depth, c.width, c.d_in, c.classes, self.code,
                                 self.scale, self.split, self.keep and c.depth > 1, start, *self.scratch(size), out)
        return out


class CounterInner(CounterNetwork):
    """The conditional naive and cv estimators at a hidden layer l below the last: h^l and σ'(p^l) fixed,
    W^{l+1}..W^L, V and the labels generated in the kernel from counters indexed by the sample."""

    def __init__(self, config: Config, layer: int, h: np.ndarray, dphi: np.ndarray, method: str):
        super().__init__(config, split=method == "cv")
        self.layer, self.h, self.dphi, self.method = layer, h, dphi, method

    def draw(self, batch: int, start: int, size: int):
        c = self.config
        h, p, d, V, zg, row, delta, update, W, bits = self.scratch(size)
        h[:, self.layer, :c.width] = self.h
        d[:, self.layer - 1] = self.dphi
        pred, label = np.empty((size, c.width)), np.empty((size, c.width))
        self.act.conditional_counter(self.init, self.stds, c.seed, self.layer, c.depth, c.width, c.classes, self.code,
                                     self.scale, self.split, self.keep and c.depth > 1, start, h, p, d, V, zg, row,
                                     delta, update, W, bits, pred, label)
        naive = pred + label
        return (naive, None) if self.method == "naive" else (pred, naive)


class ProjectedLastLayer(CounterLastLayer):
    """:class:`CounterLastLayer`'s naive and cv for the Gaussian inits by the projected sampler
    (:mod:`.projected`): z = V h and Vᵀ(g(z) - c e_y) drawn in law, K + N normals per sample (cv: K + 2N)."""

    def draw(self, batch: int, start: int, size: int):
        config = self.config
        slots, split = chunks(size), self.method == "cv"
        kind, param, std, shift, centered = self.init
        pred, label = np.empty((size, config.width)), np.empty((size, config.width))
        last_layer_projected(std, shift, centered, config.seed, config.depth + 1, self.h, self.dphi, self.code,
                             self.scale, split, start, np.empty((slots, config.classes)),
                             np.empty((slots, 2, config.classes)), np.empty((slots, 2, config.width)),
                             np.empty((slots, 2, config.width)), np.empty((slots, CHUNK), np.uint32), pred, label)
        if not split:
            return pred, None
        return pred, pred + label


class ProjectedNetwork(CounterNetwork):
    """:class:`CounterNetwork` for the Gaussian inits by the projected sampler (:mod:`.projected`): every
    p^l = W^l h^{l-1} and (W^l)ᵀ δ^l drawn in law, O(width) normals per layer; the same per-sample layer sums."""

    def scratch(self, size: int) -> tuple:
        """One sample's working arrays per chunk: h, p, d, z, u, delta, update, xi, bits."""
        c = self.config
        slots, top = chunks(size), max(c.width, c.d_in)
        return (np.zeros((slots, c.depth + 1, top)), np.zeros((slots, c.depth, c.width)),
                np.zeros((slots, c.depth, c.width)), np.empty((slots, c.classes)), np.empty((slots, 2, c.classes)),
                np.zeros((slots, 2, c.width)), np.zeros((slots, 2, c.width)), np.empty((slots, 2, top)),
                np.empty((slots, CHUNK), np.uint32))

    def draw(self, batch: int, start: int, size: int) -> np.ndarray:
        c = self.config
        out = np.empty((size, c.depth, 4))
        self.act.network_projected(self.init, self.stds, c.seed, c.depth, c.width, c.d_in, c.classes, self.code,
                                   self.scale, self.split, start, *self.scratch(size), out)
        return out


class ProjectedInner(ProjectedNetwork):
    """:class:`CounterInner` for the Gaussian inits by the projected sampler (:mod:`.projected`)."""

    def __init__(self, config: Config, layer: int, h: np.ndarray, dphi: np.ndarray, method: str):
        super().__init__(config, split=method == "cv")
        self.layer, self.h, self.dphi, self.method = layer, h, dphi, method

    def draw(self, batch: int, start: int, size: int):
        c = self.config
        h, p, d, z, u, delta, update, xi, bits = self.scratch(size)
        h[:, self.layer, :c.width] = self.h
        d[:, self.layer - 1] = self.dphi
        pred, label = np.empty((size, c.width)), np.empty((size, c.width))
        self.act.conditional_projected(self.init, self.stds, c.seed, self.layer, c.depth, c.width, c.classes,
                                       self.code, self.scale, self.split, start, h, p, d, z, u, delta, update, xi,
                                       bits, pred, label)
        naive = pred + label
        return (naive, None) if self.method == "naive" else (pred, naive)
