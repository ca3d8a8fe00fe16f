"""verify --arch gpt|vit: R6's scope at the paper's GPT (ViT), the sign at t = 0 over independent inits, a
training row."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from driftproof import api
from driftproof.cli import main
from driftproof.config import Config
from driftproof.evidence import transformer
from driftproof.nets import build_net
from driftproof.results import HOLDS, INCONCLUSIVE, INFO, VIOLATED, Verification
from driftproof.training.measure import sign_statistic

CONFIG = Config(loss="ce", act="relu", width=32, depth=2)


def test_one_init_is_the_sign_statistic_of_that_network_and_batch():
    """init_signs against a direct computation: the same network (generator [seed, 7]) and its batch."""
    data = transformer.text_data()
    config = transformer.gpt_config(CONFIG)
    signs, scales = transformer.init_signs(config, "tied", 5, data)
    rng = np.random.default_rng([5, 7])
    net = build_net("gpt", replace(config, seed=5), rng=rng, heads=2, context=16)
    rows = rng.integers(0, len(data.x_train), 8)
    _, _, back = net.loss_and_backward(data.x_train[rows], data.y_train[rows], config.loss_fn)
    for block in range(2):
        p, delta = net.cache["p"][block], back.deltas[block]
        # sign_statistic pools entries over the batch: the same mean over every entry with p > 0
        assert signs[block] == pytest.approx(sign_statistic(delta, p)[0], rel=1e-12)
        assert scales[block] == pytest.approx(float(np.abs(delta[p > 0]).mean()), rel=1e-12)


def test_t0_result_reads_the_sign_from_the_interval():
    """Synthetic values (seed 0, 400 inits per block): a clear positive block, a clear negative one, a zero one."""
    rng = np.random.default_rng(0)
    values = np.column_stack([1.0 + rng.standard_normal(400), -1.0 + rng.standard_normal(400),
                              rng.standard_normal(400)])
    estimates, test = transformer.t0_result(values, seed=3)
    assert [e.sign for e in estimates] == [1, -1, 0] and all(e.seed == 3 and e.n == 400 for e in estimates)
    assert (test.positive, test.negative, test.unresolved, test.samples) == (1, 1, 1, 400)
    assert test.verdict == VIOLATED
    _, positive = transformer.t0_result(values[:, :1], seed=0)
    assert positive.verdict == HOLDS


def test_the_tied_readout_is_positive_and_the_gaussian_one_zero():
    """The finding of scripts/r6_transformer.py at verify's shape: seeds 0-599, alpha 1e-3 (Holm over 2 blocks),
    95% t intervals. Tied (the paper's GPT): both blocks resolved positive; untied Gaussian (R6): 0 inside both."""
    tied, gaussian = transformer.montecarlo_rows(CONFIG, inits=600)
    assert tied.key.arch == gaussian.key.arch == "gpt" and tied.key.init == "pytorch"
    assert tied.verdict == HOLDS and tied.numbers["outcome"] == "positive"
    assert gaussian.verdict == INFO and gaussian.numbers["outcome"] == "zero_within_interval"
    assert tied.numbers["inits"] == 600 and tied.numbers["seed"] == 0 and tied.numbers["sign_test"]["alpha"] == 1e-3
    for row in (tied, gaussian):
        assert all(b["estimate"]["n"] == 600 and "values" not in b["estimate"] for b in row.numbers["blocks"])


def test_the_symbolic_row_says_the_tied_readout_is_outside_the_proof():
    (row,) = transformer.symbolic_rows(CONFIG)
    assert row.verdict == INCONCLUSIVE and row.numbers["outcome"] == "outside_proof"
    assert any("tied" in reason for reason in row.numbers["fails"])


def test_verify_gpt_symbolic_alone_is_inconclusive(capsys):
    """The theory cannot decide for the paper's GPT: exit 3, never holds."""
    code = main(["verify", "--arch", "gpt", "--only", "symbolic", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 3 and payload["verdict"] == "inconclusive"
    assert payload["config"]["arch"] == "gpt" and payload["config"]["width"] == 32 and payload["config"]["depth"] == 2
    assert payload["evidence"][0]["key"]["arch"] == "gpt" and "outside the proof" in payload["evidence"][0]["summary"]
    assert Verification.from_dict(payload).evidence[0].key.arch == "gpt"


def test_the_training_row_reports_persistence_and_sparsity():
    """ReLU, width 16: per block the t = 0 sign over seeds, the fraction of steps positive, the first negative
    step per seed and the exact zeros at the start and end (ReLU: about half the units at init)."""
    (row,) = transformer.training_rows(Config(loss="ce", act="relu", width=16, depth=2))
    assert row.kind == "training" and row.verdict in (HOLDS, INFO) and row.key.arch == "gpt"
    blocks = row.numbers["blocks"]
    assert len(blocks) == 2 and all(len(b["first_negative_running_mean"]) == 3 for b in blocks)
    assert all(0.3 < b["zero_frac_start"]["mean"] < 0.7 and 0 <= b["positive_fraction"]["mean"] <= 1 for b in blocks)
    assert row.verdict == (HOLDS if row.numbers["persisted"] else INFO)


def test_the_vit_arm_measures_its_untied_head():
    """The ViT on the digits (seeds 0-599, alpha 1e-3, Holm over 2 blocks): both blocks resolved positive at
    t = 0 (its head is untied and uniform, the pooled stream's norm not constant: outside R6 too)."""
    (row,) = transformer.montecarlo_rows(CONFIG, inits=600, arch="vit")
    assert row.key.arch == "vit" and row.key.data == "digits" and row.numbers["readout"] == "untied"
    assert row.verdict == HOLDS and row.numbers["outcome"] == "positive"
    (symbolic,) = transformer.symbolic_rows(CONFIG, "vit")
    assert symbolic.verdict == INCONCLUSIVE and any("mean over the 16 tokens" in r for r in symbolic.numbers["fails"])


def test_verify_vit_symbolic_alone_is_inconclusive(capsys):
    code = main(["verify", "--arch", "vit", "--only", "symbolic", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 3 and payload["config"]["arch"] == "vit" and payload["config"]["classes"] == 10
    assert payload["evidence"][0]["name"] == "R6 ViT blocks E[δ|p]"


def test_the_budget_is_stated_and_grows_with_the_network():
    small, large = api.verify_budget_for(act="relu", arch="gpt"), api.verify_budget_for(act="relu", arch="gpt",
                                                                                         width=128, depth=4)
    assert 1 < small.seconds < 60 and large.seconds > 4 * small.seconds
    assert "1024 inits" in small.text()
    vit = api.verify_budget_for(act="relu", arch="vit")
    assert vit.seconds < small.seconds and "1 readout," in vit.text()


def test_the_mlp_defaults_are_unchanged():
    """verify's options default per architecture; the MLP's stay width 256, depth 1, normal/he, 10 classes."""
    result = api.verify(act="relu", only="symbolic")
    config = result.config
    assert (config["width"], config["depth"], config["init"], config["scale"], config["classes"]) == (
        256, 1, "normal", "he", 10)
    assert all(row.key.arch is None for row in result.evidence)


def test_plot_draws_the_measured_blocks_not_an_mlp():
    """Verification.plot() of a GPT: one series per readout with each block's 95% interval, divided by the
    block's mean |δ| (20 inits, seeds 0-19); nothing recomputed, no MLP panel."""
    rows = tuple(transformer.montecarlo_rows(CONFIG, inits=20))
    result = Verification(HOLDS, rows, {**CONFIG.to_dict(), "arch": "gpt"}, {})
    figure = result.plot()
    (ax,) = figure.axes
    assert [text.get_text().split(" readout")[0] for text in ax.get_legend().get_texts()] == ["tied", "gaussian"]
    assert list(ax.get_xticks()) == [1, 2]
    first = rows[0].numbers["blocks"][0]
    drawn = ax.containers[0].lines[0].get_ydata()[0]
    assert drawn == pytest.approx(first["estimate"]["mean"] / first["scale"], rel=1e-12)
