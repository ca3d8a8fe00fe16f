"""Philox4x64-10, the counter-based generator of Salmon et al. (SC'11), for use inside Numba kernels.

Why this one: it is the generator numpy ships as ``numpy.random.Philox`` (so the tests check it
bit for bit against an independent, widely used implementation), it passes TestU01's BigCrush
with a margin of rounds, and being counter-based it gives any (sample, layer, position) its own
numbers in O(1) without state: results depend on the seed alone, not on threads or batches.

Conventions (numpy's): key ``(k0, k1)``, counter ``(c0, c1, c2, c3)`` as uint64. numpy's
``Philox(key=k, counter=c).random_raw(4)`` returns ``philox(k, c + 1)`` (it increments first).

Streams used by the kernels (DESIGN.md §4): key = (seed, STREAM); counter = (position block,
tag, sample, attempt), where tag = 16 * layer + purpose and ``attempt`` > 0 feeds the rare
rejections of the samplers, so every number stays a function of its coordinates alone.

Distributions (all exact algorithms; their only error is double rounding and the 53-bit uniform):
- normal: Marsaglia & Tsang's 256-layer ziggurat (J. Stat. Softw. 5(8), 2000), one 64-bit word
  per normal on the fast path (98.5%): 8 bits pick the layer, 1 bit the sign, 53 bits the uniform;
  the wedge and the tail (|z| > 3.654) draw from the attempt counters. (The normal weights, inputs
  and logits take 32 bits each from Philox4x32-10 on a 1024-strip ziggurat, :mod:`.normals`; their
  wedges and tail go through the same rejection, :func:`normal_reject` with ``narrow``.)
- uniform, Laplace (inverse CDF), Rademacher (one bit), truncated normal (normal rejected outside
  ±2), Student t(ν) = Z / sqrt(G / (ν/2)), G ~ Gamma(ν/2) by Marsaglia & Tsang (2000) — any ν > 2.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["philox", "STREAM", "normal", "normal_reject", "narrow_strip", "uniform01", "unit_draw", "bounded",
           "KIND_CODES", "ZIG_X", "ZIG_F", "NARROW_X", "NARROW_F", "NARROW_R", "NARROW_V"]

STREAM = np.uint64(0x6472696674703031)  # "driftp01": the Monte Carlo streams' second key word
_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)
_W0, _W1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBB67AE8584CAA73B)
_ONE = np.uint64(1)
_TO_UNIT = 2.0 ** -53

# Init kinds as kernel codes (driftproof.inits names -> code); "shifted" and "centered" are normal
# draws that the kernels shift or center.
KIND_CODES = {"normal": 0, "shifted": 0, "centered": 0, "uniform": 1, "truncated_normal": 2, "laplace": 3,
              "rademacher": 4, "student_t": 5}


@intrinsic
def _mulhilo(typingctx, a, b):
    """(high, low) 64-bit halves of the 128-bit product a * b: one machine multiply."""
    signature = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, sig, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        low = builder.trunc(product, ir.IntType(64))
        high = builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))
        return context.make_tuple(builder, sig.return_type, [high, low])

    return signature, codegen


@njit(cache=True, inline="always")
def philox(k0, k1, c0, c1, c2, c3):
    """The 4 words of Philox4x64-10 for key (k0, k1) and counter (c0, c1, c2, c3), all uint64."""
    for _ in range(10):
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
        k0 += _W0
        k1 += _W1
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def uniform01(word):
    """A uniform in (0, 1) from the top 53 bits of a word (never 0: logs are safe)."""
    return (float(np.int64(word >> np.uint64(11))) + 0.5) * _TO_UNIT


@njit(cache=True, inline="always")
def bounded(word, n):
    """An integer in 0..n-1 by Lemire's multiply-high: bias at most n / 2^64."""
    high, _ = _mulhilo(word, np.uint64(n))
    return np.int64(high)


def _ziggurat_tables(layers: int, r: float, v: float):
    """Marsaglia & Tsang's tables for ``layers`` strips of area v: x[0] = v / f(r) (base strip), x[1] = r, ...,
    x[layers] = 0; f = exp(-x²/2). r solves v / x[layers-1] + f(x[layers-1]) = 1 with v = r f(r) + ∫_r^∞ f."""
    x = np.zeros(layers + 1)
    x[0], x[1] = v / math.exp(-0.5 * r * r), r
    for i in range(1, layers - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(v / x[i] + math.exp(-0.5 * x[i] * x[i])))
    return x, np.exp(-0.5 * x * x)


ZIG_X, ZIG_F = _ziggurat_tables(256, 3.6541528853610088, 0.00492867323399)
# 1024 strips for the 32-bit normals (r, v by bisection on the closing condition, tested): 0.43% of
# words fall outside their rectangle, against 1.49% with 256 strips; the wedges are what costs.
NARROW_R, NARROW_V = 4.038849846109505, 0.0012263246463530852
NARROW_X, NARROW_F = _ziggurat_tables(1024, NARROW_R, NARROW_V)
_SIGNS = np.array([1.0, -1.0])
_U32 = np.uint32
_TO_UNIT21 = 2.0 ** -21


@njit(cache=True, inline="always")
def _ziggurat_try(word):
    """(value, layer, accepted) of the fast path for one word."""
    layer = np.int64(word & np.uint64(255))
    # Through int64: a signed integer converts to double in one instruction, an unsigned one does not.
    u = float(np.int64(word >> np.uint64(11))) * _TO_UNIT
    z = u * ZIG_X[layer]
    accepted = z < ZIG_X[layer + 1]
    if (word >> np.uint64(8)) & _ONE:
        z = -z
    return z, layer, accepted


