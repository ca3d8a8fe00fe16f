"""The PyTorch ports of the numpy MLP and GPT, loaded with the numpy networks' weights, give the same loss,
the same δ at every MLP pre-activation, the same sign statistic and the same sparsity (float64, 1e-10).

Both sides are independent: the numpy networks backpropagate by hand, the ports through autograd, and δ
is read on the torch side by driftproof.torch's own hooks (the path check_init and watch use)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from driftproof.config import Config
from driftproof.evidence.transformer import gpt_config, text_data
from driftproof.nets import build_net
from driftproof.torch.capture import measure, sign_of
from driftproof.torch.layers import find_layers
from driftproof.torch.losses import resolve_loss
from driftproof.torch.ports import TorchGPT, TorchMLP
from driftproof.training.measure import sign_statistic

TOL = 1e-10


def _compare(m, deltas, ps, hs, scale: float) -> None:
    for layer, (delta, p, h) in enumerate(zip(deltas, ps, hs)):
        mine_p, mine_delta = m.p[layer].numpy(), m.delta[layer].numpy() / scale
        assert np.abs(mine_p - p).max() <= TOL * max(1.0, np.abs(p).max())
        assert np.abs(mine_delta - delta).max() <= TOL * np.abs(delta).max()
        assert abs(sign_of(m.delta[layer], m.p[layer]) / scale - delta[p > 0].mean()) <= TOL * np.abs(delta).max()
        # the sign statistic with its batch SE, as the training loop logs it
        mine, theirs = sign_statistic(mine_delta, mine_p), sign_statistic(delta, p)
        assert np.allclose(mine, theirs, rtol=TOL, atol=0)
        assert float((m.p[layer] <= 0).double().mean()) == float((p <= 0).mean())


@pytest.mark.parametrize("act, loss", [("gelu", "ce"), ("relu", "mse"), ("clipped_relu2", "ce")])
def test_mlp_port_is_the_numpy_mlp(act, loss):
    config = Config(loss=loss, act=act, width=24, depth=3, classes=6, input_dim=10, seed=0)
    net = build_net("mlp", config, rng=np.random.default_rng(1))
    rng = np.random.default_rng(2)
    x, y = 1.5 * rng.standard_normal((16, 10)), rng.integers(0, 6, 16)
    values, _, back = net.loss_and_backward(x, y, config.loss_fn)
    model = TorchMLP(net)
    m = measure(model, find_layers(model, where="hidden.*"), torch.from_numpy(x), torch.from_numpy(y),
                resolve_loss(loss))
    assert abs(m.loss - values.mean()) <= TOL * abs(values.mean())
    assert m.units == "per sample" and m.rows == 16
    _compare(m, back.deltas, net.cache["p"], net.cache["h"], 1.0)
    # the split adds up, and its label part is what the numpy network backpropagates from -y
    from driftproof.training.split import split_deltas

    own_self, own_label = split_deltas(net, config.loss_fn, net.forward(x), y)
    for layer in range(3):
        assert np.abs(m.label_part[layer].numpy() - own_label[layer]).max() <= TOL * np.abs(own_label[layer]).max()
        assert np.abs(m.self_part[layer].numpy() - own_self[layer]).max() <= TOL * np.abs(own_self[layer]).max()


def test_gpt_port_is_the_numpy_gpt():
    context = 12
    config = gpt_config(Config(loss="ce", act="clipped_relu2", width=16, depth=2, seed=0), context)
    net = build_net("gpt", config, rng=np.random.default_rng(3), heads=2, context=context)
    data = text_data(context)
    x, y = np.array(data.x_train[:5], np.int64), np.array(data.y_train[:5], np.int64)
    values, _, back = net.loss_and_backward(x, y, config.loss_fn)
    model = TorchGPT(net)
    layers = find_layers(model)  # found by name: blocks.{i}.mlp.c_fc, down-projection c_proj
    assert [layer.name for layer in layers] == ["blocks.0.mlp.c_fc", "blocks.1.mlp.c_fc"]
    assert [layer.down_name for layer in layers] == ["blocks.0.mlp.c_proj", "blocks.1.mlp.c_proj"]
    m = measure(model, layers, torch.from_numpy(x), torch.from_numpy(y), resolve_loss("ce"))
    assert abs(m.loss - values.mean()) <= TOL * values.mean()
    assert m.units == "per token" and m.rows == 5 * context
    # numpy's δ is of each sequence's mean token loss: the per-token δ over the context length
    _compare(m, back.deltas, net.cache["p"], net.cache["h"], float(context))
    # exact zeros at the down-projection input: σ(p) there, numpy's h
    for layer in range(2):
        h = torch.from_numpy(net.cache["h"][layer])
        assert float((model.blocks[layer].mlp.sigma(m.p[layer]) == 0).double().mean()) == float((h == 0).double().mean())
