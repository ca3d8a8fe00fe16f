"""Training runs: the drift on noise data, its tanh control, the run folder, the CLI."""

import json

import numpy as np
import pytest

from driftproof.cli import main
from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.training import TrainSpec, load_run, save_run, sign_statistic, train
from driftproof.training.runfolder import FILES
from driftproof.results import Estimate, json_default
from driftproof.training.summary import TrainSummary, first_negative_running_mean, seed_estimate


@pytest.fixture(scope="module")
def drift_runs():
    """ReLU and its paired tanh control: width 64, depth 3, CE, noise, SGD lr 0.05, batch 64,
    100 steps, seeds 0-4 (5: the fewest that get an interval). Measured (seeds 0-5, lr 0.05 and 0.1): ReLU inner-layer weight
    drift -1.8e-3 .. -4.4e-3 in every seed; tanh within +-0.55e-3, of either sign."""
    config = Config(loss="ce", act="relu", width=64, depth=3, classes=10, seed=0)
    spec = TrainSpec(data="noise", steps=100, batch=64, seeds=5, lr=0.05, n_train=1024, n_test=64, eval_every=100)
    return train(config, spec)


def test_relu_inner_layers_drift_negative_tanh_does_not(drift_runs):
    roles = drift_runs.summary.roles
    assert roles["main"].act == "relu" and roles["control"].act == "tanh"
    for layer in ("L2", "L3"):  # inner layers: their inputs h^{l-1} = relu(.) >= 0 have positive mean
        relu = roles["main"].layers[layer].w_drift
        tanh = roles["control"].layers[layer].w_drift
        assert max(relu.values) < -1.0e-3, (layer, relu)  # every seed drifts down
        assert relu.ci_high < 0
        assert tanh.ci_low <= 0 <= tanh.ci_high, (layer, tanh)  # no systematic drift
        assert abs(tanh.mean) < 0.2 * abs(relu.mean)
        paired = drift_runs.summary.main_minus_control[layer]["w_drift"]
        assert paired.ci_high < 0


def test_relu_sign_positive_at_t0_and_biases_drift_down(drift_runs):
    for layer, entry in drift_runs.summary.roles["main"].layers.items():
        assert entry.sign_t0.ci_low > 0, layer
        assert max(entry.b_drift.values) < 0, layer
        assert entry.zero_frac_start.mean == pytest.approx(0.5, abs=0.05)
    assert drift_runs.diverged == () and all(log.diverged_at is None for log in drift_runs.logs)


def test_sign_statistic_ratio_estimator():
    p = np.array([[1.0, -1.0, 2.0], [0.5, 0.5, -3.0], [-1.0, -1.0, 1.0]])
    delta = np.array([[2.0, 9.0, 4.0], [1.0, -1.0, 7.0], [5.0, 5.0, 3.0]])
    ratio, se = sign_statistic(delta, p)
    assert ratio == pytest.approx((2 + 4 + 1 - 1 + 3) / 5)
    a, c = np.array([6.0, 0.0, 3.0]), np.array([2.0, 2.0, 1.0])
    expected = np.sqrt(np.sum((a - ratio * c) ** 2) / (3 * 2)) / c.mean()
    assert se == pytest.approx(expected)
    assert np.isnan(sign_statistic(delta, -np.abs(p))[0])


def test_first_negative_running_mean_and_interval():
    steps = np.arange(5)
    assert first_negative_running_mean(steps, np.array([1.0, -0.5, -0.6, 1.0, 1.0])) == 2
    assert first_negative_running_mean(steps, np.array([1.0, np.nan, 1.0, -0.1, 0.2])) is None
    iv = seed_estimate([1.0, 2.0, 3.0, 4.0, 5.0])
    sd = np.std([1.0, 2.0, 3.0, 4.0, 5.0], ddof=1)
    assert iv.mean == 3.0 and iv.ci_low == pytest.approx(3 - 2.776445 * sd / np.sqrt(5), rel=1e-6)
    assert iv.method == "student_t" and iv.n == 5 and iv.stderr == pytest.approx(sd / np.sqrt(5))
    # fewer than 5 values: the mean and its standard error, no interval, and the method says why
    three = seed_estimate([1.0, 2.0, 3.0])
    assert three.mean == 2.0 and three.n == 3 and three.stderr == pytest.approx(1 / np.sqrt(3))
    assert not three.defined and three.method == "student_t: no interval (n = 3 < 5)"
    assert not seed_estimate([1.0]).defined and np.isnan(seed_estimate([1.0]).ci_low)
    assert seed_estimate([1.0]).to_dict()["ci_low"] is None


