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
import tempfile
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
    ["train", "--classes", "100000", "--steps", "2000"],  # estimated over the hour (68 min)
    ["train", "--batch", "1000000"],
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

# --- expressions (the activation parser and registry): one line that names the piece -------------------
EXPRESSION_CASES = [
    ("x**(1/3)", "is not real for x in (-inf, 0)"),
    ("x**(2/3)", "is not real for x in (-inf, 0)"),
    ("exp()", "exp takes 1 argument, got 0"),
    ("exp(x,x)", "exp takes 1 argument, got 2"),
    ("tanh(x,1)", "tanh takes 1 argument, got 2"),
    ("sigmoid(x,x)", "sigmoid takes 1 argument, got 2"),
    ("erf(x,x,x)", "erf takes 1 argument, got 3"),
    ("sqrt(x,2)", "sqrt takes 1 argument, got 2"),
    ("Heaviside(x,0.5)", "Heaviside takes 1 argument, got 2"),
    ("Max(x)", "Max takes at least 2 arguments, got 1"),
    ("gelu(x,x)", "gelu takes 1 argument, got 2"),
    ("x**1j", "imaginary numbers are not allowed"),
    ("exp(1j*x)", "imaginary numbers are not allowed"),
    ("x*(-1)**0.5", "is not a real number"),
    ("(-1)**(1/3)*x", "is not a real number"),
    ("1" + "0" * 400 + "*x", "401 digits"),
    ("clipped_relu2(c=1e300)", "parameter c = 1e+300 is out of range"),
    ("leaky_relu(a=1, a=2)", "parameter 'a' is given twice"),
    ("leaky_relu(a=nan)", "parameter 'a' must be a finite number, got 'nan'"),
    ("leaky_relu(a=inf)", "parameter 'a' must be a finite number, got 'inf'"),
    ("leaky_relu(x, a=2)", "parameters go in a spec of its own"),
    ("Piecewise((0, x < 0))", "the last piece of Piecewise must have the condition True"),
    ("Piecewise((0, x < 0 < 1), (x, True))", "the condition must be one comparison"),
    ("tanh(" * 41 + "x" + ")" * 41, "nested more than 40 levels deep"),
    ("gelu2(gelu2(gelu2(gelu2(x))))", "is too large: sigma*sigma' has more than 600 nodes"),
]
EXPRESSION_ARGV = [(command, ["--act", text], piece) for text, piece in EXPRESSION_CASES
                   for command in ("derive", "verify")]


