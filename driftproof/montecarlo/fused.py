# Source of the activation-dependent counter kernels, compiled inside the generated modules
# (driftproof.compiled), after the definition of activate_n(code, p, h, d, n) they call: an
# activation is known only at run time, and Numba caches only kernels whose callees are fixed.
# Every kernel takes the activation's code first (its branch in the module of the built-ins).
# Never imported as a module of the package. Small kernels, arithmetic only (STYLE.md); the
# activation-free ones live in driftproof.montecarlo.network.
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

from driftproof.montecarlo.network import backward_layer, dot, layer_sums, output_delta, output_layer  # noqa: E402
from driftproof.montecarlo.projected import output_parts, project_backward, project_forward  # noqa: E402
from driftproof.montecarlo.streams import label, normal_vector, weight_row  # noqa: E402


@njit(cache=True)
def _forward_layer(activation, init, stds, seed, sample, layer, fan_in, h_in, w, p, h_out, d, bits):
    """p = W^layer h_in row by row, h_out = σ(p), d = σ'(p). Row j is generated into w[j] when w has a
    row per unit (kept for the backward pass), else into w[0]."""
    kind, param, shift, centered = init
    for j in range(p.shape[0]):
        r = w[j % w.shape[0], :fan_in]
        weight_row(kind, param, stds[layer - 1], shift, centered, seed, layer, sample, j, r, bits)
        p[j] = dot(r, h_in, fan_in)
    activate_n(activation, p, h_out, d, p.shape[0])  # noqa: F821 - defined by the generated module


@njit(cache=True)
def _forward(activation, init, stds, seed, sample, first, depth, width, d_in, keep, h, p, d, row, W, bits):
    """Hidden layers first..depth of one sample (first = 1: the input drawn too, else h[first-1] given);
    W (depth-1, width, width) keeps W^2..W^L when ``keep``."""
    if first == 1:
        normal_vector(seed, sample, h[0, :d_in], bits)
        # W^1: forward only
        _forward_layer(activation, init, stds, seed, sample, 1, d_in, h[0], row, p[0], h[1], d[0], bits)
        first = 2
    for layer in range(first, depth + 1):
        w = W[layer - 2] if keep else row
        _forward_layer(activation, init, stds, seed, sample, layer, width, h[layer - 1], w, p[layer - 1], h[layer],
                       d[layer - 1], bits)


@njit(cache=True)
def _sample_into(activation, init, stds, seed, sample, depth, width, d_in, classes, code, scale, split, keep, h, p, d,
                 V, zg, row, delta, update, out, W, bits):
    """One sample of the naive (or cv, ``split``) estimator forward and backward; writes out (depth, 4).

    h (depth+1, max(width, d_in)), p, d (depth, width), V (K, width), zg (2, K), row (max(width, d_in), top),
    delta, update (2, width); W (depth-1, width, width) holds this sample's W^2..W^L when ``keep``, else
    they are generated again from the same counters for the backward pass (``row`` holds one row at a time);
    bits (CHUNK,) uint32 is the generator's scratch.
    """
    _forward(activation, init, stds, seed, sample, 1, depth, width, d_in, keep, h, p, d, row, W, bits)
    y = output_layer(init, stds[depth], seed, sample, depth, classes, h[depth], V, zg, bits)
    output_delta(code, scale, split, y, d[depth - 1], V, zg, delta)
    parts = 2 if split else 1
    for layer in range(depth, 0, -1):
        layer_sums(delta, p[layer - 1], out[layer - 1])
        if layer > 1:
            # δ^{l-1} = σ'(p^{l-1}) ⊙ (W^l)ᵀ δ^l, row by row of W^l (kept, or generated again)
            backward_layer(init, stds[layer - 1], seed, sample, layer, parts, keep, W[layer - 2 if keep else 0],
                           row[0], d[layer - 2], delta, update, bits)


@njit(cache=True)
def _conditional_into(activation, init, stds, seed, sample, start, depth, width, classes, code, scale, split, keep, h,
                      p, d, V, zg, row, delta, update, W, bits, out_pred, out_label):
    """One sample of the conditional naive (or cv) estimator at hidden layer ``start`` < depth: h[start] and
    d[start-1] hold the fixed h^start and σ'(p^start); W^{start+1}..W^L, V and the label are generated.
    Writes δ^start's two parts (prediction, label) into out_pred, out_label (width,)."""
    _forward(activation, init, stds, seed, sample, start + 1, depth, width, width, keep, h, p, d, row, W, bits)
    y = output_layer(init, stds[depth], seed, sample, depth, classes, h[depth], V, zg, bits)
    output_delta(code, scale, split, y, d[depth - 1], V, zg, delta)
    parts = 2 if split else 1
    for layer in range(depth, start, -1):
        backward_layer(init, stds[layer - 1], seed, sample, layer, parts, keep, W[layer - 2 if keep else 0], row[0],
                       d[layer - 2], delta, update, bits)
    for i in range(width):
        out_pred[i] = delta[0, i]
        out_label[i] = delta[1, i]


@njit(cache=True, parallel=True)
def conditional_counter(activation, init, stds, seed, start_layer, depth, width, classes, code, scale, split, keep,
                        start, h, p, d, V, zg, row, delta, update, W, bits, out_pred, out_label):
    """Per-sample δ^l (l = start_layer < depth) given p^l, for samples start, start+1, ...: out_pred, out_label
    (S, width); scratch with one leading entry per chunk as :func:`network_counter`."""
    chunks = h.shape[0]
    samples = out_pred.shape[0]
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            _conditional_into(activation, init, stds, seed, start + s, start_layer, depth, width, classes, code,
                              scale, split, keep, h[c], p[c], d[c], V[c], zg[c], row[c], delta[c], update[c], W[c],
                              bits[c], out_pred[s], out_label[s])


