"""The bad-input table: every subcommand refuses bad input with one line on stderr, exit 2, no
traceback, nothing written, and quickly (the budgets and the float64 range check refuse before
any work). Accepted but degenerate inputs end in a verdict or a refusal, never in a crash.

Cases run in-process (``driftproof.cli.main``) in an empty working folder with ``--out`` inside
it where the command writes; a handful run as subprocesses to check the real entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftproof.cli import main

SECONDS = 20.0  # a refusal happens before any work: far below this on any machine

NETWORK_COMMANDS = ("verify", "derive", "mc", "train")

# (command, bad option values) applied to every network command: names, expressions, numbers, sizes.
NETWORK_CASES = [
    ["--loss", "nope"],
    ["--loss", ""],
    ["--act", "nope"],
    ["--act", ""],
    ["--act=x +"],
    ["--act=__import__('os').system('true')"],
    ["--act=x.real"],
    ["--act=lambda: 1"],
    ["--act=y*x"],
    ["--act=2"],
    ["--act=x[0]"],
    ["--act=sqrt(x)"],
    ["--act=log(x)"],
    ["--act=1/x"],
    ["--act=x**0.5"],
    ["--act=((x+1)**64)**64"],
    ["--act=(x**8)**9"],
    ["--act=Max(x,0)**65"],
    ["--act=1e400*x"],
    ["--act=leaky_relu(b=1)"],
    ["--act=clipped_relu2(c=-1)"],
    ["--init", "nope"],
    ["--init", "student_t(nu=abc)"],
    ["--scale", "nope"],
    ["--scale", "std=0"],
    ["--scale", "std=-1"],
    ["--scale", "std=nan"],
    ["--scale", "std=1e200"],
    ["--scale", "std=1e308"],
    ["--scale", "std=1e-200"],
    ["--width", "0"],
    ["--width", "1"],
    ["--width", "65537"],
    ["--width", "abc"],
    ["--depth", "0"],
    ["--depth", "65"],
    ["--classes", "1"],
    ["--classes", "100001"],
    ["--seed", "-1"],
    ["--frobnicate"],
]

# Refused by the float64 range check or the budgets: only commands that compute numerically.
NUMERIC_CASES = [
    ["--act=x*1e-300"],
    ["--act=(x+1)**64"],
    ["--act=Max(x,0)**64"],
    ["--act=exp(1000*x)"],
    ["--act=exp(exp(exp(x)))"],
    ["--scale", "std=1e10"],
    ["--scale", "std=1e-100"],
]

COMMAND_CASES = [
    ["verify", "--width", "65536"],
    ["verify", "--classes", "100000"],
    ["verify", "--only", "nope"],
    ["verify", "--arch", "nope"],
    ["verify", "--arch", "gpt", "--loss", "mse"],
    ["verify", "--arch", "gpt", "--loss", "mse_mean"],
    ["verify", "--arch", "gpt", "--init", "uniform"],
    ["verify", "--arch", "gpt", "--init", "normal"],
    ["verify", "--arch", "gpt", "--scale", "lecun"],
    ["verify", "--arch", "gpt", "--classes", "10"],
    ["verify", "--arch", "gpt", "--input-dim", "16"],
    ["verify", "--arch", "gpt", "--width", "30"],
    ["verify", "--arch", "gpt", "--width", "65536"],
    ["verify", "--arch", "gpt", "--depth", "0"],
    ["verify", "--arch", "gpt", "--only", "nope"],
    ["derive", "--arch", "gpt"],
    ["derive", "--arch", "vit"],
    ["verify", "--arch", "vit", "--loss", "mse"],
    ["verify", "--arch", "vit", "--init", "uniform"],
    ["verify", "--arch", "vit", "--classes", "10"],
    ["verify", "--arch", "vit", "--input-dim", "64"],
    ["verify", "--arch", "vit", "--width", "34"],
    ["mc", "--samples", "1000000000000"],
    ["mc", "--samples", "abc"],
    ["mc", "--samples", "1.5"],
    ["mc", "--alpha", "nan"],
    ["mc", "--alpha", "abc"],
    ["mc", "--mode", "nope"],
    ["mc", "--method", "nope"],
    ["mc", "--width", "65536"],
    ["mc", "--mode", "marginal", "--width", "65536"],
    ["mc", "--layer", "0"],
    ["mc", "--layer", "5"],
    ["mc", "--alpha", "0"],
    ["mc", "--samples", "0"],
    ["mc", "--mode", "marginal", "--layer", "1"],
    ["mc", "--mode", "marginal", "--samples", "100000000"],
    ["mc", "--method", "reduced", "--loss", "mse"],
    ["mc", "--method", "antithetic", "--init", "centered"],
    ["derive", "--latex", "--json", "--act", "nope"],
    ["train", "--classes", "100000"],
    ["train", "--batch", "100000"],
    ["train", "--width", "65536"],
    ["train", "--lr", "0"],
    ["train", "--momentum", "2"],
    ["train", "--seeds", "100000"],
    ["train", "--arch", "gpt", "--width", "130"],
    ["train", "--arch", "vit", "--data", "text"],
    ["verify", "--act=relu2", "--depth", "4"],
    ["report", "--out", ""],
    ["sweep", "--workers", "0"],
    ["train", "--steps", "0"],
    ["train", "--steps", "-1"],
    ["train", "--seeds", "0"],
    ["train", "--batch", "0"],
    ["train", "--lr", "nan"],
    ["train", "--lr", "abc"],
    ["train", "--opt", "nope"],
    ["train", "--data", "nope"],
    ["train", "--arch", "nope"],
    ["train", "--dtype", "float16"],
    ["train", "--schedule", "nope"],
    ["train", "--kernel", "nope"],
    ["train", "--norm", "nope"],
    ["report", "--pairs", "ce"],
    ["report", "--pairs", "nope:relu"],
    ["report", "--pairs", "ce:nope"],
    ["report", "--pairs", "ce:((x+1)**64)**64"],
    ["report", "--pairs", "ce:sqrt(x)"],
    ["report", "--out", "/proc/driftproof-x"],
    ["report", "--frobnicate"],
    ["sweep", "--grid", "nope"],
    ["sweep", "--workers", "abc"],
    ["sweep", "--frobnicate"],
    ["claims", "--frobnicate"],
    ["list", "--frobnicate"],
    ["list", "extra"],
    ["frobnicate"],
    ["--frobnicate"],
]

CASES = ([[command, *case] for command in NETWORK_COMMANDS for case in NETWORK_CASES]
         + [[command, *case] for command in ("verify", "mc", "train") for case in NUMERIC_CASES]
         + COMMAND_CASES)


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _run(argv: list[str], capsys) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    return code, out, err, seconds


def test_verify_gpt_over_the_time_limit_is_refused_up_front(capsys, tmp_path, monkeypatch):
    """verify --arch gpt states its time before any work; over DRIFTPROOF_MAX_SECONDS it is refused (exit 2)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTPROOF_MAX_SECONDS", "2")
    code, out, err, seconds = _run(["verify", "--arch", "gpt"], capsys)
    assert code == 2 and out == "" and seconds < SECONDS
    assert err.count("\n") == 1 and "verify --arch gpt" in err and "more than the 2 s allowed" in err
    assert _files(tmp_path) == []


