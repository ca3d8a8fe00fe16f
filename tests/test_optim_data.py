"""Optimizers, schedules and data sets."""

import math

import numpy as np
import pytest

from driftproof.data import make_dataset
from driftproof.errors import InputError
from driftproof.optim import Schedule, make_optimizer


def _params():
    return {"W": np.array([[1.0, -2.0], [0.5, 0.0]]), "b": np.array([1.0, -1.0])}


def _grads():
    return {"W": np.array([[0.1, -0.2], [0.0, 0.3]]), "b": np.array([0.5, -0.5])}


def test_sgd_and_l2_weight_decay_on_weights_only():
    params = _params()
    make_optimizer("sgd", 0.1, steps=1, wd=0.5).step(params, _grads())
    np.testing.assert_allclose(params["W"], _params()["W"] - 0.1 * (_grads()["W"] + 0.5 * _params()["W"]))
    np.testing.assert_allclose(params["b"], _params()["b"] - 0.1 * _grads()["b"])


def test_momentum_accumulates():
    params, opt = _params(), make_optimizer("momentum", 0.1, steps=2, momentum=0.9)
    opt.step(params, _grads())
    opt.step(params, _grads())
    np.testing.assert_allclose(params["b"], _params()["b"] - 0.1 * (1 + 1.9) * _grads()["b"])


def test_adam_first_step_is_lr_times_sign():
    params = _params()
    make_optimizer("adam", 0.01, steps=1).step(params, _grads())
    g = _grads()["W"]
    expected = _params()["W"] - 0.01 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(params["W"], expected, atol=1e-12)


def test_adamw_decay_is_decoupled():
    zero = {"W": np.zeros((2, 2)), "b": np.zeros(2)}
    params = _params()
    make_optimizer("adamw", 0.1, steps=1, wd=0.5).step(params, zero)
    np.testing.assert_allclose(params["W"], _params()["W"] * (1 - 0.1 * 0.5))
    np.testing.assert_allclose(params["b"], _params()["b"])
    params = _params()
    make_optimizer("adam", 0.1, steps=1, wd=0.5).step(params, zero)  # L2: through the Adam normalization
    np.testing.assert_allclose(np.abs(params["W"] - _params()["W"])[_params()["W"] != 0], 0.1)


def test_warmup_cosine_schedule():
    schedule = Schedule(1.0, "warmup_cosine", total=110, warmup=10)
    assert schedule(0) == pytest.approx(0.1) and schedule(9) == pytest.approx(1.0)
    assert schedule(10) == pytest.approx(1.0) and schedule(60) == pytest.approx(0.5)
    assert schedule(110) == pytest.approx(0.0, abs=1e-12)
    assert Schedule(0.3)(57) == 0.3


@pytest.mark.parametrize("kwargs", [{"lr": 0.0}, {"lr": math.nan}, {"wd": -1.0}, {"momentum": 1.0},
                                    {"schedule": "step"}, {"warmup": 5}])
def test_optimizer_bad_input(kwargs):
    args = {"lr": 0.1, **kwargs}
    with pytest.raises(InputError):
        make_optimizer("sgd", args.pop("lr"), steps=2, **args)


def test_noise_is_gaussian_with_uniform_labels():
    data = make_dataset("noise", input_dim=50, classes=4, n_train=20000, n_test=10, rng=np.random.default_rng(0))
    assert data.x_train.shape == (20000, 50) and data.gaussian_inputs
    assert abs(data.x_train.mean()) < 0.005 and abs(data.x_train.std() - 1) < 0.005
    counts = np.bincount(data.y_train, minlength=4) / 20000
    np.testing.assert_allclose(counts, 0.25, atol=0.015)


