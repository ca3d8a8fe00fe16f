"""sigma(p) and sigma'(p) over whole arrays, for the finite networks in :mod:`driftproof.nets`.

Both forms are generated from the activation's single SymPy expression (STYLE.md rule 4):
``numpy`` uses the lambdified numpy callables; ``numba`` uses the activation's compiled module
(:mod:`driftproof.compiled`), the same one the Monte Carlo kernels use: ~50x faster for
piecewise activations, with a one-off compile cost on the first run that the on-disk cache
saves every later process.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation
from .compiled import activation_kernels
from .errors import InputError

__all__ = ["Pointwise", "KERNELS", "choose_kernel"]

KERNELS = ("numpy", "numba", "auto")
# "auto" compiles the Numba kernel when a run touches at least this many activations.
AUTO_NUMBA_ELEMENTS = 3e7


def choose_kernel(kernel: str, elements: float) -> str:
    """Resolve ``auto`` to numpy or numba from the number of activation evaluations a run makes."""
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    if kernel == "auto":
        return "numba" if elements >= AUTO_NUMBA_ELEMENTS else "numpy"
    return kernel


class Pointwise:
    """sigma and sigma' of one activation, evaluated together (the backward needs sigma'(p))."""

    def __init__(self, activation: Activation, kernel: str = "numpy"):
        if kernel not in ("numpy", "numba"):
            raise InputError(f"kernel must be numpy or numba here, got {kernel!r}")
        self.activation = activation
        self.kernel = kernel
        if kernel == "numba":
            self._activate = activation_kernels(activation).activate

    def __call__(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sigma(p), sigma'(p)) with the dtype of ``p``."""
        if self.kernel == "numba":
            p = np.ascontiguousarray(p)
            h = np.empty_like(p)
            d = np.empty_like(p)
            self._activate(p.reshape(-1), h.reshape(-1), d.reshape(-1))
            return h, d
        h = self.activation.numpy(p).astype(p.dtype, copy=False)
        d = self.activation.numpy_derivative(p).astype(p.dtype, copy=False)
        return h, d
