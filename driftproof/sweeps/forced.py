"""Forced activation sparsity: a per-feature threshold at a batch quantile (issue 6, C2).

The paper's code spans the sparsity axis by zeroing, in every hidden layer, each unit's
pre-activations below that unit's ``q``-quantile over the batch. Here that is a wrapper
around a network's :class:`~driftproof.pointwise.Pointwise`: it returns
``(sigma(p) * m, sigma'(p) * m)`` with the mask ``m = [p > tau]``, ``tau_i`` the ``q``-quantile
of column ``i`` of ``p``. The threshold is treated as a constant in the backward (a
stop-gradient, as a quantile computed under ``no_grad`` would be), so the networks'
hand-written backward stays exact for the function it differentiates and needs no change.
Held-out evaluation uses the held-out batch's own quantiles (batch statistics, no running
average), so the forced level holds there too.

For ReLU-like activations the zero fraction is ``max(q, natural)`` up to ties: a unit whose
quantile falls below 0 is zeroed by the activation anyway.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["QuantileGate", "force_sparsity", "FORCE_RANGE"]

FORCE_RANGE = (0.0, 0.99)


class QuantileGate:
    """sigma and sigma' of a base activation, gated at a per-feature batch quantile ``q``."""

    def __init__(self, base, q: float):
        if not (isinstance(q, (int, float)) and FORCE_RANGE[0] < q <= FORCE_RANGE[1]):
            raise InputError(f"force (the sparsity quantile) must be in ({FORCE_RANGE[0]}, {FORCE_RANGE[1]}], got {q!r}")
        self.base = base
        self.q = float(q)
        self.activation = base.activation
        self.kernel = getattr(base, "kernel", "numpy")

    def threshold(self, p: np.ndarray) -> np.ndarray:
        """Per-feature threshold tau (shape (width,)): the ``q``-quantile of each column of ``p``."""
        # "lower": an actual batch value, so exactly floor(q*(n-1))+1 entries per column are <= tau.
        return np.quantile(p, self.q, axis=0, method="lower")

    def __call__(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, d = self.base(p)
        if p.shape[0] < 2:  # one sample: no batch statistic to threshold at
            return h, d
        keep = p > self.threshold(p)
        return h * keep, d * keep


def force_sparsity(net, q: float | None):
    """Gate ``net``'s activation at the batch ``q``-quantile in place (``None``: leave it); returns ``net``."""
    if q is not None:
        net.sigma = QuantileGate(net.sigma, q)
    return net