def test_teacher_labels_and_regression_targets():
    rng = np.random.default_rng(1)
    labels = make_dataset("teacher", input_dim=8, classes=3, n_train=500, n_test=50, rng=rng)
    assert labels.y_train.dtype.kind == "i" and set(np.unique(labels.y_train)) <= {0, 1, 2}
    targets = make_dataset("teacher", input_dim=8, classes=3, n_train=500, n_test=50, rng=rng, regression=True)
    assert targets.y_train.shape == (500, 3) and targets.describe()["targets"] == "regression"


def test_digits_standardized_stratified_split():
    data = make_dataset("digits", input_dim=0, classes=0, n_train=0, n_test=360, rng=np.random.default_rng(2))
    assert data.input_dim == 64 and data.classes == 10 and not data.gaussian_inputs
    assert len(data.x_train) + len(data.x_test) == 1797 and abs(len(data.x_test) - 360) <= 10
    used = data.x_train.std(axis=0) > 0
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.x_train.std(axis=0)[used], 1, atol=1e-12)
    assert np.bincount(data.y_test, minlength=10).min() >= 30  # every class held out
    with pytest.raises(InputError):
        make_dataset("digits", input_dim=0, classes=0, n_train=0, n_test=5, rng=np.random.default_rng(2))


def test_digits_arrays_are_sklearn_digits():
    from sklearn.datasets import load_digits

    from driftproof.data import load_digits_arrays

    x, y = load_digits_arrays()
    bunch = load_digits()
    np.testing.assert_array_equal(x, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


def test_clipping_scales_the_global_norm_down_and_keeps_the_direction():
    import math

    from driftproof.optim import clip_global_norm, make_optimizer

    rng = np.random.default_rng(3)
    grads = {"a": rng.standard_normal((4, 5)), "b": rng.standard_normal(7)}
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    clipped = clip_global_norm(grads, norm / 4)
    assert math.isclose(math.sqrt(sum(float((g * g).sum()) for g in clipped.values())), norm / 4, rel_tol=1e-12)
    for name in grads:
        np.testing.assert_allclose(clipped[name] * 4, grads[name], rtol=1e-12)
    assert clip_global_norm(grads, 2 * norm) is grads  # below the bound: untouched
    params = {name: np.zeros_like(g) for name, g in grads.items()}
    make_optimizer("sgd", 0.5, steps=1, clip_norm=norm / 4).step(params, grads)
    for name in grads:
        np.testing.assert_allclose(params[name], -0.5 * clipped[name], rtol=1e-12)


def test_clip_norm_is_validated_and_absent_from_unclipped_specs():
    from driftproof.errors import InputError
    from driftproof.training import TrainSpec

    with pytest.raises(InputError, match="clip_norm"):
        TrainSpec(clip_norm=0.0)
    assert "clip_norm" not in TrainSpec().to_dict()
    assert TrainSpec(clip_norm=1.0).to_dict()["clip_norm"] == 1.0


@pytest.mark.parametrize("kind, wd, dtype", [("adam", 0.0, np.float64), ("adam", 1e-2, np.float64),
                                             ("adamw", 0.1, np.float32), ("muon", 0.1, np.float64)])
def test_the_fused_adam_update_is_the_reference_bit_for_bit(kind, wd, dtype):
    """The fused Adam (scratch arrays, in place) does the reference's operations in the same order: the same
    parameters to the last bit after 25 steps of random gradients (seed 5), for Adam, AdamW and Muon's Adam part."""
    rng = np.random.default_rng(5)
    start = {"W": rng.standard_normal((6, 4)).astype(dtype), "b": rng.standard_normal(6).astype(dtype)}
    grads = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in start.items()} for _ in range(25)]
    out = []
    for fused in (True, False):
        params = {k: v.copy() for k, v in start.items()}
        opt = make_optimizer(kind, 1e-2, steps=25, wd=wd, hidden_matrices=())
        opt.fused = fused
        for g in grads:
            opt.step(params, g)
        out.append(params)
    for name in start:
        np.testing.assert_array_equal(out[0][name], out[1][name])
        assert not np.array_equal(out[0][name], start[name])
