"""``driftproof probe``: the shipped example GPT (the paper's functional clipped ReLU², unchanged) probed from
the command line, its JSON, and bad input in one line with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "torch_gpt.py"


def _probe(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    """The real program, in a fresh process."""
    return subprocess.run([sys.executable, "-m", "driftproof", "probe", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def probe_here(capsys, monkeypatch):
    """The command line's main in this process (torch is imported once): (status, stdout, stderr)."""
    from driftproof.cli import main

    def call(*args, cwd=ROOT):
        monkeypatch.chdir(cwd)
        status = main(["probe", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, status, out, err)
    return call


def test_probe_the_example_gpt_prints_a_verdict_table():
    done = _probe("--model", f"{EXAMPLE}:make_model", "--inits", "6", "--context", "16", "--batch", "4", "--wide")
    assert done.returncode in (0, 1, 3), done.stderr
    assert "h.0.mlp.c_fc E[δ|p>0]" in done.stdout and "h.1.mlp.c_fc E[δ|p>0]" in done.stdout
    assert "per token" in done.stdout and "verdict:" in done.stdout


def test_probe_json_by_module_name_and_digits(tmp_path, probe_here):
    (tmp_path / "mymodels.py").write_text(
        "import torch\n"
        "def mlp(num_classes):\n"
        "    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.GELU(), torch.nn.Linear(32, num_classes))\n")
    done = probe_here("--model", "mymodels:mlp", "--data", "digits", "--inits", "5", "--where", "0", "--json",
                  cwd=tmp_path)
    assert done.returncode in (0, 1, 3), done.stderr
    payload = json.loads(done.stdout)
    assert payload["config"]["layers"] == ["0"] and payload["config"]["delta_units"] == "per sample"
    assert payload["evidence"][0]["key"]["arch"] == "torch"
    assert payload["verdict"] == {0: "holds", 1: "violated", 3: "inconclusive"}[done.returncode]


def test_probe_reads_a_data_file(tmp_path, probe_here):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "batch.npz", x=rng.standard_normal((8, 20)).astype(np.float32), y=rng.integers(0, 3, 8))
    (tmp_path / "net.py").write_text("import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n"
                                     "        super().__init__(); self.fc1 = torch.nn.Linear(20, 16); "
                                     "self.fc2 = torch.nn.Linear(16, 3)\n"
                                     "    def forward(self, x):\n        return self.fc2(torch.tanh(self.fc1(x)))\n")
    done = probe_here("--model", f"{tmp_path / 'net.py'}:Net", "--data", str(tmp_path / "batch.npz"), "--inits", "5",
                  "--json")
    assert done.returncode in (0, 1, 3), done.stderr
    assert json.loads(done.stdout)["config"]["batch_shape"] == [8, 20]
    # a float batch into a token model: the model's own error, as one line saying the model failed on it
    done = probe_here("--model", f"{EXAMPLE}:make_model", "--data", str(tmp_path / "batch.npz"), "--inits", "5")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "the model failed on the batch" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    (["--model", "nosuchmodule:f"], "cannot import 'nosuchmodule'"),
    (["--model", "nocolon"], "package.module:factory"),
    (["--model", f"{EXAMPLE}:absent"], "has no callable 'absent'"),
    (["--model", f"{EXAMPLE}:make_model", "--inits", "2"], "at least 5"),
    (["--model", f"{EXAMPLE}:make_model", "--data", "nofile.npz"], "--data must be text, digits or a file"),
    (["--model", f"{EXAMPLE}:make_model", "--where", "nothing*", "--inits", "5"], "selects no module"),
])
def test_bad_input_is_one_line_and_exit_2(args, words, probe_here):
    done = probe_here(*args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and not done.stdout


def test_a_tied_embedding_drawn_n01_comes_out_as_it_is(probe_here):
    # nn.Embedding's N(0, 1) tied to the readout (verify --arch gpt cannot express it): at seed 0, 8 inits, one
    # batch of 4 windows of 32 characters, the sign is resolved negative in both blocks (README: -0.04 per token
    # at 256 inits and 64 characters); the paper's uniform tie is not resolved negative anywhere
    args = ("--inits", "8", "--context", "32", "--batch", "4", "--json")
    normal = probe_here("--model", f"{EXAMPLE}:make_model_normal_embedding", *args)
    assert normal.returncode == 1, normal.stderr
    assert all(row["verdict"] == "violated" for row in json.loads(normal.stdout)["evidence"])
    uniform = probe_here("--model", f"{EXAMPLE}:make_model", *args)
    assert uniform.returncode in (0, 3) and "violated" not in {r["verdict"] for r in json.loads(uniform.stdout)["evidence"]}
