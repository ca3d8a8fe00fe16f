"""Kernels against an independent numpy oracle (forward, backward by the loss registry's gradient)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from driftproof.config import Config
from driftproof.montecarlo import kernels
from driftproof.compiled import activation_kernels, kernel_source
from driftproof.montecarlo.reference import Antithetic, LastLayer
from driftproof.montecarlo.samplers import Network
from driftproof.montecarlo.draws import draw_inputs, draw_labels, draw_weights

ROOT = Path(__file__).resolve().parents[2]


def _numpy_network(config, batch, size):
    """The same sampled networks, forward and backward in plain numpy: δ^l per layer (S, N)."""
    act, seed = config.activation, config.seed
    h = draw_inputs(config, seed, batch, size)
    weights, ps, dphis = [], [], []
    for layer in range(1, config.depth + 2):
        W = draw_weights(config, seed, batch, layer, size)
        weights.append(W)
        p = np.einsum("soi,si->so", W, h)
        if layer == config.depth + 1:
            break
        ps.append(p)
        dphis.append(act.numpy_derivative(p))
        h = act.numpy(p)
    g = config.loss_fn.grad(p, draw_labels(config, seed, batch, size))
    deltas = {}
    for layer in range(config.depth, 0, -1):
        g = dphis[layer - 1] * np.einsum("soi,so->si", weights[layer], g)
        deltas[layer] = g
    return deltas


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("loss,act", [("ce", "gelu"), ("mse", "relu"), ("mse_mean", "tanh")])
def test_network_matches_numpy(loss, act, split):
    config = Config(loss=loss, act=act, width=12, depth=3, classes=5, input_dim=7, seed=2)
    deltas, _ = Network(config, 0, split=split).draw(3, 20)
    oracle = _numpy_network(config, 3, 20)
    for layer in range(1, 4):
        assert deltas[layer].shape[1] == (2 if split else 1)
        np.testing.assert_allclose(deltas[layer].sum(axis=1), oracle[layer], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_last_layer_matches_numpy(loss):
    config = Config(loss=loss, act="silu", width=10, classes=4, seed=4)
    rng = np.random.default_rng(0)
    p = rng.standard_normal(10)
    h, d = config.activation.numpy(p), config.activation.numpy_derivative(p)
    pred, naive = LastLayer(config, h, d, "cv").draw(0, 30)
    V = draw_weights(config, config.seed, 0, 2, 30)
    y = draw_labels(config, config.seed, 0, 30)
    g = config.loss_fn.grad(np.einsum("skn,n->sk", V, h), y)
    np.testing.assert_allclose(naive, d * np.einsum("skn,sk->sn", V, g), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("init", ["normal", "shifted(mean=0.3)"])
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_antithetic_is_the_average_over_reflections(loss, init):
    # Oracle: for each (k, i), recompute δ_i (labels included) with V_ki reflected about the mean
    # and average; for any one-hot label the label part is -c μ σ'(p_i), as the kernel uses.
    config = Config(loss=loss, act="gelu", width=6, classes=3, seed=9, init=init)
    mu = config.init_dist.mean_shift
    p = np.linspace(-1, 2, 6)
    h, d = config.activation.numpy(p), config.activation.numpy_derivative(p)
    got, _ = Antithetic(config, h, d, "antithetic").draw(0, 4)
    V = draw_weights(config, config.seed, 0, 2, 4)
    expected = np.zeros((4, 6))
    for s in range(4):
        y = np.array([s % 3])
        for i in range(6):
            for k in range(3):
                reflected = V[s].copy()
                reflected[k, i] = 2 * mu - reflected[k, i]
                g0 = config.loss_fn.grad((V[s] @ h)[None], y)[0]
                g1 = config.loss_fn.grad((reflected @ h)[None], y)[0]
                expected[s, i] += 0.5 * d[i] * (V[s, k, i] * g0[k] + reflected[k, i] * g1[k])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("init", ["normal", "rademacher", "shifted(mean=0.3)"])
@pytest.mark.parametrize("loss", ["ce", "mse", "mse_mean"])
def test_numpy_reference_matches_the_numba_kernels_on_the_same_draws(loss, init):
    """The numpy arithmetic of the reference path (verify's rows) against the Numba kernels, fed the same
    numpy-drawn V and labels: seed 3, width 64, 200 samples, 1e-12 relative to the largest value."""
    config = Config(loss=loss, act="gelu", width=64, classes=10, seed=3, init=init)
    p = np.random.default_rng(5).standard_normal(64)
    h, d = config.activation.numpy(p), config.activation.numpy_derivative(p)
    code, scale = (kernels.CE, 1.0) if loss == "ce" else (kernels.MSE, config.loss_fn.output_scale(10))
    V = draw_weights(config, config.seed, 1, 2, 200)
    got, _ = Antithetic(config, h, d, "antithetic").draw(1, 200)
    expected = np.empty((200, 64))
    kernels.last_layer_antithetic(h, d, V, float(config.init_dist.mean_shift), code, scale, expected)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    method = "cv" if config.init_dist.zero_mean else "naive"
    rows, naive = LastLayer(config, h, d, method).draw(1, 200)
    pred, label = np.empty((200, 64)), np.empty((200, 64))
    kernels.last_layer(h, d, V, draw_labels(config, config.seed, 1, 200), code, scale, pred, label)
    reference = pred + label if naive is None else pred
    np.testing.assert_allclose(rows, reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    if naive is not None:
        np.testing.assert_allclose(naive, pred + label, rtol=0, atol=1e-12 * np.abs(pred + label).max())


def test_curvature_kernel():
    z = np.random.default_rng(1).standard_normal((50, 7)) * 3
    out = np.empty(50)
    kernels.curvature(z, out)
    pi = np.exp(z - z.max(1, keepdims=True))
    pi /= pi.sum(1, keepdims=True)
    np.testing.assert_allclose(out, (pi * (1 - pi)).sum(1), rtol=1e-12)


@pytest.mark.parametrize("act", ["relu", "gelu", "clipped_relu2", "leaky_relu(a=0.2)", "x*tanh(log(1+exp(x)))",
                                 "Max(x, 0)**2"])
def test_generated_activation_matches_numpy(act, tmp_path, monkeypatch):
    monkeypatch.setenv("DRIFTPROOF_CACHE", str(tmp_path))
    activation = Config(act=act).activation
    module = activation_kernels(activation)
    p = np.linspace(-8, 8, 3201)
    h, d = np.empty_like(p), np.empty_like(p)
    module.activate(p, h, d)
    np.testing.assert_allclose(h, activation.numpy(p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d, activation.numpy_derivative(p), rtol=1e-12, atol=1e-12)
    # The threaded form gives the same bits.
    h2, d2 = np.empty_like(p), np.empty_like(p)
    module.activate_parallel(p, h2, d2)
    assert np.array_equal(h2, h) and np.array_equal(d2, d)


_WARM = """
import sys
from driftproof.config import Config
from driftproof.compiled import activation_kernels
import numpy as np
m = activation_kernels(Config(act="silu").activation)
p = np.ones(6)
for kernel in (m.module.activate, m.module.activate_parallel):  # the training step's and Monte Carlo's
    kernel(m.code, p, np.empty_like(p), np.empty_like(p))
    print(sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()))
