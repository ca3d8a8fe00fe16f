"""The user's loss as driftproof reads it: its value, the units of δ, and the self/label split of ∂ℓ/∂z.

Backpropagation is linear in the output gradient ``∂ℓ/∂z``, so every δ is exactly a *self* part
(backpropagated from g(z): softmax(z) for cross-entropy, z for MSE) plus a *label* part (from −y)
(DESIGN.md §2 item D). For a cross-entropy or MSE loss of any reduction or class weighting, each row of
``∂ℓ/∂z`` is c_r (g(z_r) − y_r) for some scale c_r ≥ 0; the scale is read off the gradient by
projection and the decomposition is checked to reproduce the gradient. A loss that is not of this
form (label smoothing, an unknown function) gets no split, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..errors import InputError

__all__ = ["TorchLoss", "resolve_loss", "split_output_gradient", "rows_of", "SPLIT_TOLERANCE"]

SPLIT_TOLERANCE = 1e-4  # relative residual of the decomposition above which there is no split (float32 rounding)


@dataclass(frozen=True)
class TorchLoss:
    """A scalar loss of (output, targets); ``family`` ce or mse (a split exists) or None."""

    name: str
    fn: Callable
    family: str | None
    reduction: str = "mean"  # "mean": the loss averages over rows (δ is rescaled to one row's loss)
    ignore_index: int | None = None


def _flat_ce(loss: Callable) -> Callable:
    """Cross-entropy on logits of any shape (..., K) against targets (...): rows are flattened first."""
    def call(out, y):
        return loss(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return call


def _targets(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Real targets as given, or integer labels one-hot in the output's dtype."""
    if y.is_floating_point():
        return y
    return F.one_hot(y, out.shape[-1]).to(out.dtype)


def _mse_sum(out, y):
    """driftproof's mse: ½‖z − y‖² summed over outputs, averaged over rows (DESIGN.md §1)."""
    return 0.5 * ((out - _targets(out, y)) ** 2).sum(-1).mean()


def resolve_loss(loss_fn) -> TorchLoss:
    """``"ce"``, ``"mse"``, a PyTorch CrossEntropyLoss/MSELoss (module or function) or any callable
    ``(output, targets) -> scalar``."""
    if isinstance(loss_fn, str):
        if loss_fn == "ce":
            return TorchLoss("ce", _flat_ce(F.cross_entropy), "ce", "mean", -100)
        if loss_fn == "mse":
            return TorchLoss("mse", _mse_sum, "mse", "mean")
        raise InputError(f"loss must be 'ce', 'mse' or a callable (output, targets) -> scalar, got {loss_fn!r}")
    if isinstance(loss_fn, torch.nn.CrossEntropyLoss):
        return TorchLoss("CrossEntropyLoss", _flat_ce(loss_fn), "ce", loss_fn.reduction, loss_fn.ignore_index)
    if loss_fn is F.cross_entropy:
        return TorchLoss("cross_entropy", _flat_ce(F.cross_entropy), "ce", "mean", -100)
    if isinstance(loss_fn, torch.nn.MSELoss):
        return TorchLoss("MSELoss", lambda out, y: loss_fn(out, _targets(out, y)), "mse", loss_fn.reduction)
    if loss_fn is F.mse_loss:
        return TorchLoss("mse_loss", lambda out, y: F.mse_loss(out, _targets(out, y)), "mse", "mean")
    if callable(loss_fn):
        return TorchLoss(getattr(loss_fn, "__name__", type(loss_fn).__name__), loss_fn, None,
                         getattr(loss_fn, "reduction", "mean"))
    raise InputError(f"loss must be 'ce', 'mse' or a callable (output, targets) -> scalar, got {loss_fn!r}")


def rows_of(loss: TorchLoss, out: torch.Tensor, y: torch.Tensor) -> int:
    """How many rows the loss averages over: δ of one row's loss is R · ∂L/∂p (1 for a summed loss)."""
    if loss.reduction == "sum":
        return 1
    if loss.family == "ce" and loss.ignore_index is not None and not y.is_floating_point():
        return max(1, int((y != loss.ignore_index).sum()))
    return max(1, out.numel() // out.shape[-1]) if out.dim() > 1 else 1


def split_output_gradient(loss: TorchLoss, out: torch.Tensor, y: torch.Tensor, grad: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(self part, label part) of ``grad`` = ∂L/∂out, or None where ``grad`` is not c (g(z) − y).

    Cross-entropy: per row c_r = ⟨grad_r, π_r − e_r⟩ / ‖π_r − e_r‖²; MSE: one c = ⟨grad, z − y⟩ / ‖z − y‖².
    """
    if loss.family is None:
        return None
    with torch.no_grad():  # in float64: a saturated softmax leaves rows whose π − e is tiny or exactly 0
        z, grad64 = out.detach().double(), grad.double()
        if loss.family == "ce":
            if y.is_floating_point() or y.shape != z.shape[:-1]:
                return None
            keep = (y != loss.ignore_index) if loss.ignore_index is not None else torch.ones_like(y, dtype=torch.bool)
            g = torch.softmax(z, dim=-1)
            target = F.one_hot(torch.where(keep, y, 0), z.shape[-1]).to(z.dtype) * keep.unsqueeze(-1)
            diff = g - target
            num, den = (grad64 * diff).sum(-1, keepdim=True), (diff * diff).sum(-1, keepdim=True)
        else:
            target = _targets(z, y)
            if target.shape != z.shape:
                return None
            g, diff = z, z - target
            num, den = (grad64 * diff).sum(), (diff * diff).sum()
        # a row with g(z) = y exactly has no gradient to split (c = 0)
        c = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0)
        self_part, label_part = c * g, -c * target
        residual = (grad64 - self_part - label_part).norm()
        if not torch.isfinite(residual) or residual > SPLIT_TOLERANCE * grad64.norm():
            return None
        return self_part.to(grad.dtype), label_part.to(grad.dtype)
