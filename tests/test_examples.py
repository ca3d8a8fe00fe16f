"""The examples run as written (each in a fresh process, small settings, a few seconds each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    if script.stem.startswith("torch_"):  # the PyTorch examples: skipped without torch, except in CI
        import importlib.util

        if importlib.util.find_spec("torch") is None and os.environ.get("CI", "").lower() in ("", "0", "false", "no"):
            pytest.skip("PyTorch is not installed (pip install '.[torch]')")
    args = [sys.executable, str(script)] + ([str(tmp_path / "sweep")] if "sweep" in script.stem else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_the_reference_documentation_lists_the_api():
    text = subprocess.run([sys.executable, "-m", "pydoc", "driftproof"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PAGER": "cat"}).stdout
    for name in ("verify", "derive", "mc", "train", "claims", "load", "register_activation", "InputError"):
        assert name in text