"""


def test_second_process_loads_the_compiled_activation_from_cache(tmp_path):
    env = {**os.environ, "DRIFTPROOF_CACHE": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def run():
        done = subprocess.run([sys.executable, "-c", _WARM], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return tuple(int(v) for v in done.stdout.split())

    assert run() == (0, 1, 0, 1)  # first process compiles both
    assert run() == (1, 0, 1, 0)  # second loads both from the cache folder
    assert list((tmp_path / "numba").glob("dp_act_*.py"))
    assert "import math" in kernel_source(Config(act="silu").activation)


def test_regenerated_weights_give_the_same_deltas(monkeypatch):
    # Over the memory budget the backward pass redraws each layer from its stream: identical bits.
    from driftproof.montecarlo import samplers

    config = Config(loss="ce", act="gelu", width=24, depth=3, classes=4, seed=8)
    kept, _ = Network(config, 0).draw(2, 5)
    monkeypatch.setattr(samplers, "_BUDGET_NUMBERS", 10)
    redrawn, _ = Network(config, 0).draw(2, 5)
    for layer in kept:
        assert np.array_equal(kept[layer], redrawn[layer])


@pytest.mark.parametrize("overrides", [
    {"depth": 8, "width": 8, "classes": 1000},
    {"depth": 2, "width": 4096, "classes": 10, "input_dim": 16},
])
def test_coverage_extremes_run(overrides):
    # Smoke test of the coverage limits: depth 8, 1000 classes, width 4096 (few samples).
    from driftproof.montecarlo import conditional, marginal

    config = Config(loss="ce", act="relu", seed=1, **overrides)
    result = conditional(config, method="cv", samples=32, stop_early=False)
    assert np.all(np.isfinite(result.means))
    if config.width <= 8:
        layers = marginal(config, samples=32).layers
        assert len(layers) == 8 and all(np.isfinite(layer.delta_given_positive.mean) for layer in layers)


def test_antithetic_in_saturated_softmax_matches_reflections_in_log_space():
    """x**5 under CE: logits of size ~1e3 saturate the softmax (a class at pi = 1.0 in float). The
    kernel once set a reflected saturated class to pi = 1 however far down it moved, a 33% bias
    against R2 (max unit |z| 64). Oracle: every reflection's softmax recomputed from the logits with
    scipy's logsumexp; seed 9, 4 samples, tolerance 1e-9 relative."""
    from scipy.special import softmax

    config = Config(loss="ce", act="x**5", width=6, classes=3, seed=9)
    p = np.linspace(0.5, 4.0, 6)
    h, d = config.activation.numpy(p), config.activation.numpy_derivative(p)
    got, _ = Antithetic(config, h, d, "antithetic").draw(0, 4)
    V = draw_weights(config, config.seed, 0, 2, 4)
    assert np.abs(V[0] @ h).max() > 100  # saturated
    expected = np.zeros((4, 6))
    for s in range(4):
        pi0 = softmax(V[s] @ h)
        for i in range(6):
            for k in range(3):
                reflected = V[s].copy()
                reflected[k, i] = -reflected[k, i]
                pi1 = softmax(reflected @ h)
                expected[s, i] += 0.5 * d[i] * (V[s, k, i] * pi0[k] + reflected[k, i] * pi1[k])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-300)
