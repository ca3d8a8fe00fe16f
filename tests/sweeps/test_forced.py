"""Forced sparsity: the per-feature batch-quantile gate reaches its target and keeps the backward exact."""

import numpy as np
import pytest

from driftproof.activations import get_activation
from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.losses import get_loss
from driftproof.nets import build_net
from driftproof.pointwise import Pointwise
from driftproof.sweeps import Job, QuantileGate, force_sparsity, run_job


@pytest.mark.parametrize("q", [0.1, 0.3, 0.5, 0.7, 0.9, 0.95])
def test_gate_reaches_target_sparsity(q):
    # p ~ N(3, 1) (seed 0, 512 x 64): ReLU alone zeroes ~0.1%, so the gate sets the level.
    p = np.random.default_rng(0).normal(3.0, 1.0, (512, 64))
    h, d = QuantileGate(Pointwise(get_activation("relu")), q)(p)
    per_feature = (h == 0).mean(axis=0)
    # method="lower": exactly floor(q * 511) + 1 entries per column sit at or below the threshold
    assert np.allclose(per_feature, (np.floor(q * 511) + 1) / 512)
    assert np.all(d[h == 0] == 0) and np.all(d[h > 0] == 1)


def test_gate_never_lowers_natural_sparsity():
    p = np.random.default_rng(1).normal(-1.0, 1.0, (256, 32))  # ReLU alone zeroes ~84%
    h, _ = QuantileGate(Pointwise(get_activation("relu")), 0.3)(p)
    assert (h == 0).mean() == pytest.approx((p <= 0).mean())


def test_gated_backward_matches_finite_differences():
    # The threshold is a stop-gradient: with the mask frozen the network is smooth in its
    # weights, so central differences (h = 1e-6, seed 3) must match the hand-written backward.
    cfg = Config(loss="ce", act="gelu", width=12, depth=2, classes=3, input_dim=5)
    net = force_sparsity(build_net("mlp", cfg, rng=np.random.default_rng(3)), 0.6)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    loss = get_loss("ce")
    _, _, back = net.loss_and_backward(x, y, loss)
    masks = [h != 0 for h in net.cache["h"]]
    base = net.sigma.base
    net.sigma = _Frozen(base, masks)
    w = net.params["W1"]
    for i, j in [(0, 0), (3, 2), (7, 4)]:
        old = w[i, j]
        w[i, j] = old + 1e-6
        up = loss.value(net.forward(x), y).mean()
        w[i, j] = old - 1e-6
        down = loss.value(net.forward(x), y).mean()
        w[i, j] = old
        assert back.grads["W1"][i, j] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-9)


class _Frozen:
    """The gate with its masks fixed (layer by layer), for finite differences."""

    def __init__(self, base, masks):
        self.base, self.masks, self.i = base, masks, 0

    def __call__(self, p):
        h, d = self.base(p)
        mask = self.masks[self.i % len(self.masks)]
        self.i += 1
        return h * mask, d * mask


def test_trained_network_holds_the_forced_level():
    # 40 steps of a tiny forced-0.8 ReLU network (seed 0): held-out sparsity >= 0.8 in every layer
    result = run_job(Job(act="relu", force=0.8, width=16, depth=2, steps=40, batch=32, n_test=128, block="forced"))
    assert all(layer["sparsity"] >= 0.8 - 1 / 128 for layer in result["layers"])
    assert all(0.8 - 1 / 128 <= s <= 1 for s in result["sparsity_end"])


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 1.5])
def test_gate_refuses_bad_quantile(q):
    with pytest.raises(InputError, match="force"):
        QuantileGate(Pointwise(get_activation("relu")), q)
