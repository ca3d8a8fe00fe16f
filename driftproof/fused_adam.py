"""Adam's update in one pass over the arrays (Numba): the operations of ``Optimizer._adam_reference``, in the
same order and precision, so the same bits (tests/test_optim_data.py), without its six temporaries per call.

The scalars arrive already cast to the arrays' dtype, as numpy casts a Python float against a float32 array,
so float32 parameters are updated in float32 as the reference does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["adam_update"]


@njit(cache=True)
def _adam_flat(theta, grad, m, v, b1, c1, b2, c2, keep, decayed, step_size, eps):
    for i in range(theta.size):
        g = grad[i]
        mi = m[i] * b1
        mi = mi + c1 * g
        vi = v[i] * b2
        vi = vi + c2 * (g * g)
        m[i] = mi
        v[i] = vi
        t = theta[i]
        if decayed:
            t = t * keep
        theta[i] = t - (step_size * mi) / (np.sqrt(vi) + eps)


def adam_update(theta: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, betas: tuple[float, float],
                keep: float | None, step_size: float, eps: float) -> None:
    """theta, m, v updated in place (C-contiguous arrays of one dtype); ``keep`` = 1 - lr wd for AdamW's decay."""
    cast = theta.dtype.type
    b1, b2 = betas
    _adam_flat(theta.reshape(-1), np.ascontiguousarray(grad, dtype=theta.dtype).reshape(-1), m.reshape(-1),
               v.reshape(-1), cast(b1), cast(1 - b1), cast(b2), cast(1 - b2), cast(1.0 if keep is None else keep),
               keep is not None, cast(step_size), cast(eps))
