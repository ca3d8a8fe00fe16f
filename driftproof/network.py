"""What every network shares: the result of a backward pass and the float types it runs in.

Both the MLPs (:mod:`driftproof.nets`) and the transformers (:mod:`driftproof.transformer`)
build on this module, so neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

__all__ = ["Backward", "DTYPES", "dtype_of"]

DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass
class Backward:
    """Gradients of the batch-mean loss and the per-sample delta^l of every hidden layer."""

    grads: dict[str, np.ndarray]
    deltas: list[np.ndarray]  # delta^l = dl_n / dp^l, shape (n, width), l = 1..L


def dtype_of(name: str):
    """The numpy float type named ``float64`` or ``float32`` (InputError otherwise)."""
    if name not in DTYPES:
        raise InputError(f"dtype must be float64 or float32, got {name!r}")
    return DTYPES[name]
