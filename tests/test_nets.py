"""Hand-written backward passes against central finite differences (float64)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from driftproof.config import Config
from driftproof.nets import build_net

ACTIVATIONS = ["tanh", "gelu", "silu", "relu", "x*tanh(log(1+exp(x)))"]
FD_STEP = 1e-6
FD_TOL = 1e-5  # relative error of gradient vs central differences, float64


def _net(arch, act, loss="ce", depth=2, width=7, classes=3, input_dim=5, seed=0):
    config = Config(loss=loss, act=act, width=width, depth=depth, classes=classes, input_dim=input_dim)
    return config, build_net(arch, config, rng=np.random.default_rng(seed))


def _batch(config, n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, config.d_in)), rng.integers(0, config.classes, n)


def _mean_loss(net, config, x, y):
    return float(config.loss_fn.value(net.forward(x), y).mean())


def _fd_check(arch, act, loss="ce", seed=0):
    config, net = _net(arch, act, loss=loss, seed=seed)
    x, y = _batch(config, seed=seed + 1)
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    worst = 0.0
    for name, value in net.params.items():
        flat = value.reshape(-1)
        for index in range(flat.size):
            old = flat[index]
            flat[index] = old + FD_STEP
            up = _mean_loss(net, config, x, y)
            flat[index] = old - FD_STEP
            down = _mean_loss(net, config, x, y)
            flat[index] = old
            numeric = (up - down) / (2 * FD_STEP)
            analytic = back.grads[name].reshape(-1)[index]
            worst = max(worst, abs(numeric - analytic) / max(1e-4, abs(numeric) + abs(analytic)))
    return worst


@pytest.mark.parametrize("arch", ["mlp", "resmlp"])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_gradients_match_finite_differences(arch, act):
    assert _fd_check(arch, act) < FD_TOL


@pytest.mark.parametrize("arch", ["mlp", "resmlp"])
def test_gradients_mse(arch):
    assert _fd_check(arch, "gelu", loss="mse") < FD_TOL


@pytest.mark.parametrize("arch", ["mlp", "resmlp"])
def test_deltas_are_per_sample_bias_gradients(arch):
    """delta^l_{n,i} = dl_n/dp^l_i = dl_n/db^l_i: check with a one-sample batch."""
    config, net = _net(arch, "gelu", depth=3)
    x, y = _batch(config, n=4)
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    for n in range(4):
        _, _, single = net.loss_and_backward(x[n:n + 1], y[n:n + 1], config.loss_fn)
        for layer in range(1, 4):
            np.testing.assert_allclose(back.deltas[layer - 1][n], single.grads[f"b{layer}"], rtol=1e-10, atol=1e-14)


@settings(max_examples=12)  # each example is a full finite-difference sweep (~0.1 s)
@given(seed=st.integers(0, 2**31 - 1), act=st.sampled_from(["tanh", "softplus", "elu"]),
       arch=st.sampled_from(["mlp", "resmlp"]))
def test_gradients_property(seed, act, arch):
    assert _fd_check(arch, act, seed=seed) < FD_TOL


def test_float32_forward_matches_float64():
    config = Config(loss="ce", act="gelu", width=16, depth=2, classes=3, input_dim=5)
    x, _ = _batch(config)
    z64 = build_net("mlp", config, rng=np.random.default_rng(0)).forward(x)
    net32 = build_net("mlp", config, rng=np.random.default_rng(0), dtype="float32")
    z32 = net32.forward(x)
    assert z32.dtype == np.float32
    np.testing.assert_allclose(z32, z64, rtol=1e-4, atol=1e-5)


def test_numba_kernel_matches_numpy():
    config = Config(loss="ce", act="relu", width=16, depth=2, classes=3, input_dim=5)
    x, _ = _batch(config)
    a = build_net("mlp", config, rng=np.random.default_rng(0)).forward(x)
    b = build_net("mlp", config, rng=np.random.default_rng(0), kernel="numba").forward(x)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_pointwise_keeps_shape_and_dtype(dtype):
    """The compiled step on a strided float32/float64 batch: same shape and dtype, values of the numpy step."""
    from driftproof.activations import get_activation
    from driftproof.pointwise import Pointwise

    act = get_activation("gelu")
    p = (np.random.default_rng(3).standard_normal((9, 14)) * 3).astype(dtype)[:, ::2]
    h, d = Pointwise(act, "numba")(p)
    h_ref, d_ref = Pointwise(act, "numpy")(p)
    assert h.shape == d.shape == p.shape and h.dtype == d.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(h, h_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(d, d_ref, rtol=tol, atol=tol)


def test_resmlp_prenorm_weights_get_no_mean_gradient_at_init():
    """LN output has zero mean over features per sample (gain 1, shift 0 at init), so every
    row of dl/dW^l sums to 0: the pre-norm block's W^l cannot drift at t = 0, only b^l."""
    config, net = _net("resmlp", "relu", depth=3, width=32, input_dim=8)
    x, y = _batch(config, n=16)
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    for layer in range(1, 4):
        grad = back.grads[f"W{layer}"]
        assert np.abs(grad.sum(axis=1)).max() < 1e-12 * np.abs(grad).sum()
