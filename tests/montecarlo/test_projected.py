"""The projected sampler (montecarlo/projected.py) against the weight-level truth, in distribution.

Three levels: one layer's (W h, Wᵀδ(W h)) against numpy drawing every weight, with δ a nonlinear
function of W h (the independence the decomposition rests on); the estimators against the weight-level
kernels (per-unit z-scores, stderr ratios, coverage over seeds) at several widths and depths; and the
guarantee that results depend on the seed alone. Theory (R1, R2, R4) is checked on the projected path
by tests/montecarlo/test_counter.py and test_meanfield.py, whose Gaussian configurations now run it
(asserted here by ``config["draws"]``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.montecarlo import conditional, marginal
from driftproof.montecarlo.normals import CHUNK
from driftproof.montecarlo.projected import project_backward, project_forward

ROOT = Path(__file__).resolve().parents[2]
INITS = {"normal": (0.0, False), "shifted": (0.1, False), "centered": (0.0, True)}


@njit(cache=True)
def _delta(p, out):
    """Two parts that depend on p nonlinearly: tanh(p) + 0.3 and a one-hot at argmax p (a 'label')."""
    for j in range(p.shape[0]):
        out[0, j] = np.tanh(p[j]) + 0.3
        out[1, j] = 0.0
    out[1, np.argmax(p)] = -1.0


@njit(cache=True)
def _projected_layer(std, shift, centered, h, rows, samples, d, p_out, w_out):
    n = h.shape[0]
    p, delta = np.empty(rows), np.empty((2, rows))
    out, xi, bits = np.empty((2, n)), np.empty((2, n)), np.empty(CHUNK, np.uint32)
    for s in range(samples):
        project_forward(std, shift, centered, 9, s, 2, h, n, p, bits)
        _delta(p, delta)
        project_backward(std, shift, centered, 9, s, 2, h, n, p, 2, delta, d, out, xi, bits)
        p_out[s] = p
        w_out[s] = out


def _weight_layer(std, shift, centered, h, rows, samples, d):
    """The same quantities with every weight drawn by numpy, W as inits.Init.sample builds it."""
    rng = np.random.default_rng(17)
    n = len(h)
    G = rng.standard_normal((samples, rows, n))
    if centered:
        W = std * np.sqrt(n / (n - 1.0)) * (G - G.mean(axis=2, keepdims=True))
    else:
        W = std * G + shift
    p = W @ h
    delta = np.empty((samples, 2, rows))
    for s in range(samples):
        _delta(p[s], delta[s])
    return p, d * np.einsum("sji,smj->smi", W, delta)


@pytest.mark.parametrize("init", sorted(INITS))
def test_one_layer_agrees_with_drawing_every_weight(init):
    """Seed 9 (projected) and 17 (numpy), 40,000 samples each, N = 6 rows, n = 5: the means of p, of both
    parts of d ⊙ Wᵀδ(W h), of their squares and of their products, each within 5 combined standard errors."""
    shift, centered = INITS[init]
    h = np.array([0.9, -0.4, 1.3, 0.0, 0.5])
    d = np.array([1.0, 0.5, -0.7, 1.2, 0.3])
    samples, rows, std = 40_000, 6, 0.6
    p_fast, w_fast = np.empty((samples, rows)), np.empty((samples, 2, len(h)))
    _projected_layer(std, shift, centered, h, rows, samples, d, p_fast, w_fast)
    p_slow, w_slow = _weight_layer(std, shift, centered, h, rows, samples, d)

    def statistics(p, w):
        return np.concatenate([p, w[:, 0], w[:, 1], w[:, 0] ** 2, w[:, 1] ** 2, w[:, 0] * w[:, 1],
                               p[:, :1] * w[:, 0]], axis=1)

    a, b = statistics(p_fast, w_fast), statistics(p_slow, w_slow)
    z = (a.mean(0) - b.mean(0)) / np.hypot(a.std(0), b.std(0)) * np.sqrt(samples)
    assert np.all(np.abs(z) <= 5), (init, np.round(z, 2))


@pytest.mark.parametrize("loss,act,init,width,depth,layer", [
    ("ce", "gelu", "normal", 48, 1, 1),
    ("ce", "gelu", "normal", 16, 3, 1),
    ("mse", "relu", "normal", 40, 3, 2),
    ("mse", "tanh", "shifted", 24, 2, 1),
    ("ce", "silu", "centered", 32, 2, 2),
])
def test_conditional_agrees_with_the_weight_level_kernel(loss, act, init, width, depth, layer):
    """Seed 21, 12,000 samples on each side (seed-fixed streams of their own): per unit |z| <= 5 between
    the projected and the weight-level estimates of E[δ_i | p] (cv, naive for the shifted init), and the
    median ratio of their per-unit standard errors within 5% of 1 (same law, same variance)."""
    config = Config(loss=loss, act=act, width=width, depth=depth, classes=5, seed=21, init=init)
    method = "cv" if config.init_dist.zero_mean else "naive"
    fast = conditional(config, layer=layer, method=method, samples=12_000, stop_early=False)
    slow = conditional(config, layer=layer, method=method, samples=12_000, stop_early=False, draws="weights")
    assert fast.config["draws"] == "projected" and slow.config["draws"] == "weights"
    spread = np.hypot(fast.stderrs, slow.stderrs)
    live = spread > 0  # relu units with p <= 0: δ_i = 0 on every sample of both
    assert np.array_equal(fast.means[~live], slow.means[~live])
    z = (fast.means - slow.means)[live] / spread[live]
    assert np.all(np.abs(z) <= 5), np.round(z, 2)
    assert abs(np.median(fast.stderrs[live] / slow.stderrs[live]) - 1) <= 0.05


def test_marginal_covers_the_weight_level_value_over_seeds():
    """Marginal cv, CE/GELU, width 32, depth 3, K = 10. Truth: the weight-level kernel, seed 1000, 40,000
    samples. Projected: seeds 0..19, 1000 samples each. Per layer, the 95% interval of E[δ | p > 0] (its
    stderr combined with the truth's) covers the truth for at least 16 of 20 seeds (P < 0.002 for an honest
    estimator, binomial(20, 0.95)), and the mean z over seeds is within 4/√20 of 0."""
    base = dict(loss="ce", act="gelu", width=32, depth=3, classes=10)
    truth = marginal(Config(**base, seed=1000), samples=40_000, draws="weights")
    z = []
    for seed in range(20):
        run = marginal(Config(**base, seed=seed), samples=1000)
        assert run.config["draws"] == "projected"
        z.append([(a.delta_given_positive.mean - b.delta_given_positive.mean)
                  / np.hypot(a.delta_given_positive.stderr, b.delta_given_positive.stderr)
                  for a, b in zip(run.layers, truth.layers)])
    z = np.array(z)
    assert np.all((np.abs(z) <= 1.96).sum(axis=0) >= 16), np.round(z, 2)
    assert np.all(np.abs(z.mean(axis=0)) <= 4 / np.sqrt(20)), z.mean(axis=0)


_SCRIPT = """
import json
from driftproof.config import Config
from driftproof.montecarlo import conditional, marginal
out = {}
for init, method in (("normal", "cv"), ("shifted", "naive"), ("centered", "naive")):
    c = Config(loss="ce", act="gelu", width=40, depth=3, classes=6, seed=5, init=init)
    m = marginal(c, method=method, samples=96, first_batch=16)
    r = conditional(c, method=method, samples=96, first_batch=16, stop_early=False)
    inner = conditional(c, layer=1, method=method, samples=96, first_batch=16, stop_early=False)
    assert {m.config["draws"], r.config["draws"], inner.config["draws"]} == {"projected"}
    out[init] = [[l.delta_given_positive.mean.hex() for l in m.layers], [float(v).hex() for v in r.means],
                 [float(v).hex() for v in inner.means]]