def test_seed_interval_is_the_student_t_interval_bit_for_bit():
    """The summaries' interval: mean +- t_{n-1} * std / sqrt(n), in that order (the numbers printed before)."""
    from scipy.special import stdtrit

    rng = np.random.default_rng(0)
    for _ in range(500):
        data = rng.standard_normal(int(rng.integers(5, 10))) * 10 ** rng.uniform(-5, 3)
        half = float(stdtrit(len(data) - 1, 0.975)) * float(data.std(ddof=1)) / np.sqrt(len(data))
        estimate = seed_estimate(data)
        assert (estimate.mean, estimate.ci_low, estimate.ci_high) == (float(data.mean()), data.mean() - half,
                                                                       data.mean() + half)


@pytest.mark.parametrize("arch,opt,data,loss", [("resmlp", "adamw", "digits", "ce"),
                                               ("mlp", "momentum", "teacher", "mse")])
def test_run_folder_complete_and_reloadable(tmp_path, arch, opt, data, loss):
    config = Config(loss=loss, act="gelu", width=16, depth=2, classes=3, seed=5)
    spec = TrainSpec(arch=arch, data=data, opt=opt, lr=0.01, wd=0.01, schedule="warmup_cosine", warmup=3,
                     steps=12, batch=16, seeds=3, log_every=2, n_train=64, n_test=32)
    result = train(config, spec)
    folder = save_run(result, tmp_path / "run")
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    meta = json.loads((folder / "run.json").read_text())
    assert meta["seeds"] == [5, 6, 7] and meta["spec"]["arch"] == arch
    assert {"numpy", "scipy", "python"} <= set(meta["environment"])
    loaded = load_run(folder)
    assert isinstance(loaded.summary, TrainSummary) and loaded.summary.to_dict() == result.summary.to_dict()
    assert loaded.summary == result.summary and loaded.first_step == result.first_step
    assert loaded.diverged == result.diverged and loaded.seeds == result.seeds
    assert len(loaded.logs) == len(result.logs) == 6
    for a, b in zip(loaded.logs, result.logs):
        assert (a.role, a.act, a.seed) == (b.role, b.act, b.seed)
        for name in a.columns:
            np.testing.assert_array_equal(a.columns[name], b.columns[name])
    steps = result.logs[0].columns["step"]
    assert list(steps) == [0, 2, 4, 6, 8, 10, 12]
    csv_lines = (folder / "metrics.csv").read_text().splitlines()
    assert len(csv_lines) == 1 + 6 * len(steps)
    if data == "digits":
        assert loaded.config["input_dim"] == 64 and loaded.config["classes"] == 10


def test_load_run_refuses_incomplete_folder(tmp_path):
    with pytest.raises(InputError, match="run.json is missing"):
        load_run(tmp_path)


def test_same_seed_same_run():
    config = Config(loss="ce", act="relu", width=16, depth=2, classes=3)
    spec = TrainSpec(steps=10, batch=8, seeds=1, n_train=32, n_test=8, control=None)
    a, b = train(config, spec), train(config, spec)
    for name in a.logs[0].columns:
        np.testing.assert_array_equal(a.logs[0].columns[name], b.logs[0].columns[name])


@pytest.mark.parametrize("argv", [
    ["--act", "foo(x)"], ["--opt", "nadam"], ["--lr", "-1"], ["--lr", "nan"], ["--steps", "0"],
    ["--batch", "x"], ["--data", "mnist"], ["--arch", "transformer"], ["--warmup", "500", "--steps", "10"],
    ["--seeds", "0"], ["--width", "1"], ["--width", "60000", "--depth", "4"], ["--n-train", "9000000"], ["--momentum", "1.5"], ["--init", "cauchy"], ["--wd", "-0.1"]])
