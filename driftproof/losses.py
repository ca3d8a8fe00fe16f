"""The loss registry: value, gradient with respect to the logits, and a symbolic form.

Targets ``y`` are integer class labels of shape (n,); ``mse`` also accepts real targets of
shape (n, K) (regression, e.g. a teacher network's outputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

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


def _shifted(z):
    """z minus its row maximum, so that exp() cannot overflow (SciPy's logsumexp/softmax do the same,
    at ~20 µs of overhead per call: the training rows call them on small arrays thousands of times)."""
    z = np.asarray(z, dtype=float)
    return z - z.max(axis=1, keepdims=True)


def _ce_value(z, y):
    y = np.asarray(y)
    shifted = _shifted(z)
    return np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(shifted)), y]


def _ce_grad(z, y):
    e = np.exp(_shifted(z))
    return e / e.sum(axis=1, keepdims=True) - one_hot(np.asarray(y), z.shape[1])


@dataclass(frozen=True)
class Loss:
    """A loss l(z, y) of the logits z (n, K) and the targets y."""

    name: str
    description: str
    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    family: str  # "mse" (R1: exact for any D) or "ce" (R2: Stein's lemma)
    mean_reduction: bool = False  # mse_mean: the sum over outputs divided by K

    @property
    def result(self) -> str:
        """The theory result that covers the last hidden layer: R1 (MSE) or R2 (CE)."""
        return "R1" if self.family == "mse" else "R2"

    def output_scale(self, classes: int) -> float:
        """The factor in front of the sum over outputs: 1/K for the mean reduction, else 1."""
        return 1.0 / classes if self.mean_reduction else 1.0

    def mse_curvature(self, classes: int) -> float:
        """tr of the MSE Hessian in z (a constant): K for the sum, 1 for the mean."""
        if self.family != "mse":
            raise ValueError(f"{self.name} has no constant curvature")
        return classes * self.output_scale(classes)

    # ∂ℓ/∂z = g(z) − c·y, the one definition that every other form is checked against (the Numba
    # kernels' in tests/montecarlo/test_loss_forms.py): the prediction part g(z) depends on the logits
    # alone, the label part −c·y on the targets alone (DESIGN.md §2 item D).

    def label_scale(self, classes: int) -> float:
        """c in the label part −c·y of ∂ℓ/∂z: 1 for cross-entropy, the output scale (1 or 1/K) for MSE."""
        return 1.0 if self.family == "ce" else self.output_scale(classes)

    def prediction_part(self, z: np.ndarray) -> np.ndarray:
        """g(z), the part of ∂ℓ/∂z (n, K) that the logits alone determine: softmax(z) (CE), s·z (MSE)."""
        z = np.asarray(z, dtype=np.float64)
        if self.family == "ce":
            e = np.exp(_shifted(z))
            return e / e.sum(axis=1, keepdims=True)
        return self.output_scale(z.shape[1]) * z

    def split(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(g(z), −c·y): the two parts of :attr:`grad` per sample, (n, K) each; ``y`` labels (n,) or, for
        MSE, real targets (n, K). Their sum is ``grad(z, y)`` up to rounding (MSE computes s·(z − y))."""
        z = np.asarray(z, dtype=np.float64)
        return self.prediction_part(z), -self.label_scale(z.shape[1]) * _targets(y, z)

    def curvature(self, classes: int) -> float | None:
        """tr ∇²_z ℓ where it is a constant (MSE: K·s, so K for the sum and 1 for the mean), else None
        (cross-entropy: Σ_k π_k(1 − π_k), which depends on z; see :meth:`hessian_trace`)."""
        return None if self.family == "ce" else self.mse_curvature(classes)

    def hessian_trace(self, z: np.ndarray) -> np.ndarray:
        """tr ∇²_z ℓ per sample (n,): Σ_k π_k(1 − π_k) for cross-entropy, the constant K·s for MSE."""
        z = np.asarray(z, dtype=np.float64)
        constant = self.curvature(z.shape[1])
        if constant is not None:
            return np.full(len(z), constant)
        pi = self.prediction_part(z)
        return (pi * (1.0 - pi)).sum(axis=1)

    def symbolic_gradient(self, z_k: sp.Symbol, y_k: sp.Symbol, pi_k: sp.Symbol, classes: sp.Symbol) -> sp.Expr:
        """∂ℓ/∂z_k for any K, in the symbols given: s·(z_k − y_k) (s = 1, or 1/K for the mean) or π_k − y_k."""
        if self.family == "ce":
            return pi_k - y_k
        scale = 1 / classes if self.mean_reduction else sp.Integer(1)
        return scale * (z_k - y_k)

    @property
    def linear_gradient(self) -> bool:
        """True where ∂ℓ/∂z is affine in z (MSE): then E[V ∂ℓ/∂z] needs only the second moments of the
        weights (R1 is exact for any zero-mean D, no Stein step), and the curvature is a constant."""
        return self.family == "mse"

    @property
    def real_targets(self) -> bool:
        """True where the loss takes real targets (n, K) as well as labels (MSE: a teacher's outputs)."""
        return self.family == "mse"

    def symbolic(self, classes: int = 3) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol]:
        """The loss as a SymPy expression of logits z_1..z_K and the true class's logit.

        Returns (expression, logits, target symbol or label index placeholder).
        """
        z = sp.symbols(f"z_1:{classes + 1}", real=True)
        y = sp.symbols(f"y_1:{classes + 1}", real=True)
        if self.family == "mse":
            scale = sp.Rational(1, classes) if self.mean_reduction else 1
            return scale * sp.Rational(1, 2) * sum((zk - yk) ** 2 for zk, yk in zip(z, y)), z, y
        # ce with a one-hot target y: -sum_k y_k z_k + log sum_k exp(z_k)
        return -sum(yk * zk for zk, yk in zip(z, y)) + sp.log(sum(sp.exp(zk) for zk in z)), z, y


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", "0.5 * ||z - y||^2, summed over outputs",
                lambda z, y: _mse_value(z, y, 1.0), lambda z, y: _mse_grad(z, y, 1.0), "mse"),
    "mse_mean": Loss("mse_mean", "0.5/K * ||z - y||^2, the mean over outputs",
                     lambda z, y: _mse_value(z, y, 1.0 / z.shape[1]),
                     lambda z, y: _mse_grad(z, y, 1.0 / z.shape[1]), "mse", mean_reduction=True),
    "ce": Loss("ce", "-log softmax(z)_y, via log-sum-exp", _ce_value, _ce_grad, "ce"),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; InputError if there is none."""
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r} (choose from {', '.join(LOSSES)})")
    return LOSSES[name]
