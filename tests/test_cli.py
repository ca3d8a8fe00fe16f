import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from driftproof.cli import main

from .harness import default_sigint


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_holds_table_and_exit_code(capsys):
    import mpmath

    # GELU's sigma sigma' changes sign where GELU' = Phi(x) + x phi(x) = 0: an independent oracle.
    root = mpmath.findroot(lambda t: mpmath.ncdf(t) + t * mpmath.npdf(t), -0.75)
    code, out, err = run(capsys, "verify", "--loss", "ce", "--act", "gelu", "--only", "symbolic")
    assert code == 0
    assert "R3 sign map" in out and f"{float(root):.10g}" in out and "verdict: HOLDS" in out


def test_a_failing_evidence_source_is_an_internal_error_not_a_verdict(capsys, monkeypatch):
    """A source that raises fails verify with exit 70 and a line naming it; its rows are never dropped."""
    from driftproof import verification
    from driftproof.evidence import Source

    def broken(config, progress):
        raise RuntimeError("planted failure")

    real = verification.sources_of
    monkeypatch.setattr(verification, "sources_of", lambda arch: tuple(
        Source(s.kind, s.name, broken if s.kind == "montecarlo" else s.rows) for s in real(arch)))
    code, out, err = run(capsys, "verify", "--act", "relu", "--only", "symbolic", "--only", "montecarlo")
    assert code == 70 and out == ""
    assert err.count("\n") == 1 and "Monte Carlo evidence failed" in err and "planted failure" in err
    assert "Traceback" not in err
    path = err.rsplit("traceback in ", 1)[1].rstrip(")\n")
    assert "RuntimeError: planted failure" in open(path).read()


@pytest.mark.parametrize("argv,code", [
    (["--loss", "mse", "--act=-exp(-x)"], 1),
    (["--loss", "mse", "--act", "-exp(-x)"], 1),  # the spaced form of an expression with a leading minus
    (["--loss", "mse", "--act", "relu", "--init", "centered"], 1),
    (["--loss", "mse", "--act", "relu", "--init", "shifted(mean=0.0007)"], 3),
    (["--loss", "mse", "--act", "tanh", "--depth", "3"], 0),
])
def test_verify_exit_codes(capsys, argv, code):
    assert run(capsys, "verify", "--only", "symbolic", *argv)[0] == code


def test_verify_json(capsys):
    code, out, _ = run(capsys, "verify", "--act", "relu", "--depth", "2", "--only", "symbolic", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["verdict"] == "holds"
    assert {"kind", "name", "verdict", "numbers"} <= set(payload["evidence"][0])
    assert payload["config"]["depth"] == 2 and payload["environment"]["numba"]


@pytest.mark.parametrize("argv", [
    ["verify", "--act", "nonsense_fn(x)"],
    ["verify", "--act", "__import__('os').system('touch /tmp/driftproof_cli_pwned')"],
    ["verify", "--loss", "hinge"],
    ["verify", "--init", "cauchy"],
    ["verify", "--scale", "std=-2"],
    ["verify", "--width", "0"],
    ["verify", "--width", "-5"],
    ["verify", "--depth", "0"],
    ["verify", "--classes", "1"],
    ["verify", "--width", "abc"],
    ["verify", "--seed", "1.5"],
    ["derive", "--act", "x +"],
    ["derive", "--loss", "mse", "--act", "relu(a=2)"],
    ["frobnicate"],
    ["verify", "--no-such-flag"],
])
def test_bad_input_is_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("driftproof: error:")
    assert "Traceback" not in err


def test_console_entry_point_refuses_unsafe_expression_and_creates_nothing(tmp_path):
    marker = tmp_path / "pwned"
    result = subprocess.run([sys.executable, "-m", "driftproof", "verify", "--act",
                             f"__import__('os').system('touch {marker}')"], capture_output=True, text=True)
    assert result.returncode == 2 and not marker.exists()
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_derive_text_latex_json(capsys):
    code, out, _ = run(capsys, "derive", "--loss", "mse", "--act", "relu2")
    assert code == 0 and "R1" in out and "R3" in out and "R4-R5" in out
    code, out, _ = run(capsys, "derive", "--loss", "ce", "--act", "gelu", "--latex")
    assert code == 0 and r"\begin{enumerate}" in out
    code, out, _ = run(capsys, "derive", "--loss", "ce", "--act", "silu", "--json")
    assert code == 0 and len(json.loads(out)["derivations"]) == 3


def test_list(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "clipped_relu2(c=50)" in out and "student_t(nu=5)" in out and "mse_mean" in out


@pytest.mark.parametrize("out", ["", "   ", "/proc/driftproof", "{file}", "{file}/below"])
def test_report_refuses_an_unusable_out_before_any_work(capsys, tmp_path, out):
    existing = tmp_path / "a-file"
    existing.write_text("keep me")
    before = sorted(tmp_path.rglob("*"))
    code, stdout, err = run(capsys, "report", "--quick", "--out", out.replace("{file}", str(existing)))
    assert code == 2 and stdout == "" and err.count("\n") == 1 and "--out" in err
    assert sorted(tmp_path.rglob("*")) == before and existing.read_text() == "keep me"


SCRATCH_SCRIPT = """
import sys, tempfile, time
import driftproof.api
def report(*args, **kwargs):  # stands in for the LaTeX build: a scratch folder held while working
    with tempfile.TemporaryDirectory(prefix="driftproof-tex-"):
        print("ready", flush=True)
        time.sleep(60)
driftproof.api.report = report
from driftproof.cli import main
sys.exit(main(["report", "--out", sys.argv[1]]))
"""


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_interrupted_or_terminated_command_removes_its_scratch_folders(tmp_path, signum, status):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen([sys.executable, "-c", SCRATCH_SCRIPT, str(tmp_path / "out")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    assert process.stdout.readline().strip() == "ready" and [p.name[:15] for p in scratch.iterdir()] == [
        "driftproof-tex-"]
    process.send_signal(signum)
    _, err = process.communicate(timeout=10)
    assert process.returncode == status and "Traceback" not in err
    assert list(scratch.iterdir()) == []


def test_every_command_with_a_progress_bar_takes_no_progress():
    """Scripts turn the bars off the same way everywhere (mc lacked the option)."""
    from driftproof.cli import build_parser

    parser = build_parser()
    for command in ("verify", "mc", "train", "sweep", "claims"):
        assert parser.parse_args([command, "--no-progress"]).no_progress is True
