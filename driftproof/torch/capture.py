"""p at the up-projections' outputs and δ = ∂ℓ/∂p through autograd, on one batch.

p is read by a forward hook on each up-projection (so an activation applied as a function, after
the module, changes nothing); δ is the gradient of the loss with respect to that very tensor. The
hooks are removed when the measurement ends. δ is reported in the units of one row of the loss
(a token for a language model, a sample for a classifier): R · ∂L/∂p when the loss averages over
R rows (:func:`~.losses.rows_of`).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from ..errors import InputError
from .layers import MLPLayer
from .losses import TorchLoss, rows_of, split_output_gradient

__all__ = ["Measurement", "capture_p", "measure", "output_tensor", "sign_of", "units_of"]


def output_tensor(out) -> torch.Tensor:
    """The logits of a model's output: a tensor, ``.logits`` (Hugging Face), or the first of a tuple."""
    if isinstance(out, torch.Tensor):
        return out
    logits = getattr(out, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise InputError(f"the model returned {type(out).__name__}: expected a tensor of logits, an object with "
                     ".logits, or a tuple whose first entry is the logits")


def units_of(out: torch.Tensor) -> str:
    """'per token' for outputs (batch, positions, classes), 'per sample' for (batch, classes)."""
    return "per token" if out.dim() >= 3 else "per sample"


@contextmanager
def capture_p(layers: list[MLPLayer]):
    """Forward hooks that keep each layer's output tensor p (one entry per call) in ``store[i]``."""
    store: list[list[tuple[torch.Tensor, int]]] = [[] for _ in layers]
    handles = []
    for index, layer in enumerate(layers):
        def hook(module, inputs, output, index=index):
            if not isinstance(output, torch.Tensor):
                raise InputError(f"{layers[index].name} returned {type(output).__name__}, not a tensor")
            store[index].append((output, output._version))
        handles.append(layer.up.register_forward_hook(hook))
    try:
        yield store
    finally:
        for handle in handles:
            handle.remove()


def _checked(layer: MLPLayer, calls: list[tuple[torch.Tensor, int]]) -> list[torch.Tensor]:
    if not calls:
        raise InputError(f"{layer.name} was not called in the forward pass")
    for tensor, version in calls:
        if tensor._version != version:
            raise InputError(f"{layer.name}'s output was modified in place after the layer (an inplace "
                             "activation?): p and its gradient can no longer be read there")
    return [tensor for tensor, _ in calls]


@dataclass
class Measurement:
    """One forward and backward: per layer p and δ as (batch, entries), float64; the loss and units."""

    loss: float
    p: list[torch.Tensor]
    delta: list[torch.Tensor]
    self_part: list[torch.Tensor] | None
    label_part: list[torch.Tensor] | None
    rows: int
    units: str
    out: torch.Tensor


def _users(function, what: str, *args):
    """A call into the user's code (model, loss): its failure on the given batch is bad input, one line."""
    try:
        return function(*args)
    except InputError:
        raise
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise InputError(f"{what}: {type(error).__name__}: {message}") from None


def _per_sample(tensors: list[torch.Tensor], batch: int) -> torch.Tensor:
    return torch.cat([t.reshape(batch, -1) for t in tensors], dim=1).to(torch.float64)


def measure(model: torch.nn.Module, layers: list[MLPLayer], x, y, loss: TorchLoss, split: bool = True
            ) -> Measurement:
    """p and δ (and its self/label parts, where the loss has them) of every layer on the batch (x, y).

    Parameters' ``.grad`` are left untouched (δ comes from ``torch.autograd.grad``).
    """
    with capture_p(layers) as store:
        out = output_tensor(_users(model, "the model failed on the batch", x))
    ps = [_checked(layer, calls) for layer, calls in zip(layers, store)]
    value = _users(loss.fn, f"the loss {loss.name} failed on the model's output", out, y)
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        raise InputError(f"the loss must return a scalar tensor, got {getattr(value, 'shape', type(value))}")
    flat = [t for calls in ps for t in calls]
    grad_out, = torch.autograd.grad(value, out, retain_graph=True)
    rows = rows_of(loss, out, y)
    parts = split_output_gradient(loss, out, y, grad_out) if split else None
    batch = out.shape[0]

    def backprop(grad: torch.Tensor) -> list[torch.Tensor]:
        grads = torch.autograd.grad(out, flat, grad_outputs=grad, retain_graph=True, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(flat, grads)]
        per_layer, start = [], 0
        for calls in ps:
            per_layer.append(_per_sample(grads[start:start + len(calls)], batch) * rows)
            start += len(calls)
        return per_layer

    if parts is None:
        delta, self_part, label_part = backprop(grad_out), None, None
    else:
        self_part, label_part = backprop(parts[0]), backprop(parts[1])
        delta = [s + lab for s, lab in zip(self_part, label_part)]  # exact: backprop is linear in ∂ℓ/∂z
    p = [_per_sample([t.detach() for t in calls], batch) for calls in ps]
    return Measurement(float(value.detach()), p, delta, self_part, label_part, rows, units_of(out), out.detach())


def sign_of(delta: torch.Tensor, p: torch.Tensor) -> float:
    """E[δ | p > 0] over the batch's entries (NaN when no entry has p > 0)."""
    mask = p > 0
    count = int(mask.sum())
    return float(delta[mask].sum() / count) if count else math.nan
