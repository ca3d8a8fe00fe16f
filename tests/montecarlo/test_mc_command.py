"""``driftproof mc``: estimate beside the theory, JSON output, exit codes, bad input in one line."""

from __future__ import annotations

import json

import pytest

from driftproof.cli import main


def test_mc_table(capsys):
    code = main(["mc", "--loss", "mse", "--act", "relu", "--width", "32", "--classes", "4", "--method", "antithetic",
                 "--samples", "2048"])
    out = capsys.readouterr().out
    assert code == 0 and "estimate" in out and "verdict: holds" in out


def test_mc_json_violated(capsys):
    # 20000 samples: at 4096 only one unit in 16 resolves, so the verdict hung on the stream's luck.
    code = main(["mc", "--loss", "mse", "--act=-exp(-x)", "--width", "32", "--classes", "4", "--samples", "20000",
                 "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1 and payload["verdict"] == "violated" and payload["sign_test"]["positive"] == 0
    assert len(payload["units"]) == 32 and "environment" in payload


def test_mc_marginal_json(capsys):
    code = main(["mc", "--loss", "ce", "--act", "relu", "--width", "16", "--depth", "2", "--classes", "3",
                 "--mode", "marginal", "--samples", "64", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code in (0, 3) and [layer["layer"] for layer in payload["layers"]] == [1, 2]


@pytest.mark.parametrize("argv", [
    ["mc", "--method", "reduced", "--loss", "mse"],
    ["mc", "--method", "cv", "--init", "shifted(mean=0.1)"],
    ["mc", "--samples", "0"],
    ["mc", "--alpha", "2"],
    ["mc", "--layer", "3"],
    ["mc", "--mode", "marginal", "--layer", "1"],
    ["mc", "--mode", "sideways"],
    ["mc", "--width", "x"],
])
def test_bad_input_exits_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("driftproof: error:") and err.count("\n") == 1