@njit(cache=True, parallel=True)
def network_counter(activation, init, stds, seed, depth, width, d_in, classes, code, scale, split, keep, start, h, p,
                    d, V, zg, row, delta, update, W, bits, out):
    """Per-layer sums of the samples start, start+1, ...: out (S, depth, 4) = Σ δ 1{p>0} (method),
    Σ δ 1{p>0} (naive), Σ 1{p>0}, Σ δ (method). Scratch arrays have one leading entry per chunk;
    chunk c computes samples c, c + C, ...: the numbers do not depend on C or on the threads."""
    chunks = h.shape[0]
    samples = out.shape[0]
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            _sample_into(activation, init, stds, seed, start + s, depth, width, d_in, classes, code, scale, split,
                         keep, h[c], p[c], d[c], V[c], zg[c], row[c], delta[c], update[c], out[s], W[c], bits[c])


# The projected sampler (driftproof.montecarlo.projected): the same estimators for the Gaussian inits,
# drawing p = W h and Wᵀδ in law, O(width) normals per layer instead of O(width²).


@njit(cache=True)
def _forward_projected(activation, init, stds, seed, sample, first, depth, width, d_in, h, p, d, bits):
    """Hidden layers first..depth of one sample in law (first = 1: the input drawn too, else h[first-1] given)."""
    kind, param, shift, centered = init
    if first == 1:
        normal_vector(seed, sample, h[0, :d_in], bits)
    for layer in range(first, depth + 1):
        fan_in = d_in if layer == 1 else width
        project_forward(stds[layer - 1], shift, centered, seed, sample, layer, h[layer - 1], fan_in, p[layer - 1], bits)
        activate_n(activation, p[layer - 1], h[layer], d[layer - 1], width)  # noqa: F821 - generated module


@njit(cache=True)
def _backward_projected(activation, init, stds, seed, sample, stop, depth, width, classes, code, scale, split, h, p,
                        d, z, u, delta, update, xi, bits, out):
    """The readout and the backward pass of one sample in law, down to δ^stop in delta; with ``out``
    (depth, 4) non-empty, the layer sums of every layer on the way (marginal mode)."""
    kind, param, shift, centered = init
    project_forward(stds[depth], shift, centered, seed, sample, depth + 1, h[depth], width, z, bits)
    parts = output_parts(code, scale, split, label(seed, sample, classes), z, u)
    project_backward(stds[depth], shift, centered, seed, sample, depth + 1, h[depth], width, z, parts, u,
                     d[depth - 1], delta, xi, bits)
    if parts == 1:
        for i in range(width):
            delta[1, i] = 0.0
    for layer in range(depth, stop - 1, -1):
        if out.shape[0]:
            layer_sums(delta, p[layer - 1], out[layer - 1])
        if layer > stop:
            # δ^{l-1} = σ'(p^{l-1}) ⊙ (W^l)ᵀ δ^l in law, given h^{l-1} and p^l
            project_backward(stds[layer - 1], shift, centered, seed, sample, layer, h[layer - 1], width, p[layer - 1],
                             parts, delta, d[layer - 2], update, xi, bits)
            for m in range(parts):
                for i in range(width):
                    delta[m, i] = update[m, i]


@njit(cache=True, parallel=True)
def network_projected(activation, init, stds, seed, depth, width, d_in, classes, code, scale, split, start, h, p, d,
                      z, u, delta, update, xi, bits, out):
    """:func:`network_counter` for the Gaussian inits by the projected sampler: out (S, depth, 4) as there.
    Scratch, one leading entry per chunk: h (depth+1, max(width, d_in)), p, d (depth, width), z (K,), u (2, K),
    delta, update, xi (2, width), bits (CHUNK,); chunk c computes samples c, c + C, ..."""
    chunks = h.shape[0]
    samples = out.shape[0]
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            sample = start + s
            _forward_projected(activation, init, stds, seed, sample, 1, depth, width, d_in, h[c], p[c], d[c], bits[c])
            _backward_projected(activation, init, stds, seed, sample, 1, depth, width, classes, code, scale, split,
                                h[c], p[c], d[c], z[c], u[c], delta[c], update[c], xi[c], bits[c], out[s])


@njit(cache=True, parallel=True)
def conditional_projected(activation, init, stds, seed, start_layer, depth, width, classes, code, scale, split, start,
                          h, p, d, z, u, delta, update, xi, bits, out_pred, out_label):
    """:func:`conditional_counter` for the Gaussian inits by the projected sampler: h[c, start_layer] and
    d[c, start_layer-1] hold the fixed h^l and σ'(p^l); writes δ^l's parts into out_pred, out_label (S, width)."""
    chunks = h.shape[0]
    samples = out_pred.shape[0]
    nothing = np.empty((0, 4))  # no layer sums in conditional mode
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            sample = start + s
            _forward_projected(activation, init, stds, seed, sample, start_layer + 1, depth, width, width, h[c], p[c],
                               d[c], bits[c])
            _backward_projected(activation, init, stds, seed, sample, start_layer, depth, width, classes, code, scale,
                                split, h[c], p[c], d[c], z[c], u[c], delta[c], update[c], xi[c], bits[c], nothing)
            for i in range(width):
                out_pred[s, i] = delta[c, 0, i]
                out_label[s, i] = delta[c, 1, i]
