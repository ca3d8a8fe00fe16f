"""The GPT and the ViT: every backward against central finite differences (float64), causality, RoPE."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from driftproof.config import Config
from driftproof.nets import build_net
from driftproof.transformer import layers as F

from ..strategies import seeds

FD_EPS = 1e-5
FD_TOL = 1e-4  # relative error |num - analytic| / (|num| + |analytic|), float64, eps 1e-5; a wrong term gives O(1)


def _fd_check(f, arrays: dict, grads: dict, rng, probes: int = 6) -> float:
    """Worst relative error of ``grads`` against central differences of the scalar f() at random entries."""
    worst = 0.0
    for name, array in arrays.items():
        for _ in range(probes):
            idx = tuple(rng.integers(0, s) for s in array.shape)
            old = array[idx]
            array[idx] = old + FD_EPS
            up = f()
            array[idx] = old - FD_EPS
            down = f()
            array[idx] = old
            num, ana = (up - down) / (2 * FD_EPS), grads[name][idx]
            if abs(num) + abs(ana) > 1e-9:
                worst = max(worst, abs(num - ana) / (abs(num) + abs(ana)))
    return worst


def _probe(rng, shape):
    return rng.standard_normal(shape)


@given(seed=seeds)
def test_rmsnorm_and_layernorm_backward(seed):
    rng = np.random.default_rng(seed)
    x, g, b, w = rng.standard_normal((5, 6)), rng.standard_normal(6), rng.standard_normal(6), _probe(rng, (5, 6))
    y, saved = F.rmsnorm(x, g)
    dx, dg = F.rmsnorm_backward(w, g, saved)
    assert _fd_check(lambda: float(np.sum(w * F.rmsnorm(x, g)[0])), {"x": x, "g": g}, {"x": dx, "g": dg}, rng) < FD_TOL
    y, saved = F.layernorm(x, g, b)
    dx, dg, db = F.layernorm_backward(w, g, saved)
    assert _fd_check(lambda: float(np.sum(w * F.layernorm(x, g, b)[0])), {"x": x, "g": g, "b": b},
                     {"x": dx, "g": dg, "b": db}, rng) < FD_TOL


@pytest.mark.parametrize("causal", [True, False])
def test_attention_with_rope_backward(causal):
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    w = _probe(rng, (2, 3, 5, 4))
    cos, sin = F.rope_tables(5, 4)

    def f():
        return float(np.sum(w * F.attention(F.rope(q, cos, sin), F.rope(k, cos, sin), v, causal)[0]))

    rq, rk = F.rope(q, cos, sin), F.rope(k, cos, sin)
    _, weights = F.attention(rq, rk, v, causal)
    dq, dk, dv = F.attention_backward(w, rq, rk, v, weights)
    grads = {"q": F.rope_backward(dq, cos, sin), "k": F.rope_backward(dk, cos, sin), "v": dv}
    assert _fd_check(f, {"q": q, "k": k, "v": v}, grads, rng, probes=10) < FD_TOL


@given(seed=seeds, length=st.integers(1, 40), half=st.integers(1, 16))
def test_rope_preserves_norms_and_relative_positions(seed, length, half):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, length, 2 * half))
    cos, sin = F.rope_tables(length, 2 * half)
    y = F.rope(x, cos, sin)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
    # the same vector at every position: <rope(q)_s, rope(q)_t> depends only on s - t
    same = np.broadcast_to(x[:, :, :1], x.shape)
    r = F.rope(same, cos, sin)[0, 0]
    gram = r @ r.T
    for d in range(length):
        np.testing.assert_allclose(np.diagonal(gram, d), np.diagonal(gram, d)[0], rtol=1e-9, atol=1e-9)


def _tiny(arch: str, act: str, norm: str = "rms"):
    if arch == "gpt":
        config = Config(act=act, width=8, depth=2, classes=7, input_dim=5, loss="ce")
    else:
        config = Config(act=act, width=8, depth=2, classes=3, input_dim=16, loss="ce")
    return build_net(arch, config, rng=np.random.default_rng(0), heads=2, context=5, norm=norm), config


def _batch(arch: str, rng):
    if arch == "gpt":
        return rng.integers(0, 7, (3, 5)), rng.integers(0, 7, (3, 5))
    return rng.standard_normal((4, 16)), rng.integers(0, 3, 4)


@pytest.mark.parametrize("arch,act,norm", [("gpt", "gelu", "rms"), ("gpt", "relu2", "layer"),
                                           ("gpt", "clipped_relu2", "rms"), ("vit", "silu", "rms"),
                                           ("vit", "gelu2", "layer")])
def test_whole_network_backward_against_finite_differences(arch, act, norm):
    """Every parameter of the network (a few random entries each), float64."""
    net, config = _tiny(arch, act, norm)
    rng = np.random.default_rng(1)
    x, y = _batch(arch, rng)
    loss = config.loss_fn
    values, z, back = net.loss_and_backward(x, y, loss)
    assert values.shape == (len(x),)
    assert set(back.grads) == set(net.params)

    def f():
        return float(loss.value(net.forward(x), y.reshape(-1)).mean())

    assert _fd_check(f, net.params, back.grads, rng, probes=4) < FD_TOL


def test_untied_gaussian_readout_backward_against_finite_differences():
    """The GPT with R6's readout (an untied Gaussian head): every parameter, float64."""
    config = Config(act="gelu", width=8, depth=2, classes=7, input_dim=5, loss="ce")
    net = build_net("gpt", config, rng=np.random.default_rng(0), heads=2, context=5, readout="gaussian")
    assert "head" in net.params and not np.shares_memory(net.params["head"], net.params["wte"])
    rng = np.random.default_rng(1)
    x, y = _batch("gpt", rng)
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    assert set(back.grads) == set(net.params)

    def f():
        return float(config.loss_fn.value(net.forward(x), y.reshape(-1)).mean())

    assert _fd_check(f, net.params, back.grads, rng, probes=4) < FD_TOL


