"""Every compiled form of ∂ℓ/∂z against the one definition in driftproof.losses.

The Numba kernels carry their own copies of the output gradient (arithmetic only, STYLE.md rule 2):
the batch split ``kernels.output_gradient``, the per-sample ``network._gradient`` of the counter-based
path and the last-layer kernel ``kernels._last_layer_one``. Each is checked here, for every loss and two
numbers of classes, against ``Loss.split`` (the prediction part g(z) and the label part −c·y) and
``Loss.grad``. Seed 0, 9 samples; tolerance 1e-12 relative (the compiled loops sum in another order).
"""

from __future__ import annotations

import numpy as np
import pytest

from driftproof.config import Config
from driftproof.losses import LOSSES
from driftproof.montecarlo import kernels, network, reference
from driftproof.montecarlo.samplers import loss_code

TOL = dict(rtol=1e-12, atol=1e-14)
CASES = [(name, classes) for name in LOSSES for classes in (2, 10)]


def _draw(classes: int, samples: int = 9, seed: int = 0):
    rng = np.random.default_rng(seed)
    return 3.0 * rng.standard_normal((samples, classes)), rng.integers(0, classes, samples)


@pytest.mark.parametrize("name, classes", CASES)
def test_the_batch_kernel_splits_the_losses_gradient(name, classes):
    loss = LOSSES[name]
    z, y = _draw(classes)
    code, scale = loss_code(Config(loss=name, classes=classes, width=4))
    out = np.empty((len(z), 2, classes))
    kernels.output_gradient(z, y, code, scale, out)
    prediction, label = loss.split(z, y)
    np.testing.assert_allclose(out[:, 0], prediction, **TOL)
    np.testing.assert_allclose(out[:, 1], label, **TOL)
    np.testing.assert_allclose(out[:, 0] + out[:, 1], loss.grad(z, y), **TOL)


@pytest.mark.parametrize("name, classes", CASES)
def test_the_counter_paths_gradient_is_the_prediction_part(name, classes):
    loss = LOSSES[name]
    z, _ = _draw(classes)
    code, scale = loss_code(Config(loss=name, classes=classes, width=4))
    prediction = loss.prediction_part(z)
    for row, expected in zip(z, prediction):
        g = np.empty(classes)
        assert network._gradient(code, scale, row, g) == loss.label_scale(classes)
        np.testing.assert_allclose(g, expected, **TOL)


@pytest.mark.parametrize("name, classes", CASES)
def test_the_last_layer_kernel_backpropagates_both_parts(name, classes):
    """δ_i = σ'(p_i) Σ_k V_ki ∂ℓ/∂z_k, split: out_pred from g(z), out_label from −c·onehot(y)."""
    loss = LOSSES[name]
    rng = np.random.default_rng(1)
    width = 6
    V, h, dphi = rng.standard_normal((classes, width)), rng.standard_normal(width), rng.random(width)
    y = int(rng.integers(0, classes))
    code, scale = loss_code(Config(loss=name, classes=classes, width=width))
    z, g, out_pred, out_label = np.empty(classes), np.empty(classes), np.empty(width), np.empty(width)
    kernels._last_layer_one(V, h, dphi, y, code, scale, z, g, out_pred, out_label)
    prediction, label = loss.split((V @ h)[None, :], np.array([y]))
    np.testing.assert_allclose(out_pred, dphi * (V.T @ prediction[0]), **TOL)
    np.testing.assert_allclose(out_label, dphi * (V.T @ label[0]), **TOL)


@pytest.mark.parametrize("name, classes", CASES)
def test_the_numpy_reference_reads_the_loss(name, classes):
    loss = LOSSES[name]
    z, _ = _draw(classes)
    prediction, scale = reference.output_parts(Config(loss=name, classes=classes, width=4), z)
    assert np.array_equal(prediction, loss.prediction_part(z)) and scale == loss.label_scale(classes)


def test_the_check_can_fail():
    """The mean reduction's scale is not the sum's: a kernel handed the wrong one would be caught."""
    z, y = _draw(10)
    out = np.empty((len(z), 2, 10))
    code, _ = loss_code(Config(loss="mse_mean", classes=10, width=4))
    kernels.output_gradient(z, y, code, 1.0, out)
    assert not np.allclose(out[:, 0] + out[:, 1], LOSSES["mse_mean"].grad(z, y), **TOL)
