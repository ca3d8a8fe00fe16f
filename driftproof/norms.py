"""RMSNorm and LayerNorm, row-wise over the last axis, each forward beside its backward: the one
definition that the residual MLP (:mod:`driftproof.nets`) and the transformers
(:mod:`driftproof.transformer.layers`) use, and that the Monte Carlo engine's batched copy
(:mod:`driftproof.montecarlo.residual`) is tested against (``tests/test_norms.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RMS_EPS", "LN_EPS", "rmsnorm", "rmsnorm_backward", "layernorm", "layernorm_backward"]

RMS_EPS = 1e-6  # the paper's RMSNorm
LN_EPS = 1e-5  # PyTorch's LayerNorm default


def rmsnorm(x: np.ndarray, g: np.ndarray, eps: float = RMS_EPS):
    """y = g * x / sqrt(mean(x^2) + eps), row-wise, with a learnable gain g."""
    inv = 1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    xhat = x * inv
    return xhat * g, (xhat, inv)


def rmsnorm_backward(dy: np.ndarray, g: np.ndarray, saved) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dg) of :func:`rmsnorm`."""
    xhat, inv = saved
    dxhat = dy * g
    dx = inv * (dxhat - xhat * np.mean(dxhat * xhat, axis=-1, keepdims=True))
    return dx, np.sum(dy * xhat, axis=0)


def layernorm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = LN_EPS):
    """y = g * (x - mean) / sqrt(var + eps) + b, row-wise."""
    centered = x - x.mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(np.mean(centered * centered, axis=-1, keepdims=True) + eps)
    xhat = centered * inv
    return xhat * g + b, (xhat, inv)


def layernorm_backward(dy: np.ndarray, g: np.ndarray, saved) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dg, db) of :func:`layernorm`."""
    xhat, inv = saved
    dxhat = dy * g
    dx = inv * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * np.mean(dxhat * xhat, axis=-1, keepdims=True))
    return dx, np.sum(dy * xhat, axis=0), dy.sum(axis=0)
