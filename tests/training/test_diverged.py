"""Diverged runs say so: a structured flag with the step, left out of the sign and drift summaries,
listed; the train table fits 80 columns and writes no carriage-return bars into a log."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from driftproof.cli import main
from driftproof.config import Config
from driftproof.render.runs import run_text
from driftproof.training import TrainSpec, train
from driftproof.training.summary import summarize

SMALL = dict(data="noise", steps=20, batch=64, n_train=256, n_test=64, eval_every=20)


@pytest.fixture(scope="module")
def diverged():
    """lr 100 on ReLU, width 128, depth 3 (train's defaults): the batch loss is non-finite within
    5-6 steps in both seeds (measured)."""
    return train(Config(loss="ce", act="relu", width=128, depth=3), TrainSpec(lr=100.0, seeds=2, control=None, **SMALL))


def test_a_diverged_run_is_flagged_with_its_step_and_left_out(diverged):
    assert [(d.role, d.seed) for d in diverged.diverged] == [("main", 0), ("main", 1)]
    assert all(0 < d.step < 20 for d in diverged.diverged)
    main_role = diverged.summary.roles["main"]
    assert main_role.diverged == (0, 1) and main_role.before_divergence
    steps = {d.seed: d.step for d in diverged.diverged}
    for log in diverged.logs:  # every run diverged: each is summarized over its steps before divergence
        before = log.columns["step"] < steps[log.seed]
        expected = log.columns["L2.w_mean"][before][-1] - log.columns["L2.w_mean"][0]
        assert expected in main_role.layers["L2"].w_drift.values
    assert all(math.isfinite(v) for layer in main_role.layers.values() for v in layer.w_drift.values)
    payload = json.loads(json.dumps(diverged.to_dict(), default=str))
    assert payload["diverged"][0]["step"] == diverged.diverged[0].step
    assert payload["summary"]["roles"]["main"]["diverged_seeds"] == [0, 1]
    assert payload["summary"]["roles"]["main"]["before_divergence"] is True


def test_the_summary_averages_only_the_runs_that_did_not_diverge():
    result = train(Config(loss="ce", act="relu", width=32, depth=2), TrainSpec(lr=0.05, seeds=3, control=None, **SMALL))
    logs = list(result.logs)
    logs[1] = dataclasses.replace(logs[1], diverged_at=5)  # as if seed 1 had diverged at step 5
    role = summarize(logs, 2).roles["main"]
    assert role.seeds == (0, 2) and role.diverged == (1,) and not role.before_divergence
    kept = [logs[0], logs[2]]
    expected = [float(log.columns["L2.w_mean"][-1] - log.columns["L2.w_mean"][0]) for log in kept]
    assert list(role.layers["L2"].w_drift.values) == pytest.approx(expected, rel=0, abs=0)


def test_the_table_fits_80_columns_and_lists_diverged_runs(diverged, tmp_path):
    text = run_text(diverged, tmp_path, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "every run diverged: seeds [0, 1]" in text and ": from step" in text
    wide = run_text(diverged, tmp_path, wide=True)
    assert "% steps > 0" in wide and "zeros start->max->end" in wide  # the old layout, one line per layer


def test_train_writes_no_carriage_returns_when_stderr_is_not_a_terminal(capsys, tmp_path):
    code = main(["train", "--act", "relu", "--width", "16", "--depth", "1", "--steps", "5", "--seeds", "1",
                 "--n-train", "64", "--n-test", "32", "--no-figures", "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 0 and "\r" not in err and "\r" not in out
    assert max(len(line) for line in out.splitlines()) <= 100  # the default width off a terminal


def test_verify_training_rows_of_diverged_runs_are_inconclusive_and_say_why(capsys):
    """x**5, CE, width 64 (the rows' size), SGD lr 0.1: every run diverges within 3-4 steps (measured)."""
    from driftproof.api import verify
    from driftproof.render.training import training_row_text

    result = verify(act="x**5", only="training")
    for row in result.evidence:
        assert row.verdict == "inconclusive" and not row.numbers["persisted"]
        text = training_row_text(row.numbers)
        assert "persistence not measured: all 3 runs diverged" in text and "Drift" not in text


def test_persistence_counts_only_the_runs_that_did_not_diverge():
    from driftproof.payloads import TrainingNumbers
    from driftproof.render.training import _persistence

    numbers = TrainingNumbers(sizes={"steps": 100}, seeds=3, diverged=[{"role": "main", "seed": 1, "step": 7}],
                              first_negative_running_mean={"L1": [None, 40], "L2": [None, None]})
    assert _persistence(numbers) == "running mean < 0 in 1/2 seeds, first at step 40 of 100 (1 diverged, left out)"


def test_a_finite_run_far_above_the_uniform_loss_is_diverged_by_the_rule():
    """ReLU^2 plain MLP at He init on the digits (width 64, depth 3, Adam 1e-3, 20 steps, seeds 0-1): the loss
    stays finite but at 3e2-1e5 nats from the first batch (a uniform guess costs ln 10 = 2.3), so both runs
    diverged at step 0 by the one rule (4 ln 10 = 9.2 nats); ReLU on the same data and seeds does not."""
    spec = TrainSpec(data="digits", steps=20, seeds=2, lr=1e-3, opt="adam", control=None, n_train=256, n_test=64,
                     eval_every=20)
    blown = train(Config(loss="ce", act="relu2", width=64, depth=3), spec)
    assert all(math.isfinite(v) for log in blown.logs for v in log.columns["loss"])  # finite, yet diverged
    assert [(d.seed, d.step) for d in blown.diverged] == [(0, 0), (1, 0)]
    assert blown.summary.roles["main"].diverged == (0, 1)
    assert not train(Config(loss="ce", act="relu", width=64, depth=3), spec).diverged
