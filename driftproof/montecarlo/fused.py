# Source of the activation-dependent counter kernel, compiled inside the generated module of each
# activation (driftproof.compiled), after the definitions of act(x) and act_d(x) it calls: an
# activation is known only at run time, and Numba caches only kernels whose callees are fixed.
# Never imported as a module of the package.
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

from driftproof.montecarlo.streams import label, normal_vector, weight_row  # noqa: E402


@njit(cache=True)
def _sample_into(kind, param, shift, centered, stds, seed, sample, depth, width, d_in, classes, code, scale,
                 split, keep, h, p, d, V, zg, row, delta, update, out, W):
    """One sample of the naive (or cv, ``split``) estimator forward and backward; writes out (depth, 4).

    h (depth+1, max(width, d_in)), p, d (depth, width), V (K, width), zg (2, K), row (max(width, d_in),),
    delta, update (2, width); W (Σ fan_in fan_out) holds this sample's hidden weights when ``keep``,
    else they are generated again from the same counters for the backward pass.
    """
    normal_vector(seed, sample, h[0, :d_in])
    offset = 0
    for layer in range(1, depth + 1):
        fan_in = d_in if layer == 1 else width
        for j in range(width):
            w = W[offset + j * fan_in:offset + (j + 1) * fan_in] if keep else row[:fan_in]
            weight_row(kind, param, stds[layer - 1], shift, centered, seed, layer, sample, j, w)
            acc = 0.0
            for i in range(fan_in):
                acc += w[i] * h[layer - 1, i]
            p[layer - 1, j] = acc
            h[layer, j] = act(acc)  # noqa: F821 - defined by the generated module
            d[layer - 1, j] = act_d(acc)  # noqa: F821
        offset += width * fan_in
    z, g = zg[0], zg[1]
    for k in range(classes):
        weight_row(kind, param, stds[depth], shift, centered, seed, depth + 1, sample, k, V[k])
        acc = 0.0
        for i in range(width):
            acc += V[k, i] * h[depth, i]
        z[k] = acc
    if code == 1:  # cross-entropy: softmax
        top = z[0]
        for k in range(1, classes):
            top = max(top, z[k])
        total = 0.0
        for k in range(classes):
            g[k] = np.exp(z[k] - top)
            total += g[k]
        for k in range(classes):
            g[k] /= total
        label_scale = 1.0
    else:
        for k in range(classes):
            g[k] = scale * z[k]
        label_scale = scale
    y = label(seed, sample, classes)
    for i in range(width):
        acc = 0.0
        for k in range(classes):
            acc += V[k, i] * g[k]
        delta[0, i] = d[depth - 1, i] * acc
        delta[1, i] = -label_scale * d[depth - 1, i] * V[y, i]
    parts = 2 if split else 1
    if not split:  # the naive δ in part 0, half the backward work
        for i in range(width):
            delta[0, i] += delta[1, i]
            delta[1, i] = 0.0
    for layer in range(depth, 0, -1):
        value, naive, count, total = 0.0, 0.0, 0.0, 0.0
        for i in range(width):
            part = delta[0, i]
            both = delta[0, i] + delta[1, i]
            total += part
            if p[layer - 1, i] > 0:
                value += part
                naive += both
                count += 1.0
        out[layer - 1, 0], out[layer - 1, 1], out[layer - 1, 2], out[layer - 1, 3] = value, naive, count, total
        if layer == 1:
            break
        # δ^{l-1} = σ'(p^{l-1}) ⊙ (W^l)ᵀ δ^l, row by row of W^l (kept, or generated again)
        offset -= width * width
        for m in range(parts):
            for i in range(width):
                update[m, i] = 0.0
        for j in range(width):
            if keep:
                w = W[offset + j * width:offset + (j + 1) * width]
            else:
                w = row[:width]
                weight_row(kind, param, stds[layer - 1], shift, centered, seed, layer, sample, j, w)
            d0, d1 = delta[0, j], delta[1, j]
            if split:
                for i in range(width):
                    update[0, i] += w[i] * d0
                    update[1, i] += w[i] * d1
            else:
                for i in range(width):
                    update[0, i] += w[i] * d0
        for m in range(parts):
            for i in range(width):
                delta[m, i] = d[layer - 2, i] * update[m, i]


@njit(cache=True, parallel=True)
def network_counter(kind, param, shift, centered, stds, seed, depth, width, d_in, classes, code, scale, split, keep,
                    start, h, p, d, V, zg, row, delta, update, W, out):
    """Per-layer sums of the samples start, start+1, ...: out (S, depth, 4) = Σ δ 1{p>0} (method),
    Σ δ 1{p>0} (naive), Σ 1{p>0}, Σ δ (method). Scratch arrays have one leading entry per chunk;
    chunk c computes samples c, c + C, ...: the numbers do not depend on C or on the threads."""
    chunks = h.shape[0]
    samples = out.shape[0]
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            _sample_into(kind, param, shift, centered, stds, seed, start + s, depth, width, d_in, classes, code,
                         scale, split, keep, h[c], p[c], d[c], V[c], zg[c], row[c], delta[c], update[c], out[s], W[c])
