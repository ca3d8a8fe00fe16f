"""R5: the measured first SGD step of each layer's mean weight and bias against mean field."""

import pytest

from driftproof.config import Config
from driftproof.training import TrainSpec, train

R5_SEEDS = 40  # one 256-sample batch per seed; the network draw is the unit of replication
R5_TOLERANCE = 0.15  # relative error; measured 3-5% (relu), 2-4% (gelu), 95% half-width ~11%


def _first_step(loss, act, depth=2):
    config = Config(loss=loss, act=act, width=256, depth=depth, classes=10, seed=100)
    spec = TrainSpec(data="noise", steps=1, batch=256, seeds=R5_SEEDS, lr=0.01, n_train=256, n_test=16,
                     control=None, eval_every=1)
    return train(config, spec).first_step


@pytest.mark.parametrize("loss,act", [("ce", "relu"), ("mse", "relu"), ("ce", "gelu")])
def test_first_step_matches_R5_at_width_256(loss, act):
    rows = _first_step(loss, act)
    checked = 0
    for layer in ("L1", "L2"):
        for what, cmp in rows[layer].items():
            if cmp.relative_error is None:  # layer 1's weight mean: E[x] = 0, predicted 0
                assert abs(cmp.measured.mean) < 0.01 * abs(rows[layer]["db_mean"].predicted)
                continue
            assert cmp.relative_error < R5_TOLERANCE, (layer, what, cmp)
            assert cmp.prediction_in_interval, (layer, what, cmp)
            checked += 1
    assert checked == 5  # L1 db, L1 sign, L2 dW, L2 db, L2 sign
    assert rows["L2"]["dW_mean"].predicted < 0 and rows["L2"]["db_mean"].predicted < 0


def test_tanh_first_step_has_no_drift():
    """Odd activation: R5 predicts no drift; the measured drift is < 3% of ReLU's at the same size."""
    tanh, relu = _first_step("ce", "tanh"), _first_step("ce", "relu")
    for layer in ("L1", "L2"):
        for what in ("dW_mean", "db_mean"):
            assert tanh[layer][what].predicted == 0
            assert abs(tanh[layer][what].measured.mean) < 0.03 * abs(relu["L2"][what].measured.mean)
