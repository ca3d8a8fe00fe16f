"""One SymPy step on a tail (factor, limit) under a time and memory limit."""

from __future__ import annotations

from ..bounded import bounded

SYMPY_STEP_LIMIT = 0.3  # seconds for one SymPy factor / limit call on a tail


def _limited(make, seconds: float):
    """make(), or None when it raises or runs past ``seconds`` or its memory limit.

    SymPy can run away (``factor`` of exp(-(x - c)**2) with a float c builds a polynomial in
    exp(x) of enormous degree), so the step runs in a bounded child process (``bounded``).
    """
    return bounded(make, seconds)