def test_cli_bad_input_exits_2(argv, capsys, tmp_path):
    assert main(["train", "--out", str(tmp_path / "r"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("driftproof: error:") and "Traceback" not in err


def test_cli_train_writes_folder_and_json(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["train", "--act", "relu", "--width", "16", "--depth", "2", "--steps", "8", "--seeds", "3",
                 "--batch", "16", "--n-train", "64", "--n-test", "16", "--out", str(out), "--json",
                 "--no-figures", "--no-progress"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["run_folder"] == str(out) and payload["seeds"] == [0, 1, 2]
    assert (out / "metrics.csv").exists() and load_run(out).spec["steps"] == 8


def test_float32_numba_run_tracks_float64():
    """Same seeds, float32 + compiled kernel vs float64 + numpy: the t = 0 sign agrees to 1e-4."""
    config = Config(loss="ce", act="relu", width=32, depth=2, classes=4)
    base = dict(steps=5, batch=32, seeds=1, n_train=64, n_test=16, control=None)
    a = train(config, TrainSpec(**base))
    b = train(config, TrainSpec(**base, dtype="float32", kernel="numba"))
    for layer in ("L1", "L2"):
        np.testing.assert_allclose(b.logs[0].columns[f"{layer}.sign"][0], a.logs[0].columns[f"{layer}.sign"][0],
                                   rtol=1e-4)


class _Linear:
    """The smallest network the loop accepts: params and loss_and_backward, nothing else."""

    depth = 0

    def __init__(self):
        self.params = {"V": np.zeros((2, 3)), "c": np.zeros(2)}
        self.cache = {}

    def loss_and_backward(self, x, y, loss):
        from driftproof.nets import Backward

        z = x @ self.params["V"].T + self.params["c"]
        g = loss.grad(z, y) / len(x)
        return loss.value(z, y), z, Backward({"V": g.T @ x, "c": g.sum(axis=0)}, [])


def test_loop_updates_after_each_observed_step_but_the_last():
    from driftproof.losses import get_loss
    from driftproof.optim import make_optimizer
    from driftproof.training import run_loop
    from driftproof.training.loop import shuffled_batches

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    net, seen = _Linear(), []

    class Watch:
        def observe(self, step, net):
            seen.append((step.t, step.last, net.params["V"].copy()))

    outcome = run_loop(net, make_optimizer("sgd", 0.1, steps=5), shuffled_batches(x, y, 8, rng), get_loss("ce"), 5,
                       [Watch()])
    assert outcome.updates == 5 and outcome.diverged_at is None
    assert [(t, last) for t, last, _ in seen] == [(0, False), (1, False), (2, False), (3, False), (4, False),
                                                  (5, True)]
    assert not np.array_equal(seen[0][2], seen[1][2])  # the update of step 0 happened before step 1
    np.testing.assert_array_equal(seen[-1][2], net.params["V"])  # no update after the last step


def test_loop_stops_before_the_update_of_a_diverged_step():
    from driftproof.losses import get_loss
    from driftproof.optim import make_optimizer
    from driftproof.training import run_loop
    from driftproof.training.loop import fixed_batch

    x, y = np.ones((4, 3)), np.zeros(4, int)
    net = _Linear()
    net.params["c"][:] = [np.inf, 0.0]
    opt = make_optimizer("sgd", 0.1, steps=10)
    outcome = run_loop(net, opt, fixed_batch(x, y), get_loss("mse"), 10, stop_on_divergence=True)
    assert outcome.diverged_at == 0 and outcome.updates == 0 and opt.t == 0
    with np.errstate(invalid="ignore"):
        assert run_loop(_Linear(), opt, fixed_batch(x * np.nan, y), get_loss("mse"), 3).diverged_at == 0
    with pytest.raises(ValueError, match="without an optimizer"):
        run_loop(_Linear(), None, fixed_batch(x, y), get_loss("mse"), 2)
