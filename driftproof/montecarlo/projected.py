"""Drawing what the network sees, not every weight: O(width) normals per layer for Gaussian inits.

**The decomposition.** Let G (N × n) have i.i.d. N(0, 1) entries and h ∈ Rⁿ be fixed, h ≠ 0, with
P_h = h hᵀ/|h|². Then G = (G h) hᵀ/|h|² + G (I − P_h), and the two terms are independent: each row g_j
is N(0, I_n), and Cov(g_j·h, g_j (I − P_h)) = hᵀ(I − P_h) = 0 for jointly Gaussian quantities. Hence
G h ~ N(0, |h|² I_N), and for any D (N × m) independent of G (I − P_h),
  Gᵀ D = h (G h)ᵀ D / |h|² + (I − P_h) G'ᵀ D,   with G' an independent copy of G,
because (I − P_h) Gᵀ = (G (I − P_h))ᵀ has the law of (G' (I − P_h))ᵀ and is independent of (G h, D).
Given D, the rows of G'ᵀ D are i.i.d. N(0, DᵀD): G'ᵀ D = Ξ Lᵀ in law, with Ξ (n × m) i.i.d. N(0, 1)
and L L ᵀ = DᵀD (Cholesky; m ≤ 2 here: the prediction and label parts of δ). If h = 0, G h = 0 and
Gᵀ D = G'ᵀ D in law (P_h = 0). So one forward use (G h) and one backward use (Gᵀ D) of a Gaussian
matrix need N + n·m normals, not N·n.

**The three Gaussian inits** (inits.py; s the layer's std):
- ``normal``: W = s G. p = W h = s |h| ζ, ζ ~ N(0, I_N); Wᵀδ = h (p·δ)/|h|² + s (I − P_h) Ξ Lᵀ.
- ``shifted``: W = μ 1 1ᵀ + s G. p = μ (Σh) 1 + s |h| ζ; with q = p − μ (Σh) 1 = s G h,
  Wᵀδ = μ (Σδ) 1 + h (q·δ)/|h|² + s (I − P_h) Ξ Lᵀ. The mean is a fixed matrix: it adds, it is not drawn.
- ``centered``: rows shifted to sum to 0 and rescaled, W = c G C with C = I − 1 1ᵀ/n, c = s √(n/(n−1)).
  With h̃ = C h: p = c G h̃ = c |h̃| ζ, and Wᵀδ = c C Gᵀδ = h̃ (p·δ)/|h̃|² + c C (I − P_h̃) Ξ Lᵀ;
  as h̃ ⊥ 1, C (I − P_h̃) projects off both 1 and h̃.
One formula covers all three: with h̃ = h (C h when centered), c = s (s √(n/(n−1)) when centered),
q = p − μ (Σh) 1 and Π the projection off h̃ (and 1 when centered),
  p = μ (Σh) 1 + c |h̃| ζ,   Wᵀδ = μ (Σδ) 1 + h̃ (q·δ)/|h̃|² + c Π Ξ Lᵀ.

**Why the whole estimator is exact in distribution.** In the network (DESIGN.md §1) each weight
matrix is read exactly twice: Wˡ in the forward pass, only through pˡ = Wˡ hˡ⁻¹, and in the backward
pass, only through (Wˡ)ᵀ δˡ (δˡ⁻¹ = σ'(pˡ⁻¹) ⊙ (Wˡ)ᵀ δˡ; W¹ is never read backward, as δ⁰ is not
estimated). The readout V is the same: z = V hᴸ forward, and Vᵀ u backward with u = g(z) − c e_y
(cv: the two parts u₀ = g(z), u₁ = −c e_y, so m = 2). Nothing else reads a weight: the layer sums
read p and δ only. Induct forward: given hˡ⁻¹ (a function of x and W¹..Wˡ⁻¹), pˡ has the law above,
independent of the past, and the rest of the forward pass (hence every p, z and y) reads Wˡ through
pˡ alone. Then backward: δˡ is a function of p^{≥l}, W^{>l}, V and y, all independent of
Wˡ(I − P_h) given (hˡ⁻¹, pˡ); so (Wˡ)ᵀ δˡ given everything else computed so far has the law above, and
its fresh Ξ is independent of everything drawn before. Each layer's (ζ, Ξ) come from their own counters,
so the joint law of (x, all p, z, y, all δ) is the weight-level network's, exactly: any statistic of
them (the marginal layer sums, the conditional δ rows) has the same distribution. The conditional
estimators start the same induction from the fixed hˡ.

What this does not give: the weights themselves (antithetic reflects single entries of V, so it stays
on the weight-level kernel), or laws that are not Gaussian (uniform, Laplace, Student t, ...: their
G h is not independent of G (I − P_h)), which keep the weight-level kernel of :mod:`.kernels` and
:mod:`.fused`, the independent reference the tests compare against.

Counters (:mod:`.streams`): ζ of layer l is row 0 of purpose FORWARD, the m-th column of Ξ is row m of
purpose BACKWARD, both keyed by (seed, purpose, sample, layer, position): results depend on the seed alone.

Kernel helpers only: arithmetic into arrays the wrapper allocated (STYLE.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .network import _gradient
from .normals import normal_row
from .streams import BACKWARD, FORWARD, label

__all__ = ["PROJECTED_INITS", "project_forward", "project_backward", "output_parts", "last_layer_projected"]

PROJECTED_INITS = ("normal", "shifted", "centered")  # the jointly Gaussian inits (Init.gaussian)
_FAST = {"reassoc", "contract"}


@njit(cache=True, inline="always")
def _tag(layer, purpose):
    return np.uint64(16 * layer + purpose)


@njit(cache=True, fastmath=_FAST)
def _input_stats(std, centered, h, n):
    """(Σh, mean removed (0 unless centered), |h̃|², c) of the layer's input h[:n]."""
    total = 0.0
    for i in range(n):
        total += h[i]
    mean = total / n if centered else 0.0
    square = 0.0
    for i in range(n):
        v = h[i] - mean
        square += v * v
    scale = std * math.sqrt(n / (n - 1.0)) if centered else std
    return total, mean, square, scale


