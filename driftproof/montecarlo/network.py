"""The activation-free pieces of the counter-based network kernel (``fused.py`` calls them): arithmetic
only, on one sample, into scratch arrays the wrapper allocated (STYLE.md).

Dot products may be reassociated (``fastmath``) so that they vectorize: the order is fixed by the
compiled code, not by the threads or the batch, so results stay a function of the seed alone.
"""

from __future__ import annotations

import math

from numba import njit

from .streams import label, weight_row

__all__ = ["dot", "output_layer", "output_delta", "layer_sums", "backward_layer", "MSE", "CE"]

MSE, CE = 0, 1
_FAST = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FAST)
def dot(a, b, n):
    """Σ_{i<n} a_i b_i."""
    acc = 0.0
    for i in range(n):
        acc += a[i] * b[i]
    return acc


@njit(cache=True, fastmath=_FAST)
def axpy(a, x, y, n):
    """y[:n] += a x[:n]."""
    for i in range(n):
        y[i] += a * x[i]


@njit(cache=True)
def _gradient(code, scale, z, g):
    """∂ℓ/∂z without the label term into g (softmax for CE, scale * z for MSE); returns the label term's scale."""
    classes = z.shape[0]
    if code == CE:
        top = z[0]
        for k in range(1, classes):
            top = max(top, z[k])
        total = 0.0
        for k in range(classes):
            g[k] = math.exp(z[k] - top)
            total += g[k]
        for k in range(classes):
            g[k] /= total
        return 1.0
    for k in range(classes):
        g[k] = scale * z[k]
    return scale


@njit(cache=True)
def output_layer(init, std, seed, sample, depth, classes, h, V, zg, bits):
    """V generated and the logits z = V h into zg[0]; returns the sample's label. ``bits``: generator scratch."""
    kind, param, shift, centered = init
    width = V.shape[1]
    for k in range(classes):
        weight_row(kind, param, std, shift, centered, seed, depth + 1, sample, k, V[k], bits)
        zg[0, k] = dot(V[k], h, width)
    return label(seed, sample, classes)


@njit(cache=True)
def output_delta(code, scale, split, y, d, V, zg, delta):
    """δ^L: prediction part σ'(p) Vᵀg in delta[0], label part -c σ'(p) V_y in delta[1]; without ``split``
    their sum (the naive δ) in delta[0] and 0 in delta[1]."""
    g = zg[1]
    label_scale = _gradient(code, scale, zg[0], g)
    width = V.shape[1]
    for i in range(width):
        acc = 0.0
        for k in range(V.shape[0]):
            acc += V[k, i] * g[k]
        delta[0, i] = d[i] * acc
        delta[1, i] = -label_scale * d[i] * V[y, i]
    if not split:  # the naive δ in part 0, half the backward work
        for i in range(width):
            delta[0, i] += delta[1, i]
            delta[1, i] = 0.0


@njit(cache=True)
def layer_sums(delta, p, out):
    """out = (Σ δ 1{p>0} (part 0), Σ δ 1{p>0} (both parts), Σ 1{p>0}, Σ δ (part 0)) over the layer's units."""
    value, naive, count, total = 0.0, 0.0, 0.0, 0.0
    for i in range(p.shape[0]):
        part = delta[0, i]
        total += part
        if p[i] > 0:
            value += part
            naive += part + delta[1, i]
            count += 1.0
    out[0], out[1], out[2], out[3] = value, naive, count, total


@njit(cache=True)
def backward_layer(init, std, seed, sample, layer, parts, keep, W, row, d, delta, update, bits):
    """delta[m] <- d ⊙ (W^layer)ᵀ delta[m] for m < parts; rows of W^layer from W (kept) or generated into row
    (``bits``: generator scratch)."""
    kind, param, shift, centered = init
    width = delta.shape[1]
    for m in range(parts):
        for i in range(width):
            update[m, i] = 0.0
    for j in range(width):
        if keep:
            w = W[j]
        else:
            w = row[:width]
            weight_row(kind, param, std, shift, centered, seed, layer, sample, j, w, bits)
        for m in range(parts):
            axpy(delta[m, j], w, update[m], width)
    for m in range(parts):
        for i in range(width):
            delta[m, i] = d[i] * update[m, i]