def test_the_table_has_at_least_100_cases():
    assert len(CASES) >= 100
    assert {case[0] for case in CASES} >= {"verify", "derive", "mc", "train", "report", "sweep", "claims", "list"}


@pytest.mark.parametrize("argv", CASES, ids=" ".join)
def test_bad_input_is_refused_in_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = ["--out", str(tmp_path / "out")] if argv[0] in ("train", "report") and "--out" not in argv else []
    code, out, err, seconds = _run(argv + extra, capsys)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("driftproof: error: "), err
    assert "Traceback" not in err and "Warning" not in err
    assert _files(tmp_path) == []
    assert seconds < SECONDS


# Accepted inputs at the edge of meaning: a verdict (0 holds, 1 violated, 3 inconclusive) or a
# refusal (2), on one line when refused; never a crash (70) and never a raw warning.
DEGENERATE = [
    ["verify", "--act=Heaviside(x)", "--only", "symbolic", "--only", "montecarlo"],
    ["verify", "--act=x*1e-300", "--only", "symbolic"],
    ["verify", "--act=exp(1000*x)", "--only", "montecarlo"],
    ["verify", "--act=(x+1)**64", "--only", "montecarlo"],
    ["verify", "--loss", "mse", "--act=Max(x,0)**64", "--only", "montecarlo"],
    ["verify", "--act=x**5", "--only", "montecarlo"],
    ["verify", "--act=x*1e-300", "--only", "montecarlo"],
    ["derive", "--act=exp(exp(exp(x)))"],
    ["derive", "--act=x*1e-300"],
    ["derive", "--act=Heaviside(x)"],
    ["derive", "--act=x*1e-300", "--depth", "2"],
    ["derive", "--loss", "mse", "--act=exp(1000*x)"],
    ["derive", "--scale", "std=1e10"],
    ["derive", "--act=(x+1)**64"],
    ["mc", "--act=Heaviside(x)", "--samples", "2048"],
    ["mc", "--loss", "mse", "--act=x*1e-300", "--samples", "2048"],
    ["train", "--act=x*1e-300", "--steps", "3", "--seeds", "1", "--no-figures", "--no-control"],
    ["train", "--lr", "100", "--steps", "20", "--seeds", "1", "--no-figures", "--no-control", "--no-progress"],
]


@pytest.mark.parametrize("argv", DEGENERATE, ids=" ".join)
def test_degenerate_input_ends_in_a_verdict_or_a_refusal(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = ["--out", str(tmp_path / "out")] if argv[0] == "train" else []
    code, out, err, seconds = _run(argv + extra, capsys)
    assert code in (0, 1, 2, 3), (code, err)
    assert "Traceback" not in err and "Warning" not in err, err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and _files(tmp_path) == []
    else:
        assert out.strip()
    assert seconds < 60


@pytest.mark.parametrize("argv", [
    ["verify", "--act=sqrt(x)"],
    ["mc", "--samples", "1000000000000"],
    ["train", "--scale", "std=1e200"],
    ["derive", "--act=((x+1)**64)**64"],
    ["report", "--pairs", "ce:((x+1)**64)**64"],
], ids=" ".join)
def test_the_entry_point_refuses_in_one_line(argv, tmp_path):
    """The real process: no warning or traceback reaches stderr, nothing is written, exit 2."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "driftproof", *argv], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert time.perf_counter() - start < 60
    lines = process.stderr.strip().splitlines()
    assert process.returncode == 2 and len(lines) == 1 and lines[0].startswith("driftproof: error: "), process.stderr
    assert process.stdout == "" and _files(tmp_path) == []