@njit(cache=True)
def project_forward(std, shift, centered, seed, sample, layer, h, n, p, bits):
    """p = W h in law for the Gaussian W of ``layer`` (p.shape[0] rows, fan-in n, input h[:n]):
    μ (Σh) 1 + c |h̃| ζ, ζ the FORWARD row of (seed, sample, layer). ``bits``: generator scratch."""
    total, mean, square, scale = _input_stats(std, centered, h, n)
    normal_row(seed, _tag(layer, FORWARD), sample, np.int64(0), scale * math.sqrt(square), shift * total, p, bits)


@njit(cache=True, fastmath=_FAST)
def project_backward(std, shift, centered, seed, sample, layer, h, n, p, parts, delta, d, out, xi, bits):
    """out[m, :n] = d ⊙ Wᵀ delta[m] in law, m < parts (≤ 2), given the input h[:n] and p = W h (p.shape[0]
    rows, delta[m, :p.shape[0]]): μ (Σδ) 1 + h̃ (q·δ)/|h̃|² + c Π Ξ Lᵀ (module docstring). xi (2, >= n) and
    ``bits`` are scratch; Ξ's columns are the BACKWARD rows 0, 1 of (seed, sample, layer)."""
    rows = p.shape[0]
    total, mean, square, scale = _input_stats(std, centered, h, n)
    offset = shift * total
    qd0, qd1, sd0, sd1, g00, g01, g11 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for j in range(rows):
        q = p[j] - offset
        a = delta[0, j]
        qd0 += q * a
        sd0 += a
        g00 += a * a
        if parts == 2:
            b = delta[1, j]
            qd1 += q * b
            sd1 += b
            g01 += a * b
            g11 += b * b
    tag = _tag(layer, BACKWARD)
    # Ξ Lᵀ with L the Cholesky factor of the Gram matrix of the parts: e0 = l00 ξ0, e1 = l10 ξ0 + l11 ξ1.
    l00 = math.sqrt(g00)
    normal_row(seed, tag, sample, np.int64(0), 1.0, 0.0, xi[0, :n], bits)
    if parts == 2:
        l10 = g01 / l00 if l00 > 0.0 else 0.0
        l11 = math.sqrt(max(g11 - l10 * l10, 0.0))
        normal_row(seed, tag, sample, np.int64(1), 1.0, 0.0, xi[1, :n], bits)
        for i in range(n):
            xi[1, i] = l10 * xi[0, i] + l11 * xi[1, i]
    for i in range(n):
        xi[0, i] *= l00
    for m in range(parts):
        e = xi[m]
        if centered:  # project off 1
            centre = 0.0
            for i in range(n):
                centre += e[i]
            centre /= n
            for i in range(n):
                e[i] -= centre
        along = 0.0
        if square > 0.0:  # project off h̃
            for i in range(n):
                along += (h[i] - mean) * e[i]
            along /= square
        readout = (qd0 if m == 0 else qd1) / square if square > 0.0 else 0.0
        mean_part = shift * (sd0 if m == 0 else sd1)
        for i in range(n):
            v = h[i] - mean
            out[m, i] = d[i] * (v * (readout - scale * along) + scale * e[i] + mean_part)


@njit(cache=True)
def output_parts(code, scale, split, y, z, u):
    """The output gradient's parts as rows of u (2, K): split: u[0] = g(z), u[1] = -c e_y; else
    u[0] = g(z) - c e_y (the naive whole) and u[1] = 0. Returns the number of parts (2 or 1)."""
    classes = z.shape[0]
    label_scale = _gradient(code, scale, z, u[0])
    for k in range(classes):
        u[1, k] = 0.0
    if split:
        u[1, y] = -label_scale
        return 2
    u[0, y] -= label_scale
    return 1


@njit(cache=True, parallel=True)
def last_layer_projected(std, shift, centered, seed, layer, h, dphi, code, scale, split, start, z, u, out, xi, bits,
                         out_pred, out_label):
    """The conditional naive (``split`` False) and cv estimators at the last hidden layer: z = V h and
    δ = σ'(p) ⊙ Vᵀ(g(z) - c e_y) in law from K + (1 or 2) N normals per sample (V is layer ``layer``).

    Scratch per chunk: z (C, K), u (C, 2, K), out, xi (C, 2, N), bits (C, CHUNK); chunk c computes samples
    c, c + C, ..., so the numbers do not depend on C or on the threads. Writes out_pred, out_label (S, N);
    without ``split`` out_pred is the naive δ and out_label 0.
    """
    chunks, classes = z.shape
    samples, width = out_pred.shape
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            sample = start + s
            project_forward(std, shift, centered, seed, sample, layer, h, width, z[c], bits[c])
            parts = output_parts(code, scale, split, label(seed, sample, classes), z[c], u[c])
            project_backward(std, shift, centered, seed, sample, layer, h, width, z[c], parts, u[c], dphi, out[c],
                             xi[c], bits[c])
            for i in range(width):
                out_pred[s, i] = out[c, 0, i]
                out_label[s, i] = out[c, 1, i] if parts == 2 else 0.0
