"""The gated MLP (driftproof/archs/glu.py): its backward against finite differences, G1 against Monte Carlo,
and train / verify / derive through the command line."""

import json
import math

import numpy as np
import pytest

from driftproof import api
from driftproof.archs import get_arch
from driftproof.archs.glu import GLU, gate_deltas, gate_theory, last_layer_delta, last_layer_deltas, predict
from driftproof.cli import main
from driftproof.config import Config
from driftproof.nets import build_net
from driftproof.theory.curvature import output_curvature

FD_STEP, FD_TOL = 1e-6, 1e-5  # central differences in float64, relative error (as tests/test_nets.py)


def _fd_worst(act: str, loss: str, depth: int = 2, seed: int = 0) -> float:
    config = Config(loss=loss, act=act, width=6, depth=depth, classes=3, input_dim=5)
    net = build_net("glu", config, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    x, y = rng.standard_normal((5, 5)), rng.integers(0, 3, 5)
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    mean_loss = lambda: float(config.loss_fn.value(net.forward(x), y).mean())  # noqa: E731
    worst = 0.0
    for name, value in net.params.items():
        flat = value.reshape(-1)
        for index in range(flat.size):
            old = flat[index]
            flat[index] = old + FD_STEP
            up = mean_loss()
            flat[index] = old - FD_STEP
            down = mean_loss()
            flat[index] = old
            numeric, analytic = (up - down) / (2 * FD_STEP), back.grads[name].reshape(-1)[index]
            worst = max(worst, abs(numeric - analytic) / max(1e-4, abs(numeric) + abs(analytic)))
    return worst


@pytest.mark.parametrize("act,loss", [("silu", "ce"), ("gelu", "mse"), ("relu", "ce"), ("tanh", "mse_mean")])
def test_backward_matches_finite_differences(act, loss):
    assert _fd_worst(act, loss) < FD_TOL


def test_gate_delta_is_the_gradient_at_the_gate():
    """δ^l = ∂ℓ_n/∂g^l per sample: a finite difference of the loss in the gate's bias, one sample at a time."""
    config = Config(loss="ce", act="silu", width=5, depth=2, classes=3, input_dim=4)
    net = build_net("glu", config, rng=np.random.default_rng(3))
    x, y = np.random.default_rng(4).standard_normal((1, 4)), np.array([1])
    back = net.loss_and_backward(x, y, config.loss_fn)[2]
    for layer in (1, 2):
        bias = net.params[f"b{layer}"]
        for unit in range(5):
            old = bias[unit]
            bias[unit] = old + FD_STEP
            up = float(config.loss_fn.value(net.forward(x), y)[0])
            bias[unit] = old - FD_STEP
            down = float(config.loss_fn.value(net.forward(x), y)[0])
            bias[unit] = old
            assert back.deltas[layer - 1][0, unit] == pytest.approx((up - down) / (2 * FD_STEP), rel=1e-5, abs=1e-9)


def test_vectorized_last_layer_delta_is_the_networks_backward():
    """The Monte Carlo's batched δ^L = σ'(g)u ⊙ (∂ℓ/∂z V) against the network's own backward, draw by draw."""
    config = Config(loss="ce", act="silu", width=6, depth=2, classes=4, input_dim=5)
    net = GLU(config, rng=np.random.default_rng(0))
    x, rng = np.random.default_rng(1).standard_normal((3, 5)), np.random.default_rng(2)
    for _ in range(3):
        net.redraw_after(2, rng)
        y = rng.integers(0, 4, 3)
        z = net.forward(x)
        dz = config.loss_fn.grad(z, y)
        expected = net.backward(dz).deltas[-1]
        gate = net.cache["d"][-1] * net.cache["u"][-1]
        np.testing.assert_allclose(last_layer_delta(dz[None], net.params["V"][None], gate)[0], expected, rtol=1e-12)


def test_inner_and_last_layer_samplers_agree():
    """gate_deltas (a network per draw) and last_layer_deltas (vectorized) sample the same law at the last layer:
    seed 0, 3000 draws each, the pooled E[δ | g > 0] within 4.5 combined standard errors."""
    config = Config(loss="mse", act="relu", width=8, depth=1, classes=3, input_dim=6)
    means = []
    for sample in (gate_deltas(config, 1, 3000, seed=0), last_layer_deltas(config, 3000, seed=0)):
        deltas, g = sample[0], sample[1]
        values = deltas[:, g > 0].mean(axis=1)
        means.append((values.mean(), values.std(ddof=1) / math.sqrt(len(values))))
    (a, sa), (b, sb) = means
    assert abs(a - b) < 4.5 * math.hypot(sa, sb)


# G1 against Monte Carlo: seed 0, 50000 draws of V and the labels per case (vectorized), every unit of 4 inputs
# (64 units); tolerance 4.5 standard errors per unit (two-sided 7e-6 each, under 5e-4 for the 64), the standard
# error combining the Monte Carlo's and, for CE, that of the curvature C (a Monte Carlo over the logits itself).
G1_DRAWS, G1_Z = 50000, 4.5
G1_CASES = [("mse", "relu", "normal", 1), ("mse_mean", "silu", "shifted(mean=0.05)", 1),
            ("ce", "silu", "normal", 1), ("ce", "relu", "normal", 2)]


def _g1_check(loss, act, init, depth, factor=1.0):
    config = Config(loss=loss, act=act, init=init, width=16, depth=depth, classes=5, input_dim=8, seed=0)
    deltas, g, u, h = last_layer_deltas(config, G1_DRAWS, seed=0, inputs=4)
    theory = gate_theory(config)
    assert theory.applies
    curvature, relative = None, 0.0
    if config.loss_fn.family == "ce":
        s_V = config.stds[-1]
        estimates = [output_curvature(config.loss_fn, 5, s_V**2 * float(row @ row), 0) for row in h]
        curvature = np.array([[e.mean] for e in estimates])
        relative = np.array([[e.stderr / e.mean] for e in estimates])
    predicted = factor * predict(theory, g, u, h, config.activation, curvature=curvature)
    stderr = np.hypot(deltas.std(axis=0, ddof=1) / math.sqrt(G1_DRAWS), predicted * relative)
    gap = np.abs(deltas.mean(axis=0) - predicted)
    # a unit whose every draw is exactly 0 (ReLU's gate closed) must be predicted exactly 0
    return np.where(stderr > 0, gap / np.where(stderr > 0, stderr, 1.0), np.where(gap == 0, 0.0, np.inf))


@pytest.mark.parametrize("loss,act,init,depth", G1_CASES)
def test_g1_agrees_with_monte_carlo(loss, act, init, depth):
    assert _g1_check(loss, act, init, depth).max() < G1_Z


def test_g1_check_can_fail():
    """The same check rejects a prediction 20% off (so agreement above is not for want of power)."""
    assert _g1_check("mse", "relu", "normal", 1, factor=1.2).max() > G1_Z


def test_g1_form_under_mse():
    """With zero-mean independent V and summed MSE: A = K s_V², no S or constant term (the Stein/R1 step)."""
    config = Config(loss="mse", act="relu", width=32, classes=7)
    theory = gate_theory(config)
    assert theory.A == pytest.approx(7 * config.stds[-1] ** 2, rel=1e-12) and theory.B == 0 and theory.C0 == 0


@pytest.mark.parametrize("data", get_arch("mlp").datasets)
def test_trains_on_every_data_set_the_mlp_does(data):
    assert get_arch("glu").datasets == get_arch("mlp").datasets
    # LeCun scale: a gated unit multiplies two branches, so at He scale the variance grows roughly as q^2 per
    # layer; at depth 2 on the digits the He-scaled GLU starts at 9.3 nats held out and diverges (seeds 0-2).
    run = api.train("ce", "silu", arch="glu", data=data, width=8, depth=2, steps=4, seeds=1, control=False,
                    n_train=64, n_test=32, lr=0.01, scale="lecun")
    assert not run.diverged and np.isfinite(run.result.logs[0].columns["loss"]).all()


def _cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_command(capsys, tmp_path):
    code, out, _ = _cli(capsys, "train", "--arch", "glu", "--act", "relu", "--width", "8", "--depth", "1",
                        "--steps", "3", "--seeds", "1", "--n-train", "64", "--n-test", "32", "--out",
                        str(tmp_path / "run"), "--no-figures", "--json")
    assert code == 0 and json.loads(out)["spec"]["arch"] == "glu"


def test_verify_gives_theory_monte_carlo_and_training_rows():
    result = api.verify("ce", "relu", arch="glu", width=8)
    kinds = {(row.kind, row.key.result) for row in result.evidence}
    assert {("symbolic", "G1"), ("montecarlo", "MC"), ("training", "train")} <= kinds
    assert result.rows(result="MC")[0].verdict == "holds" and result.rows(result="G1")[0].verdict == "holds"
    assert result.config["arch"] == "glu" and result.exit_code == 0


def test_derive_command_prints_g1(capsys):
    code, out, _ = _cli(capsys, "derive", "--arch", "glu", "--loss", "mse", "--act", "relu", "--width", "16")
    assert code == 0 and "G1 — gated unit" in out and "s_V**2*u_i**2*sigma(g_i)*Derivative(sigma(g_i), g_i)" in out


def test_options_that_do_not_apply_are_refused(capsys):
    code, _, err = _cli(capsys, "train", "--arch", "glu", "--data", "text")
    assert code == 2 and err.count("\n") == 1 and "needs arch gpt" in err
