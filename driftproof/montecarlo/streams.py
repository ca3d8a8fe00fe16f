"""Where every number of a counter-based run comes from: (seed, purpose, sample, layer, position) -> Philox.

Tag = 16 * layer + purpose; layers are 1..L for W^l and L+1 for V; inputs are layer 0. Normal draws
(the normal, shifted and centered inits, the inputs, the logits of the reduced estimator) take one
32-bit word of Philox4x32-10 each, entry i of a row being word i mod 4 of block i div 4 of counter
(block, row, tag, sample) (:mod:`.normals`); so do the projected sampler's draws of W h (purpose FORWARD,
row 0) and Wᵀδ (purpose BACKWARD, row m for part m) (:mod:`.projected`). The other inits take a 64-bit
word of Philox4x64-10 each,
key (seed, STREAM), counter (block, tag, sample, 0), block = row * ceil(n / 4) + column // 4. A sampler
that rejects continues on Philox4x64-10 counters (position, tag, sample, attempt > 0), so the number at
a coordinate never depends on another coordinate, on the batch or on the thread that computes it
(DESIGN.md §4).

Kernel helpers only: arithmetic into arrays the wrapper allocated (STYLE.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .normals import normal_row
from .philox import STREAM, bounded, philox, unit_draw

__all__ = ["WEIGHTS", "INPUTS", "LABELS", "LOGITS", "FORWARD", "BACKWARD", "weight_row", "normal_vector",
           "logit_vector", "label", "InitCode",
           "init_code"]

WEIGHTS, INPUTS, LABELS, LOGITS = 0, 1, 2, 3  # purposes
FORWARD, BACKWARD = 4, 5  # the projected sampler's W h and Wᵀδ draws (:mod:`.projected`)
_U = np.uint64


@njit(cache=True, inline="always")
def _tag(layer, purpose):
    return _U(16 * layer + purpose)


@njit(cache=True)
def _unit_row(kind, param, seed, tag, sample, row, out):
    """out[i] = unit draw at (row, i) of stream ``tag`` for ``sample``, for kind != 0 (the normal kinds:
    :func:`.normals.normal_row`)."""
    n = out.shape[0]
    per_row = (n + 3) // 4
    k0, c1, c2 = _U(seed), _U(tag), _U(sample)
    for b in range(per_row):
        block = row * per_row + b
        w0, w1, w2, w3 = philox(k0, STREAM, _U(block), c1, c2, _U(0))
        i, position = 4 * b, _U(4 * block)
        # The lanes written out: indexing a tuple with a variable costs more than the draw.
        if i + 3 < n:
            out[i] = unit_draw(kind, param, w0, k0, STREAM, position, c1, c2)
            out[i + 1] = unit_draw(kind, param, w1, k0, STREAM, position + _U(1), c1, c2)
            out[i + 2] = unit_draw(kind, param, w2, k0, STREAM, position + _U(2), c1, c2)
            out[i + 3] = unit_draw(kind, param, w3, k0, STREAM, position + _U(3), c1, c2)
        else:
            for lane in range(n - i):
                out[i + lane] = unit_draw(kind, param, (w0, w1, w2, w3)[lane], k0, STREAM, position + _U(lane),
                                          c1, c2)


@njit(cache=True)
def weight_row(kind, param, std, shift, centered, seed, layer, sample, row, out, bits):
    """Row ``row`` of layer ``layer``'s weights for ``sample``: std * unit draws + shift, or centered
    (the row's mean removed, rescaled by sqrt(n / (n - 1)) to keep the variance, as inits.Init.sample).
    ``bits`` (>= CHUNK uint32) is scratch for the normal kinds."""
    tag = _tag(layer, WEIGHTS)
    if kind == 0 and not centered:
        normal_row(seed, tag, sample, row, std, shift, out, bits)
        return
    if kind == 0:
        normal_row(seed, tag, sample, row, 1.0, 0.0, out, bits)
    else:
        _unit_row(kind, param, seed, tag, sample, row, out)
    n = out.shape[0]
    if centered:
        mean = 0.0
        for i in range(n):
            mean += out[i]
        mean /= n
        factor = std * math.sqrt(n / (n - 1.0))
        for i in range(n):
            out[i] = (out[i] - mean) * factor
    else:
        for i in range(n):
            out[i] = std * out[i] + shift


@njit(cache=True)
def normal_vector(seed, sample, out, bits):
    """The input x ~ N(0, I) of ``sample``."""
    normal_row(seed, _tag(0, INPUTS), sample, np.int64(0), 1.0, 0.0, out, bits)


@njit(cache=True)
def logit_vector(seed, layer, sample, out, bits):
    """The standard normals behind the logits of ``sample`` (the reduced estimator, R2), layer L+1."""
    normal_row(seed, _tag(layer, LOGITS), sample, np.int64(0), 1.0, 0.0, out, bits)


@njit(cache=True)
def label(seed, sample, classes):
    """The label of ``sample``: uniform on 0..classes-1."""
    words = philox(_U(seed), STREAM, _U(0), _tag(0, LABELS), _U(sample), _U(0))
    return bounded(words[0], classes)


class InitCode:
    """An init as the kernels take it: (kind code, parameter, shift, centered)."""

    __slots__ = ("kind", "param", "shift", "centered")

    def __init__(self, kind: int, param: float, shift: float, centered: bool):
        self.kind, self.param, self.shift, self.centered = kind, param, shift, centered

    def args(self, std: float) -> tuple:
        return self.kind, self.param, float(std), self.shift, self.centered


def init_code(init) -> InitCode:
    """The kernel code of a :class:`driftproof.inits.Init`."""
    from .philox import KIND_CODES

    params = dict(init.params)
    return InitCode(KIND_CODES[init.kind], float(params.get("nu", 0.0)), float(init.mean_shift),
                    init.kind == "centered")