@pytest.mark.parametrize("command,option,piece", EXPRESSION_ARGV, ids=lambda v: v if isinstance(v, str) else v[-1][:40])
def test_a_bad_expression_is_refused_naming_the_piece(command, option, piece, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err, seconds = _run([command, *option], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("driftproof: error: "), (code, err)
    assert piece in lines[0] and "Traceback" not in err and len(lines[0]) < 400, lines[0]
    assert _files(tmp_path) == [] and seconds < SECONDS


def test_a_parameter_keeps_its_full_precision(capsys, tmp_path, monkeypatch):
    """student_t(nu=2.0000001) is a valid init (nu > 2), not refused as nu=2 after rounding to 6 digits."""
    monkeypatch.chdir(tmp_path)
    code, out, err, seconds = _run(["derive", "--init", "student_t(nu=2.0000001)", "--json"], capsys)
    assert code in (0, 1, 3) and "2.0000001" in out, (code, err)


@pytest.mark.parametrize("act", ["tanh(" * 20 + "x" + ")" * 20, "gelu2(gelu2(gelu2(x)))"])
def test_deep_nesting_ends_within_the_time_limit(act, capsys, tmp_path, monkeypatch):
    """derive on tanh nested 20 deep, GELU² nested 3 deep (refused: too large) ends with a
    verdict or a refusal within the limit."""
    monkeypatch.chdir(tmp_path)
    code, out, err, seconds = _run(["derive", "--act", act], capsys)
    assert code in (0, 1, 2, 3) and "Traceback" not in err and seconds < SECONDS, (code, err, seconds)


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


# --- Environment variables: one line naming the variable, exit 2, before any work ----------------------------
ENV_COMMANDS = {"mc": ["mc", "--samples", "2048"], "verify": ["verify", "--only", "montecarlo"],
                "train": TRAIN_QUICK + ["--out", "out"], "sweep": ["sweep", "--grid", "quick", "--out", "out"]}
ENV_CASES = [({"NUMBA_NUM_THREADS": value}, command, "NUMBA_NUM_THREADS")
             for value in ("0", "-1", "abc", "1.5") for command in ENV_COMMANDS]
ENV_CASES += [({"NUMBA_DISABLE_JIT": value}, command, "NUMBA_DISABLE_JIT")
              for value in ("1", "true") for command in ("mc", "verify")]
ENV_CASES += [({"MPLBACKEND": value}, command, "MPLBACKEND")
              for value in ("bogus", "not a backend") for command in ENV_COMMANDS]
# A shifted init whose mean leaves float64's range: refused with the variance's bound, no numpy warning flood.
ENV_CASES += [({}, [*argv, "--init", "shifted(mean=1e308)"], "shifted(mean=1e308)")
              for argv in (["mc", "--samples", "2048"], ["verify"], ["derive"], TRAIN_QUICK + ["--out", "out"])]
ENV_CASES += [({}, [*argv, "--init", "shifted(mean=1e120)"], "second moment")
              for argv in (["mc", "--samples", "2048"], TRAIN_QUICK + ["--out", "out"])]
# verify --arch resmlp is quadratic in the depth: estimated before any work, refused past the hour (it hung for hours).
ENV_CASES += [({}, ["verify", "--arch", "resmlp", "--depth", depth], "verify --arch resmlp") for depth in ("32", "64")]
ENV_CASES += [({"DRIFTPROOF_MAX_SECONDS": "60"}, ["verify", "--arch", "resmlp", "--depth", "8"], "verify --arch resmlp")]
# A transformer's training states its estimate; over DRIFTPROOF_MAX_SECONDS it is refused before any work.
ENV_CASES += [({"DRIFTPROOF_MAX_SECONDS": "2"}, [*TRAIN_QUICK, "--arch", arch, "--out", "out"], f"train --arch {arch}")
              for arch in ("gpt", "vit")]


@pytest.mark.parametrize("env, argv, named", ENV_CASES,
                         ids=[f"{' '.join(f'{k}={v}' for k, v in env.items())} {a if isinstance(a, str) else a[0]}"
                              f"{'' if isinstance(a, str) else ' ' + ' '.join(a[-2:])}" for env, a, _ in ENV_CASES])
def test_a_bad_environment_is_named_in_one_line(env, argv, named, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err, seconds = _run(ENV_COMMANDS[argv] if isinstance(argv, str) else argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and out == "", (code, err)
    assert len(lines) == 1 and lines[0].startswith("driftproof: error: ") and named in lines[0], err
    assert "Traceback" not in err and "Warning" not in err
    assert _files(tmp_path) == [] and seconds < SECONDS


def test_a_long_training_run_states_its_estimate_first(capsys, tmp_path, monkeypatch):
    from driftproof.commands import train

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train, "ANNOUNCE_SECONDS", 0.0)  # as if long: the estimate is stated before the work
    code, out, err, _ = _run([*TRAIN_QUICK, "--arch", "vit", "--steps", "2", "--n-test", "16", "--width", "32",
                              "--depth", "1", "--out", "run"], capsys)
    assert code == 0, err
    (line,) = err.strip().splitlines()
    assert line.startswith("train --arch vit, width 32, depth 1, 2 steps x 1 seeds: about ") and "(estimated)" in line


def _temporary_caches() -> set[str]:
    return {path.name for path in Path(tempfile.gettempdir()).glob("driftproof-cache-*")}


@pytest.mark.parametrize("how", ["a file", "under a file", "in /proc"])
def test_an_unusable_kernel_cache_falls_back_with_a_notice(how, capsys, tmp_path, monkeypatch):
    """DRIFTPROOF_CACHE a file, below a file, or where nothing can be written: the run works with a temporary
    cache, says so in one line, and removes it at the end."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("mine\n")
    cache = {"a file": tmp_path / "file", "under a file": tmp_path / "file" / "x",
             "in /proc": Path("/proc/driftproof-cache")}[how]
    monkeypatch.setenv("DRIFTPROOF_CACHE", str(cache))
    before = _temporary_caches()
    code, out, err, _ = _run([*TRAIN_QUICK, "--kernel", "numba", "--width", "16", "--out", "run"], capsys)
    assert code == 0 and "run folder: run" in out, err
    (line,) = err.strip().splitlines()
    assert line.startswith("driftproof: notice: the kernel cache") and "unusable" in line
    assert (tmp_path / "file").read_text() == "mine\n" and _temporary_caches() <= before


# --- Standard output that cannot take the results: the real process -------------------------------------------
def _process(argv: list[str], tmp_path: Path, stdout, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **env}
    return subprocess.run([sys.executable, "-m", "driftproof", *argv], cwd=tmp_path, env=environment, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.mark.parametrize("argv", [["list"], ["--version"]], ids=" ".join)
def test_a_full_stdout_ends_in_one_line_and_exit_74(argv, tmp_path):
    with open("/dev/full", "w") as full:
        process = _process(argv, tmp_path, full)
    assert process.returncode == 74, process.stderr
    assert process.stderr.strip().splitlines() == ["driftproof: error: No space left on device (writing the results "
                                                   "to stdout)"]


def test_a_closed_stdout_is_refused_before_any_work(tmp_path):
    code = ("import os, subprocess, sys; os.close(1); "
            "sys.exit(subprocess.run([sys.executable, '-m', 'driftproof', 'list']).returncode)")
    closed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, timeout=120)
    assert closed.returncode == 74 and len(closed.stderr.strip().splitlines()) == 1, closed.stderr
    assert "stdout is closed" in closed.stderr and _files(tmp_path) == []


def test_an_ascii_stdout_gets_the_results_and_one_notice(tmp_path):
    process = _process(["derive", "--act", "relu"], tmp_path, subprocess.PIPE, PYTHONIOENCODING="ascii")
    assert process.returncode == 0 and "R3" in process.stdout, process.stderr
    (line,) = process.stderr.strip().splitlines()
    assert line.startswith("driftproof: notice: stdout takes ascii only") and "Traceback" not in process.stderr


# --- The Python API: InputError (the CLI's one line), never a raw exception ---------------------------------
def _run_folder(tmp: Path, **files) -> Path:
    """A run folder whose files are the given bytes or JSON values (the rest minimal but well-formed)."""
    folder = tmp / "run"
    folder.mkdir()
    contents = {"run.json": {"config": {}, "spec": {}}, "summary.json": {"summary": {}, "first_step_vs_R5": None},
                "metrics.json": {"runs": []}, **files}
    for name, value in contents.items():
        (folder / name).write_bytes(value if isinstance(value, bytes) else json.dumps(value).encode())
    return folder


def _verify_json(tmp: Path, value) -> Path:
    path = tmp / "verify.json"
    path.write_bytes(value if isinstance(value, bytes) else json.dumps(value).encode())
    return path


def _sweep_folder(tmp: Path, manifest=None, results=None) -> Path:
    folder = tmp / "sweep"
    (folder / "results").mkdir(parents=True)
    if manifest is not None:
        (folder / "sweep.json").write_bytes(manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode())
    for name, value in (results or {}).items():
        (folder / "results" / name).write_bytes(value if isinstance(value, bytes) else json.dumps(value).encode())
    return folder


def _unchecksummed(tmp: Path) -> Path:
    """A sweep folder holding one result of a real configuration, its checksum deleted (an edit could hide so)."""
    from driftproof.sweeps import Job

    job = Job(act="relu", data="noise", width=8, depth=1, steps=4, batch=8, n_train=32, n_test=16)
    return _sweep_folder(tmp, None, {f"{job.key}.json": {"key": job.key, "job": job.to_dict(), "diverged": False}})


def _sympy(text: str):
    import sympy as sp

    return sp.sympify(text, locals={"x": sp.Symbol("x"), "y": sp.Symbol("y")})


API_CASES = {
    "verify(scale=0.1)": lambda dp, tmp: dp.verify(scale=0.1),
    "verify(loss=1)": lambda dp, tmp: dp.verify(loss=1),
    "derive(init=None)": lambda dp, tmp: dp.derive(init=None),
    "verify(act=3)": lambda dp, tmp: dp.verify(act=3),
    "verify(arch=['mlp'])": lambda dp, tmp: dp.verify(arch=["mlp"]),
    "verify(only=[1])": lambda dp, tmp: dp.verify(only=[1]),
    "verify(width='wide')": lambda dp, tmp: dp.verify(width="wide"),
    "verify(seed=-1)": lambda dp, tmp: dp.verify(seed=-1),
    "mc(samples='1024')": lambda dp, tmp: dp.mc(samples="1024"),
    "mc(samples=1.5)": lambda dp, tmp: dp.mc(samples=1.5),
    "mc(alpha='x')": lambda dp, tmp: dp.mc(alpha="x"),
    "mc(layer=1.0)": lambda dp, tmp: dp.mc(layer=1.0),
    "mc(method=3)": lambda dp, tmp: dp.mc(method=3),
    "mc(mode=None)": lambda dp, tmp: dp.mc(mode=None),
    "mc(mode=['marginal'])": lambda dp, tmp: dp.mc(mode=["marginal"]),
    "train(lr='x')": lambda dp, tmp: dp.train(lr="x", steps=2, seeds=1),
    "train(clip_norm=-1)": lambda dp, tmp: dp.train(clip_norm=-1.0, steps=2, seeds=1),
    "train(clip_norm='1')": lambda dp, tmp: dp.train(clip_norm="1", steps=2, seeds=1),
    "train(out=123)": lambda dp, tmp: dp.train(out=123, steps=2, seeds=1),
    "train(out='')": lambda dp, tmp: dp.train(out="", steps=2, seeds=1),
    "sweep(grid=5)": lambda dp, tmp: dp.sweep(grid=5, out=tmp / "s"),
    "sweep(workers='2')": lambda dp, tmp: dp.sweep(grid="quick", out=tmp / "s", workers="2"),
    "load(123)": lambda dp, tmp: dp.load(123),
    "load('a\\0b')": lambda dp, tmp: dp.load("a\0b"),
    "load(missing)": lambda dp, tmp: dp.load(tmp / "missing"),
    "load(run: run.json binary)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"run.json": b"\xff\xfe\x00"})),
    "load(run: run.json truncated)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"run.json": b'{"config": {'})),
    "load(run: run.json a list)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"run.json": [1, 2]})),
    "load(run: run.json keyless)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"run.json": {}})),
    "load(run: metrics keyless)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"metrics.json": {}})),
    "load(run: metrics runs wrong)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"metrics.json": {"runs": [3]}})),
    "load(run: summary binary)": lambda dp, tmp: dp.load(_run_folder(tmp, **{"summary.json": b"\x80"})),
    "load(verify: verdict 2)": lambda dp, tmp: dp.load(_verify_json(tmp, {"verdict": 2, "evidence": [],
                                                                          "config": {}})),
    "load(verify: evidence 3)": lambda dp, tmp: dp.load(_verify_json(tmp, {"verdict": "holds", "evidence": 3,
                                                                           "config": {}})),
    "load(verify: no config)": lambda dp, tmp: dp.load(_verify_json(tmp, {"verdict": "holds", "evidence": []})),
    "load(verify: binary)": lambda dp, tmp: dp.load(_verify_json(tmp, b"\xff\xd8\xff")),
    "load(verify: deep)": lambda dp, tmp: dp.load(_verify_json(tmp, b"[" * 100000)),
    "load(sweep: grid 123)": lambda dp, tmp: dp.load(_sweep_folder(tmp, {"grid": 123, "jobs": []})),
    "load(sweep: manifest a list)": lambda dp, tmp: dp.load(_sweep_folder(tmp, [1])),
    "load(sweep: manifest binary)": lambda dp, tmp: dp.load(_sweep_folder(tmp, b"\xff")),
    "load(sweep: keyless result)": lambda dp, tmp: dp.load(_sweep_folder(tmp, None, {"k.json": {"a": 1}})),
    "load(sweep: truncated result)": lambda dp, tmp: dp.load(_sweep_folder(tmp, None, {"k.json": b'{"key": '})),
    "load(sweep: empty)": lambda dp, tmp: dp.load(_sweep_folder(tmp)),
    "claims(out=a file)": lambda dp, tmp: dp.claims(_verify_json(tmp, {})),
    "load(sweep: result without checksum)": lambda dp, tmp: dp.load(_unchecksummed(tmp)),
    "register_activation(x**(1/3) in SymPy)": lambda dp, tmp: dp.register_activation("bad_cbrt", _sympy("x**(1/3)")),
    "register_activation(x*y)": lambda dp, tmp: dp.register_activation("bad_xy", _sympy("x*y")),
    "register_activation(3 + 0*x)": lambda dp, tmp: dp.register_activation("bad_const", _sympy("3 + 0*x")),
}


@pytest.mark.parametrize("name", API_CASES)
def test_the_api_raises_input_error(name, tmp_path, monkeypatch):
    import driftproof

    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with pytest.raises(driftproof.InputError) as raised:
        API_CASES[name](driftproof, tmp_path)
    assert type(raised.value) is driftproof.InputError and len(str(raised.value).splitlines()) == 1
    assert time.perf_counter() - start < SECONDS


def test_the_table_has_at_least_320_cases():
    """The files, environment and API blocks add at least 80 cases; the table holds at least 320 in all."""
    added = len(OUT_CASES) + len(ENV_CASES) + len(API_CASES)
    assert added >= 80
    assert len(CASES) + len(DEGENERATE) + added >= 320
