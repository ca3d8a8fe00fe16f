"""Rows of standard normals for the kernels: Philox4x32-10 words drawn 256 at a time in a loop the
compiler vectorizes, a branch-free ziggurat over them, the rare rejections redrawn afterwards.

Generator: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC'11), the Random123 default that cuRAND and TensorFlow ship; its authors find Philox4x32 passes
TestU01's BigCrush from 7 rounds on, and recommend 10 for a margin. It is used here
instead of :func:`.philox.philox` (Philox4x64-10) for the weights' normals because its 32-bit products
vectorize (SIMD 32x32->64 multiplies), the 64-bit ones do not: 64 counters at a time it costs 0.4 ns
per 32-bit word against Philox4x64-10's 1.1 ns on the machine of scripts/bench_mc.py. Tested against
Random123's known-answer vectors and a plain-Python reference (tests/montecarlo/test_normals.py).

Counters: key (seed mod 2^32, seed div 2^32); counter (block, row, tag + 2^16 (sample div 2^32),
sample mod 2^32), tag = 16 * layer + purpose (< 2^11 for depth <= 64). Entry i of a row is word i mod 4
of block i div 4: a row is Philox4x32-10's own output stream from counter 0, and an entry's number does
not depend on the row's length, the batch or the thread.

Normal: Marsaglia & Tsang's ziggurat (J. Stat. Softw. 5(8), 2000) with 1024 strips on one 32-bit word
per normal: 10 bits pick the strip, 1 bit the sign, 21 bits the uniform (resolution 2^-21 of the strip).
The 0.43% of words outside their strip's rectangle (wedges, and the tail |z| > 4.039) go through the
exact rejection of :mod:`.philox` with Philox4x64-10 numbers at counters ((row << 32) + column, tag,
sample, attempt >= 1) of key (seed, STREAM). 1024 strips rather than the usual 256 because the
rejections, not the fast path, cost: 256 strips reject 1.49% of words and took a third of the time.

Kernel helpers only: arithmetic into arrays the wrapper allocated (STYLE.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from .philox import NARROW_X, STREAM, narrow_strip, normal_reject

__all__ = ["philox4x32", "normal_row", "CHUNK"]

CHUNK = 256  # entries per pass: the scratch ``bits`` holds one chunk's words (1 KB)
_GROUP = 64  # entries per rejection mask; CHUNK = 4 groups (normal_row writes them out)
_U, _U32 = np.uint64, np.uint32
_MASK = _U(0xFFFFFFFF)
_M0, _M1 = _U(0xD2511F53), _U(0xCD9E8D57)
_W0, _W1 = _U(0x9E3779B9), _U(0xBB67AE85)


@njit(cache=True, inline="always")
def philox4x32(k0, k1, c0, c1, c2, c3):
    """The 4 words of Philox4x32-10 for key (k0, k1), counter (c0, c1, c2, c3): 32-bit values held in uint64."""
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _U(32)) ^ c1 ^ k0, p1 & _MASK, (p0 >> _U(32)) ^ c3 ^ k1, p0 & _MASK
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def _words(k0, k1, first, c1, c2, c3, blocks, bits):
    """bits[4b + m] = word m of block first + b, for b < blocks: independent lanes, vectorized."""
    for b in range(blocks):
        w0, w1, w2, w3 = philox4x32(k0, k1, _U(first + b) & _MASK, c1, c2, c3)
        bits[4 * b] = _U32(w0)
        bits[4 * b + 1] = _U32(w1)
        bits[4 * b + 2] = _U32(w2)
        bits[4 * b + 3] = _U32(w3)


@njit(cache=True, inline="always")  # inlined, the loop vectorizes (called, it does not)
def _fast(bits, lo, hi, std, shift, out, base):
    """out[base + i] = std * z_i + shift for lo <= i < hi (hi - lo <= 64) on the fast path, no branch:
    vectorized. Returns the mask of the entries whose z fell outside their rectangle (bit i - lo)."""
    rejected = _U(0)
    for i in range(lo, hi):
        layer, z, negative = narrow_strip(bits[i])
        rejected |= _U(z >= NARROW_X[layer + 1]) << _U(i - lo)
        out[base + i] = std * ((1.0 - 2.0 * float(np.int32(negative))) * z) + shift
    return rejected


@njit(cache=True)
def _redraw(bits, lo, rejected, std, shift, seed, tag, sample, row, out, base):
    """out[base + i] for the entries of ``rejected`` (bit i - lo) through the wedge and tail rejection."""
    while rejected:
        i = lo + np.int64(trailing_zeros(rejected))
        rejected &= rejected - _U(1)
        layer, z, negative = narrow_strip(bits[i])
        if negative:
            z = -z
        unit = normal_reject(z, layer, True, _U(seed), STREAM, (_U(row) << _U(32)) + _U(base + i), tag, sample)
        out[base + i] = std * unit + shift


@njit(cache=True, inline="always")
def _group(bits, lo, hi, std, shift, seed, tag, sample, row, out, base):
    """Entries lo..hi-1 of the chunk in bits into out[base + lo:base + hi]: fast path, then the rejected."""
    rejected = _fast(bits, lo, hi, std, shift, out, base)
    if rejected:
        _redraw(bits, lo, rejected, std, shift, seed, tag, sample, row, out, base)


@njit(cache=True)
def normal_row(seed, tag, sample, row, std, shift, out, bits):
    """out[i] = std * N_i + shift, N_i the standard normal at (row, i) of stream ``tag`` for ``sample``;
    ``bits`` (>= CHUNK uint32) is scratch. Callers in compiled code pass ``row`` as ``np.int64(k)``: a bare
    literal makes Numba compile a specialization per value (three compiles of this and of ``_redraw``)."""
    n = out.shape[0]
    k0, k1 = _U(seed) & _MASK, _U(seed) >> _U(32)
    c1, c2, c3 = _U(row), _U(tag) | ((_U(sample) >> _U(32)) << _U(16)), _U(sample) & _MASK
    whole = n - n % CHUNK
    # Whole chunks with constant trip counts, so that the loops vectorize fully, their four groups written
    # out and one branch for the rare redraws (5% faster than a loop over the groups); then the rest.
    for start in range(0, whole, CHUNK):
        _words(k0, k1, start // 4, c1, c2, c3, CHUNK // 4, bits)
        masks = (_fast(bits, 0, _GROUP, std, shift, out, start),
                 _fast(bits, _GROUP, 2 * _GROUP, std, shift, out, start),
                 _fast(bits, 2 * _GROUP, 3 * _GROUP, std, shift, out, start),
                 _fast(bits, 3 * _GROUP, CHUNK, std, shift, out, start))
        if masks[0] | masks[1] | masks[2] | masks[3]:
            for g in range(CHUNK // _GROUP):
                if masks[g]:
                    _redraw(bits, g * _GROUP, masks[g], std, shift, seed, _U(tag), _U(sample), row, out, start)
    if whole < n:
        size = n - whole
        _words(k0, k1, whole // 4, c1, c2, c3, (size + 3) // 4, bits)
        for lo in range(0, size, _GROUP):
            _group(bits, lo, min(lo + _GROUP, size), std, shift, seed, _U(tag), _U(sample), row, out, whole)