def test_deltas_are_the_per_sample_gradients_of_the_hidden_preactivations():
    """sum_n delta_n^T u_n / B is the up-projection's gradient: the per-sample deltas add up to the batch gradient."""
    net, config = _tiny("gpt", "gelu")
    x, y = _batch("gpt", np.random.default_rng(2))
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    for layer in (1, 2):
        delta = back.deltas[layer - 1].reshape(-1, 32)  # (B*T, 4C)
        u2 = net.cache["blocks"][layer - 1]["u2"]
        np.testing.assert_allclose(delta.T @ u2 / len(x), back.grads[f"L{layer}.Wup"], rtol=1e-10, atol=1e-14)
        assert net.cache["p"][layer - 1].shape == (3, 5 * 32)


def test_clipped_relu2_passes_no_gradient_where_the_clip_binds():
    """The paper's semantics: min(relu(x)^2, 50) has derivative 0 for x > sqrt(50)."""
    net, _ = _tiny("gpt", "clipped_relu2")
    h, d = net.sigma(np.array([-1.0, 1.0, 7.0, 7.1, 8.0]))
    np.testing.assert_allclose(h, [0.0, 1.0, 49.0, 50.0, 50.0])
    np.testing.assert_allclose(d, [0.0, 2.0, 14.0, 0.0, 0.0])


def test_attention_is_causal():
    """Changing a future token changes no earlier logit."""
    net, _ = _tiny("gpt", "relu")
    ids = np.random.default_rng(4).integers(0, 7, (2, 5))
    before = net.forward(ids).reshape(2, 5, -1)
    changed = ids.copy()
    changed[:, 3] = (changed[:, 3] + 1) % 7
    after = net.forward(changed).reshape(2, 5, -1)
    np.testing.assert_array_equal(after[:, :3], before[:, :3])
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_vit_attention_is_bidirectional():
    net, _ = _tiny("vit", "relu")
    x = np.random.default_rng(5).standard_normal((1, 16))
    before = net.forward(x)
    x2 = x.copy()
    x2[0, -1] += 1.0  # the last patch
    assert not np.allclose(net.forward(x2), before)
