"""R6 Monte Carlo: hand-written backward against finite differences and against ResMLP, and the
estimates against the derivation (driftproof.theory.normalized)."""

import numpy as np
import pytest

from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.montecarlo import residual
from driftproof.nets import ResMLP
from driftproof.theory.normalized import Residual, conditional_block, predict

from harness import assert_agrees


def small_network(res, size=2, seed=3):
    """Weights of ``size`` sampled networks drawn in plain numpy: x0, blocks, V, labels."""
    rng = np.random.default_rng(seed)
    n, k, depth = res.width, res.config.classes, res.config.depth
    x0 = 1.5 * rng.standard_normal((size, n))
    blocks = [(rng.standard_normal((size, n, n)) / np.sqrt(n), rng.standard_normal((size, n, n)) / np.sqrt(n))
              for _ in range(depth)]
    V = rng.standard_normal((size, k, n)) / np.sqrt(n)
    return x0, blocks, V, rng.integers(0, k, size)


def loss_of_p(res, x0, blocks, V, labels, block, p):
    """The per-sample loss with block ``block``'s pre-activations replaced by p (forward only)."""
    act, x = res.config.activation, x0
    for index, (W1, W2) in enumerate(blocks):
        u = residual._norm(res, x)[0]
        q = p if index == block else np.matmul(W1, u[..., None])[..., 0]
        x = x + np.matmul(W2, act.numpy(q)[..., None])[..., 0]
    z = np.matmul(V, residual._norm(res, x)[0][..., None])[..., 0]
    return res.config.loss_fn.value(z, labels)


@pytest.mark.parametrize("norm,eps", [("layernorm", 1e-5), ("rmsnorm", 0.0), ("rmsnorm", 0.3), ("none", 0.0)])
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_backward_matches_central_differences(norm, eps, loss):
    """Every block's delta against central differences of the loss in p (h = 1e-6, rtol 1e-6, atol 1e-7 of the largest)."""
    res = Residual(Config(loss=loss, act="gelu", width=7, depth=3, classes=4), norm, eps)
    x0, blocks, V, labels = small_network(res)
    deltas, ps, _ = residual.forward_backward(res, x0, blocks, V, labels)
    for block in range(3):
        numeric = np.empty_like(ps[block])
        for i in range(res.width):
            step = np.zeros(res.width)
            step[i] = 1e-6
            numeric[:, i] = (loss_of_p(res, x0, blocks, V, labels, block, ps[block] + step)
                             - loss_of_p(res, x0, blocks, V, labels, block, ps[block] - step)) / 2e-6
        np.testing.assert_allclose(deltas[block][:, 0], numeric, rtol=1e-6, atol=1e-7 * np.abs(numeric).max())


def test_split_parts_add_up_and_match_resmlp():
    """The cv split sums to the naive delta, and both equal ResMLP's backward at the same weights."""
    config = Config(loss="ce", act="gelu", width=6, depth=2, classes=3, input_dim=5)
    res = Residual(config)  # ResMLP's defaults: LayerNorm, eps 1e-5
    net = ResMLP(config, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 5))
    y = np.array([0, 2, 1, 1])
    _, _, backward = net.loss_and_backward(x, y, config.loss_fn)
    P = net.params
    x0 = x @ P["E"].T
    blocks = [(np.broadcast_to(P[f"W{l}"], (4, 6, 6)), np.broadcast_to(P[f"U{l}"], (4, 6, 6))) for l in (1, 2)]
    V = np.broadcast_to(P["V"], (4, 3, 6))
    naive, _, _ = residual.forward_backward(res, x0, blocks, V, y)
    split, _, _ = residual.forward_backward(res, x0, blocks, V, y, split=True)
    for block in range(2):
        np.testing.assert_allclose(split[block].sum(axis=1), naive[block][:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(naive[block][:, 0], backward.deltas[block], rtol=1e-10, atol=1e-12)


def test_deterministic_and_independent_of_the_batch_schedule():
    res = Residual(Config(loss="mse", act="relu", width=16, depth=2, seed=5), "rmsnorm", 0.0)
    one = residual.conditional(res, samples=256, first_batch=32, stop_early=False)
    two = residual.conditional(res, samples=256, first_batch=128, stop_early=False)
    np.testing.assert_allclose(one.means, two.means, rtol=1e-12, atol=1e-15)
    assert residual.conditional(res, samples=256, first_batch=32, stop_early=False).means.tolist() == one.means.tolist()


def test_bad_arguments_name_themselves():
    res = Residual(Config(width=8, depth=2))
    with pytest.raises(InputError, match="block"):
        residual.conditional(res, block=3)
    with pytest.raises(InputError, match="method"):
        residual.conditional(res, method="antithetic")
    with pytest.raises(InputError, match="norm"):
        Residual(Config(width=8), "batchnorm")


def test_evidence_rows_are_structured_and_say_negligible_for_resmlp():
    """ResMLP's defaults (LayerNorm, eps 1e-5), N = 32, 1 block: the derivation says negligible (a tiny
    positive coefficient: holds by the sign of GELU's sigma sigma' on p > 0), Monte Carlo's interval
    covers 0 (info: the sign is the derivation's to give); every row is JSON-ready."""
    import json

    from driftproof.evidence.residual import residual_rows
    from driftproof.results import HOLDS, INFO

    rows = residual_rows(Config(loss="ce", act="gelu", width=32, depth=1, seed=0))
    json.dumps([row.to_dict() for row in rows])
    symbolic = [row for row in rows if row.kind == "symbolic"]
    assert [row.numbers["outcome"] for row in symbolic] == ["negligible"] and symbolic[0].verdict == HOLDS
    for row in rows[1:]:
        assert row.key.result == "R6" and row.numbers["outcome"] in ("zero_within_resolution", "unresolved")
        assert row.verdict == (INFO if row.numbers["outcome"] == "zero_within_resolution" else "inconclusive")