print(json.dumps(out))
"""


def test_same_bits_for_one_and_two_threads():
    """Seed 5, 96 samples in batches of 16: NUMBA_NUM_THREADS 1 and 2 give identical bits for the projected
    marginal, last-layer and inner-layer estimators under the three Gaussian inits."""
    runs = []
    for threads in (1, 2):
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert runs[0] == runs[1]


def test_draws_is_validated_and_projected_only_where_exact():
    gaussian, laplace = Config(width=8, seed=1), Config(width=8, seed=1, init="laplace")
    with pytest.raises(InputError, match="draws must be one of"):
        marginal(gaussian, draws="some")
    with pytest.raises(InputError, match="draws 'projected' needs"):
        marginal(laplace, draws="projected")
    with pytest.raises(InputError, match="draws 'projected' needs"):
        conditional(gaussian, method="antithetic", draws="projected")
    assert conditional(laplace, samples=64, first_batch=64).config["draws"] == "weights"
    assert conditional(gaussian, method="antithetic", samples=64, first_batch=64).config["draws"] == "weights"
    assert conditional(gaussian, method="reduced", samples=64, first_batch=64).config["draws"] == "logits"


def test_loading_is_timed_apart_from_sampling():
    """The result carries the kernels' loading time apart from ``seconds`` (the sampling alone)."""
    result = marginal(Config(loss="ce", act="gelu", width=16, depth=2, seed=3), samples=64)
    payload = result.to_dict()
    assert payload["load_seconds"] > 0 and payload["seconds"] > 0
    assert result.load_seconds == payload["load_seconds"]
