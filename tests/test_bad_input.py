"""The bad-input table: every subcommand refuses bad input with one line on stderr, exit 2, no
traceback, nothing written, and quickly (the budgets and the float64 range check refuse before
any work). Accepted but degenerate inputs end in a verdict or a refusal, never in a crash.

Cases run in-process (``driftproof.cli.main``) in an empty working folder with ``--out`` inside
it where the command writes; a handful run as subprocesses to check the real entry point.
"""

from __future__ import annotations

import json
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
    ["mc", "--mode", "marginal", "--width", "65536", "--init", "laplace"],  # every weight drawn: hours
    ["mc", "--mode", "marginal", "--width", "65536", "--samples", "100000000"],  # projected, still hours
    ["mc", "--layer", "0"],
    ["mc", "--layer", "5"],
    ["mc", "--alpha", "0"],
    ["mc", "--samples", "0"],
    ["mc", "--mode", "marginal", "--layer", "1"],
    ["mc", "--mode", "marginal", "--samples", "1000000000"],  # projected: about 3 h at width 256
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


# --- Output folders: never overwritten, never mixed; every check before any work -----------------------------
# (setup, argv): the setup builds the user's files in an empty working folder; the command must refuse with
# exit 2 in one line and leave every file as it was (contents, links and all).

def _user_file(tmp: Path) -> None:
    (tmp / "p").mkdir()
    (tmp / "p" / "run.json").write_text("mine\n")


def _user_notes(tmp: Path) -> None:
    (tmp / "p").mkdir()
    (tmp / "p" / "notes.txt").write_text("mine\n")


def _user_results(tmp: Path) -> None:  # a folder of someone else's, with a results/ file but not a sweep's
    (tmp / "p").mkdir()
    (tmp / "p" / "report.json").write_text("{}\n")


def _dangling(tmp: Path) -> None:
    os.symlink("nowhere", tmp / "p")


def _loop(tmp: Path) -> None:
    os.symlink("q", tmp / "p")
    os.symlink("p", tmp / "q")


def _a_file(tmp: Path) -> None:
    (tmp / "p").write_text("mine\n")


def _nothing(tmp: Path) -> None:
    pass


TRAIN_QUICK = ["train", "--steps", "5", "--seeds", "1", "--no-figures", "--no-control", "--no-progress"]
OUT_COMMANDS = {"train": TRAIN_QUICK, "report": ["report", "--quick", "--no-pdf"],
                "sweep": ["sweep", "--grid", "quick", "--no-progress"],
                "claims": ["claims", "--run-sweep", "--grid", "quick"]}
OUT_SETUPS = [
    (_user_file, "p"),  # the example: p/run.json is the user's
    (_user_notes, "p"),
    (_dangling, "p"),
    (_dangling, "p/x"),
    (_loop, "p"),
    (_loop, "p/x"),
    (_a_file, "p"),
    (_a_file, "p/x"),
    (_nothing, "~nosuchuser-driftproof/x"),
    (_nothing, "a" * 240),  # fits NAME_MAX, but not with the scratch name .<name>.partial-XXXXXXXX
    (_nothing, "b" * 256),
    (_nothing, "/".join(["c" * 100] * 50)),  # a 5000-character path
    (_nothing, "x\0y"),
]
OUT_CASES = [(setup, [*OUT_COMMANDS[command], "--out", out]) for setup, out in OUT_SETUPS for command in OUT_COMMANDS]
OUT_CASES += [(_user_results, [*OUT_COMMANDS[command], "--out", "p"]) for command in ("train", "sweep", "claims")]
OUT_CASES += [(_user_notes, [*OUT_COMMANDS["train"], "--arch", "gpt", "--steps", "2", "--out", "p"])]


def _snapshot(folder: Path) -> dict:
    """Every entry under ``folder``: a file's bytes, a link's target, or 'dir'; links are not followed."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            key = str(path.relative_to(folder))
            out[key] = (f"-> {os.readlink(path)}" if path.is_symlink() else "dir" if path.is_dir()
                        else path.read_bytes())
    return out


@pytest.mark.parametrize("setup, argv", OUT_CASES,
                         ids=[f"{setup.__name__} {' '.join(argv)[:90]}" for setup, argv in OUT_CASES])
def test_out_is_refused_before_any_work_and_nothing_is_touched(setup, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)
    before = _snapshot(tmp_path)
    code, out, err, seconds = _run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("driftproof: error: --out "), err
    assert len(lines[0]) < 400 and "Traceback" not in err
    assert _snapshot(tmp_path) == before
    assert seconds < SECONDS


def test_a_run_folder_takes_a_rerun_of_its_configuration_only(capsys, tmp_path, monkeypatch):
    """Same configuration: replaced whole (figures of the older run removed); another: refused; --force: the
    user's other files kept. A symbolic link to a run folder is written through, not replaced."""
    monkeypatch.chdir(tmp_path)
    train = ["train", "--steps", "3", "--seeds", "1", "--no-control", "--no-progress", "--width", "16", "--depth", "1"]
    assert _run([*train, "--out", "r"], capsys)[0] == 0
    assert (tmp_path / "r" / "sign.png").is_file()
    os.symlink("r", tmp_path / "link")
    assert _run([*train, "--no-figures", "--out", "link"], capsys)[0] == 0  # a rerun of the same configuration
    assert (tmp_path / "link").is_symlink() and not (tmp_path / "r" / "sign.png").exists()
    before = _snapshot(tmp_path)
    code, _, err, _ = _run([*train, "--lr", "0.1", "--out", "r"], capsys)
    assert code == 2 and "another configuration (lr 0.05, not 0.1)" in err and "--force" in err
    assert _snapshot(tmp_path) == before
    (tmp_path / "r" / "notes.txt").write_text("mine\n")
    assert _run([*train, "--lr", "0.1", "--no-figures", "--out", "r", "--force"], capsys)[0] == 0
    assert (tmp_path / "r" / "notes.txt").read_text() == "mine\n"
    assert json.loads((tmp_path / "r" / "run.json").read_text())["spec"]["lr"] == 0.1
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
