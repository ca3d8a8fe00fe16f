"""The loss registry: value, gradient with respect to the logits, and a symbolic form.

Targets ``y`` are integer class labels of shape (n,); ``mse`` also accepts real targets of
shape (n, K) (regression, e.g. a teacher network's outputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from scipy.special import logsumexp, softmax

from .errors import InputError

__all__ = ["Loss", "LOSSES", "get_loss", "one_hot"]


def one_hot(y: np.ndarray, classes: int) -> np.ndarray:
    """Integer labels (n,) as a one-hot float array (n, classes)."""
    out = np.zeros((len(y), classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def _targets(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    return y.astype(float) if y.ndim == 2 else one_hot(y, z.shape[1])


def _mse_value(z, y, scale):
    return 0.5 * scale * np.sum((z - _targets(y, z)) ** 2, axis=1)


def _mse_grad(z, y, scale):
    return scale * (z - _targets(y, z))


def _ce_value(z, y):
    y = np.asarray(y)
    return logsumexp(z, axis=1) - z[np.arange(len(z)), y]


def _ce_grad(z, y):
    return softmax(z, axis=1) - one_hot(np.asarray(y), z.shape[1])


def _ce_hessian_trace(z):
    """tr of the CE Hessian in z: sum_k pi_k (1 - pi_k)."""
    pi = softmax(z, axis=1)
    return np.sum(pi * (1 - pi), axis=1)


@dataclass(frozen=True)
class Loss:
    """A loss l(z, y) of the logits z (n, K) and the targets y."""

    name: str
    description: str
    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    hessian_trace: Callable[[np.ndarray], np.ndarray]
    coordinatewise_convex: bool  # dl/dz_k non-decreasing in z_k: the hypothesis of R3
    label_free_hessian: bool  # tr Hessian independent of z (MSE): R1 is exact for any D

    def symbolic(self, classes: int = 3) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol]:
        """The loss as a SymPy expression of logits z_1..z_K and the true class's logit.

        Returns (expression, logits, target symbol or label index placeholder).
        """
        z = sp.symbols(f"z_1:{classes + 1}", real=True)
        y = sp.symbols(f"y_1:{classes + 1}", real=True)
        if self.name.startswith("mse"):
            scale = sp.Rational(1, classes) if self.name == "mse_mean" else 1
            return scale * sp.Rational(1, 2) * sum((zk - yk) ** 2 for zk, yk in zip(z, y)), z, y
        # ce with a one-hot target y: -sum_k y_k z_k + log sum_k exp(z_k)
        return -sum(yk * zk for zk, yk in zip(z, y)) + sp.log(sum(sp.exp(zk) for zk in z)), z, y

    def latex(self) -> str:
        return {"mse": r"\ell = \tfrac12 \lVert z - y \rVert^2",
                "mse_mean": r"\ell = \tfrac{1}{2K} \lVert z - y \rVert^2",
                "ce": r"\ell = -\log \operatorname{softmax}(z)_y"}[self.name]


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", "0.5 * ||z - y||^2, summed over outputs",
                lambda z, y: _mse_value(z, y, 1.0), lambda z, y: _mse_grad(z, y, 1.0),
                lambda z: np.full(len(z), float(z.shape[1])), True, True),
    "mse_mean": Loss("mse_mean", "0.5/K * ||z - y||^2, the mean over outputs",
                     lambda z, y: _mse_value(z, y, 1.0 / z.shape[1]),
                     lambda z, y: _mse_grad(z, y, 1.0 / z.shape[1]),
                     lambda z: np.ones(len(z)), True, True),
    "ce": Loss("ce", "-log softmax(z)_y, via log-sum-exp", _ce_value, _ce_grad, _ce_hessian_trace, True, False),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; InputError if there is none."""
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r} (choose from {', '.join(LOSSES)})")
    return LOSSES[name]
