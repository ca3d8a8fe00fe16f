"""Numba kernels that do not depend on the activation: arithmetic only.

Each kernel loops over samples with ``prange`` and writes one row per sample into an
array the wrapper allocated, so results do not depend on the number of threads (DESIGN.md §4).
Two families: the reference kernels take weights the wrapper drew with numpy (:mod:`.draws`);
the ``*_counter`` kernels generate them in cache from Philox counters (:mod:`.streams`).
The activation-dependent kernel is generated per activation by :mod:`driftproof.compiled`.

The kernels alternate with numpy drawing random numbers on a thread pool: OpenMP threads that
keep spinning after a parallel region steal the cores the drawing needs, so the command line
sets ``OMP_WAIT_POLICY=PASSIVE`` before the first parallel kernel starts the runtime.

Loss codes: 0 = squared error with gradient ``scale * (z - y)``; 1 = cross-entropy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .streams import label, logit_vector, weight_row

__all__ = ["MSE", "CE", "last_layer", "last_layer_antithetic", "last_layer_counter", "curvature", "curvature_counter",
           "forward_linear",
           "output_gradient", "backward"]

MSE, CE = 0, 1


@njit(cache=True, inline="always")
def _softmax_into(z, out):
    top = z[0]
    for k in range(1, z.shape[0]):
        if z[k] > top:
            top = z[k]
    total = 0.0
    for k in range(z.shape[0]):
        out[k] = math.exp(z[k] - top)
        total += out[k]
    for k in range(z.shape[0]):
        out[k] /= total


@njit(cache=True)
def _last_layer_one(V, h, dphi, y, code, scale, z, g, out_pred, out_label):
    """One sample of ``last_layer``: V (K, N), label y; z, g scratch (K,); writes the rows out_pred, out_label."""
    classes, width = V.shape
    for k in range(classes):
        acc = 0.0
        for i in range(width):
            acc += V[k, i] * h[i]
        z[k] = acc
    if code == CE:
        _softmax_into(z, g)
        label_scale = 1.0
    else:
        for k in range(classes):
            g[k] = scale * z[k]
        label_scale = scale
    for i in range(width):
        acc = 0.0
        for k in range(classes):
            acc += V[k, i] * g[k]
        out_pred[i] = dphi[i] * acc
        out_label[i] = -label_scale * dphi[i] * V[y, i]


@njit(cache=True)
def _log_odds_into(z):
    """z_k <- z_k - log sum_{j != k} exp(z_j) (the log-odds of softmax(z)_k), each rest by its own maximum."""
    classes = z.shape[0]
    rest = np.empty(classes)
    for k in range(classes):
        top = -math.inf
        for j in range(classes):
            if j != k and z[j] > top:
                top = z[j]
        total = 0.0
        for j in range(classes):
            if j != k:
                total += math.exp(z[j] - top)
        rest[k] = top + math.log(total)
    for k in range(classes):
        z[k] -= rest[k]


@njit(cache=True)
def _antithetic_one(V, h, dphi, center, code, scale, z, pi, out):
    """One sample of ``last_layer_antithetic``: V (K, N); z, pi scratch (K,); writes the row ``out``."""
    classes, width = V.shape
    label_scale = 1.0 if code == CE else scale
    for k in range(classes):
        acc = 0.0
        for i in range(width):
            acc += V[k, i] * h[i]
        z[k] = acc
    if code == CE:
        _softmax_into(z, pi)
        _log_odds_into(z)  # z_k becomes log(pi_k / (1 - pi_k)), from the logits
    for i in range(width):
        acc = 0.0
        for k in range(classes):
            v = V[k, i]
            reflected = 2.0 * center - v
            move = (reflected - v) * h[i]
            if code == CE:
                # softmax after z_k -> z_k + move changes only the k-th exponential: the moved pi_k is
                # sigmoid(log-odds_k + move). Log-odds from the logits stay finite where pi_k rounds
                # to 0 or 1 (x**5: a saturated class moved far down must give ~0, not 1 or 0/0).
                odds = z[k] + move
                moved = 1.0 / (1.0 + math.exp(-odds)) if odds >= 0 else math.exp(odds) / (1.0 + math.exp(odds))
                acc += 0.5 * (v * pi[k] + reflected * moved)
            else:
                acc += 0.5 * scale * (v * z[k] + reflected * (z[k] + move))
        out[i] = dphi[i] * (acc - label_scale * center)


@njit(cache=True, parallel=True)
def last_layer(h, dphi, V, labels, code, scale, out_pred, out_label):
    """δ_i = σ'(p_i) Σ_k V_ki g_k at the last hidden layer, split into prediction and label parts.

    Args: h, dphi (N,) fixed; V (S, K, N) sampled; labels (S,). Writes out_pred, out_label (S, N)
    with δ = out_pred + out_label; out_label = -c σ'(p_i) V_{y,i} has mean 0 for zero-mean V.
    """
    samples, classes, width = V.shape
    for s in prange(samples):
        z = np.empty(classes)
        g = np.empty(classes)
        _last_layer_one(V[s], h, dphi, labels[s], code, scale, z, g, out_pred[s], out_label[s])


@njit(cache=True, parallel=True)
def last_layer_antithetic(h, dphi, V, center, code, scale, out):
    """The antithetic estimator: δ_i averaged over V and V with V_ki reflected about ``center``, for each k.

    Unbiased when D is symmetric about its mean ``center`` (μ) and the entries are independent:
    the reflection V'_ki = 2μ - V_ki keeps the joint law and moves z_k by Δ = 2(μ - V_ki) h_i
    only. The label part averages to -c μ σ'(p_i) exactly (Σ_k y_k = 1), so no labels are
    drawn. With μ = 0 each sample is σ'(p_i)/2 Σ_k V_ki (g_k(z) - g_k(z - 2 V_ki h_i)): by the
    monotonicity of g_k in z_k (R3) every sample has the sign of σ'(p_i) h_i.
    """
    samples, classes, width = V.shape
    for s in prange(samples):
        z = np.empty(classes)
        pi = np.empty(classes)
        _antithetic_one(V[s], h, dphi, center, code, scale, z, pi, out[s])


@njit(cache=True, parallel=True)
def last_layer_counter(kind, param, std, shift, centered, seed, layer, h, dphi, code, scale, antithetic, start,
                       V, z, g, bits, out_pred, out_label):
    """``last_layer`` (or, with ``antithetic``, ``last_layer_antithetic`` into out_pred) with V and the
    labels generated in the kernel from the counters of samples start, start+1, ... (:mod:`.streams`).

    Scratch per chunk: V (C, K, N), z, g (C, K), bits (C, CHUNK) uint32; chunk c computes samples c, c + C,
    ..., so the numbers do not depend on C or on the threads.
    """
    chunks, classes = V.shape[0], V.shape[1]
    samples = out_pred.shape[0]
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            sample = start + s
            for k in range(classes):
                weight_row(kind, param, std, shift, centered, seed, layer, sample, k, V[c, k], bits[c])
            if antithetic:
                _antithetic_one(V[c], h, dphi, shift, code, scale, z[c], g[c], out_pred[s])
            else:
                _last_layer_one(V[c], h, dphi, label(seed, sample, classes), code, scale, z[c], g[c],
                                out_pred[s], out_label[s])


@njit(cache=True, parallel=True)
def curvature(z, out):
    """Σ_k π_k (1 - π_k) per sample of logits z (S, K): the R2 factor E[tr ∇²_z ℓ] for CE."""
    samples, classes = z.shape
    for s in prange(samples):
        pi = np.empty(classes)
        _softmax_into(z[s], pi)
        acc = 0.0
        for k in range(classes):
            acc += pi[k] * (1.0 - pi[k])
        out[s] = acc


@njit(cache=True, parallel=True)
def curvature_counter(seed, layer, mean, std, start, z, pi, bits, out):
    """``curvature`` of logits z = mean + std * N(0, I_K) generated in the kernel from the counters of
    samples start, start+1, ...; z, pi (C, K), bits (C, CHUNK) uint32 scratch per chunk, chunk c computes samples
    c, c + C, ..."""
    chunks, classes = z.shape
    samples = out.shape[0]
    for c in prange(chunks):
        for s in range(c, samples, chunks):
            logit_vector(seed, layer, start + s, z[c], bits[c])
            for k in range(classes):
                z[c, k] = mean + std * z[c, k]
            _softmax_into(z[c], pi[c])
            acc = 0.0
            for k in range(classes):
                acc += pi[c, k] * (1.0 - pi[c, k])
            out[s] = acc


@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def forward_linear(W, h, out):
    """out[s] = W[s] @ h[s] for W (S, n_out, n_in), h (S, n_in).

    Reassociation lets the dot product vectorize; the order is fixed by the code, not by the
    number of threads, so results stay reproducible.
    """
    samples, n_out, n_in = W.shape
    for s in prange(samples):
        for j in range(n_out):
            acc = 0.0
            for i in range(n_in):
                acc += W[s, j, i] * h[s, i]
            out[s, j] = acc


@njit(cache=True, parallel=True)
def output_gradient(z, labels, code, scale, out):
    """∂ℓ/∂z split in two: out[s, 0] the prediction part, out[s, 1] the label part (mean 0 downstream)."""
    samples, classes = z.shape
    for s in prange(samples):
        if code == CE:
            _softmax_into(z[s], out[s, 0])
            label_scale = 1.0
        else:
            for k in range(classes):
                out[s, 0, k] = scale * z[s, k]
            label_scale = scale
        for k in range(classes):
            out[s, 1, k] = 0.0
        out[s, 1, labels[s]] = -label_scale


@njit(cache=True, parallel=True)
def backward(W, delta, dphi, out):
    """out[s, m] = dphi[s] * (W[s]ᵀ delta[s, m]) for W (S, n_out, n_in), delta (S, M, n_out)."""
    samples, n_out, n_in = W.shape
    parts = delta.shape[1]
    for s in prange(samples):
        for m in range(parts):
            for i in range(n_in):
                out[s, m, i] = 0.0
        for j in range(n_out):
            # Row j of W is read from memory once and reused from cache for every part.
            for m in range(parts):
                d = delta[s, m, j]
                for i in range(n_in):
                    out[s, m, i] += W[s, j, i] * d
        for m in range(parts):
            for i in range(n_in):
                out[s, m, i] *= dphi[s, i]
