"""sigma(p) and sigma'(p) over whole arrays, for the finite networks in :mod:`driftproof.nets`.

Both forms are generated from the activation's single SymPy expression (STYLE.md rule 4):
``numpy`` uses the lambdified numpy callables; ``numba`` compiles one fused loop from the
printer's math-module source, ~50x faster for piecewise activations but with a one-off
compile cost (~0.3-0.8 s), so it pays only for long runs.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .activations import Activation
from .errors import InputError

__all__ = ["Pointwise", "KERNELS", "choose_kernel"]

KERNELS = ("numpy", "numba", "auto")
# "auto" compiles the Numba kernel when a run touches at least this many activations.
AUTO_NUMBA_ELEMENTS = 3e7

_FUSED = """
def fused(p, h, d):
    for i in range(p.size):
        v = p[i]
        h[i] = act(v)
        d[i] = act_d(v)
"""


def choose_kernel(kernel: str, elements: float) -> str:
    """Resolve ``auto`` to numpy or numba from the number of activation evaluations a run makes."""
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if kernel == "auto":
        return "numba" if elements >= AUTO_NUMBA_ELEMENTS else "numpy"
    return kernel


def _compile_fused(activation: Activation) -> Callable:
    import numba

    namespace: dict = {"math": math}
    source = activation.numba_source("act") + _FUSED
    exec(compile(source, f"<driftproof fused {activation.name}>", "exec"), namespace)  # noqa: S102 - SymPy printer output, not user text
    namespace["act"] = numba.njit(namespace["act"])
    namespace["act_d"] = numba.njit(namespace["act_d"])
    return numba.njit(namespace["fused"])


_COMPILED: dict[str, Callable] = {}


class Pointwise:
    """sigma and sigma' of one activation, evaluated together (the backward needs sigma'(p))."""

    def __init__(self, activation: Activation, kernel: str = "numpy"):
        if kernel not in ("numpy", "numba"):
            raise InputError(f"kernel must be numpy or numba here, got {kernel!r}")
        self.activation = activation
        self.kernel = kernel
        if kernel == "numba":
            key = str(activation.expr)
            if key not in _COMPILED:
                _COMPILED[key] = _compile_fused(activation)
            self._fused = _COMPILED[key]

    def __call__(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sigma(p), sigma'(p)) with the dtype of ``p``."""
        if self.kernel == "numba":
            p = np.ascontiguousarray(p)
            h = np.empty_like(p)
            d = np.empty_like(p)
            self._fused(p.reshape(-1), h.reshape(-1), d.reshape(-1))
            return h, d
        h = self.activation.numpy(p).astype(p.dtype, copy=False)
        d = self.activation.numpy_derivative(p).astype(p.dtype, copy=False)
        return h, d