@njit(cache=True, inline="always")
def narrow_strip(word):
    """(layer, |z|, negative) of a 32-bit word (uint32) on the 1024-strip ziggurat: 10 bits pick the strip,
    1 bit the sign, 21 bits the uniform (resolution 2^-21 of the strip)."""
    layer = np.int64(word & _U32(1023))
    magnitude = float(np.int32(word >> _U32(11))) * _TO_UNIT21 * NARROW_X[layer]
    return layer, magnitude, (word >> _U32(10)) & _U32(1)


@njit(cache=True, inline="always")
def _narrow_try(word):
    """(value, layer, accepted) of the 32-bit fast path for the low half of a 64-bit word."""
    layer, magnitude, negative = narrow_strip(_U32(word & np.uint64(0xFFFFFFFF)))
    return -magnitude if negative else magnitude, layer, magnitude < NARROW_X[layer + 1]


@njit(cache=True)
def normal_reject(z, layer, narrow, k0, k1, c0, c1, c2):
    """The wedge and the tail after the fast path rejected (z, layer) of the 256-strip ziggurat (the
    1024-strip one when ``narrow``): a rejection loop whose numbers come from attempts 1, 2, ... of this
    position; each failed test starts over with a fresh try (64 bits, or 32 when ``narrow``)."""
    xs, fs = (NARROW_X, NARROW_F) if narrow else (ZIG_X, ZIG_F)
    attempt = np.uint64(0)
    while True:
        attempt += _ONE
        b0, b1, b2, b3 = philox(k0, k1, c0, c1, c2, attempt)
        magnitude = abs(z)
        if layer == 0:  # the tail beyond r (Marsaglia 1964)
            r = xs[1]
            a = -math.log(uniform01(b0)) / r
            b = -math.log(uniform01(b1))
            if 2.0 * b > a * a:
                return r + a if z >= 0 else -(r + a)
        else:  # the wedge between f(x[layer]) and f(x[layer + 1])
            y = fs[layer] + uniform01(b0) * (fs[layer + 1] - fs[layer])
            if y < math.exp(-0.5 * magnitude * magnitude):
                return z
        z, layer, accepted = _narrow_try(b3) if narrow else _ziggurat_try(b3)
        if accepted:
            return z


@njit(cache=True, inline="always")
def normal(word, k0, k1, c0, c1, c2):
    """A standard normal from ``word``, the word at counter (c0, c1, c2, 0) of key (k0, k1): 53-bit uniform."""
    layer = np.int64(word & np.uint64(255))
    z = float(np.int64(word >> np.uint64(11))) * _TO_UNIT * ZIG_X[layer]
    sign = _SIGNS[np.int64((word >> np.uint64(8)) & _ONE)]
    if z < ZIG_X[layer + 1]:  # inside the layer's rectangle: 98.8% of words
        return z * sign
    return normal_reject(z * sign, layer, False, k0, k1, c0, c1, c2)


@njit(cache=True)
def _gamma(shape, k0, k1, c0, c1, c2, attempt):
    """Gamma(shape) for shape >= 1 by Marsaglia & Tsang (2000), from attempts ``attempt``, +1, ...; (value, next attempt)."""
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        b0, b1, b2, b3 = philox(k0, k1, c0, c1, c2, attempt)
        attempt += _ONE
        x = normal(b0, k0, k1, c0, c1 ^ np.uint64(1 << 40), c2 ^ attempt)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform01(b1)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v, attempt


@njit(cache=True)
def _slow_unit(kind, param, word, k0, k1, c0, c1, c2):
    """The kinds that may reject: truncated normal (kind 2) and Student t (kind 5)."""
    if kind == 2:
        attempt = np.uint64(1 << 32)
        z = normal(word, k0, k1, c0, c1, c2)
        while abs(z) > 2.0:
            b0, b1, b2, b3 = philox(k0, k1, c0, c1, c2, attempt)
            attempt += _ONE
            z = normal(b0, k0, k1, c0, c1 ^ np.uint64(1 << 41), c2 ^ attempt)
        return z / 0.8796256610342398  # the std of N(0,1) cut at ±2 (inits._truncation)
    # Student t(ν) = Z / sqrt(2G/ν), G ~ Gamma(ν/2); Gamma(a) for a < 1 by Gamma(a+1) U^(1/a).
    nu = param
    z = normal(word, k0, k1, c0, c1, c2)
    shape = 0.5 * nu
    g, attempt = _gamma(shape + 1.0 if shape < 1.0 else shape, k0, k1, c0, c1, c2, np.uint64(1 << 33))
    if shape < 1.0:
        b0, b1, b2, b3 = philox(k0, k1, c0, c1, c2, attempt)
        g *= uniform01(b0) ** (1.0 / shape)
    return z / math.sqrt(2.0 * g / nu) * math.sqrt((nu - 2.0) / nu)


@njit(cache=True, inline="always")
def unit_draw(kind, param, word, k0, k1, c0, c1, c2):
    """A zero-mean, unit-variance draw of init ``kind`` (KIND_CODES) from ``word`` at counter (c0, c1, c2, 0)."""
    if kind == 0:
        return normal(word, k0, k1, c0, c1, c2)
    if kind == 1:
        return math.sqrt(3.0) * (2.0 * uniform01(word) - 1.0)
    if kind == 3:  # Laplace(0, 1/√2) by inverse CDF, the sign from the lowest bit
        e = -math.log(uniform01(word)) / math.sqrt(2.0)
        return e if word & _ONE else -e
    if kind == 4:
        return 1.0 if word & _ONE else -1.0
    return _slow_unit(kind, param, word, k0, k1, c0, c1, c2)
