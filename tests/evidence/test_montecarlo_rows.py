"""The Monte Carlo rows of ``driftproof verify``."""

from __future__ import annotations

import json

from driftproof.config import Config
from driftproof.evidence.montecarlo import DEFAULT_INITS, verify_rows
from driftproof.results import HOLDS, VIOLATED


def test_one_row_per_default_init_all_holding(capsys):
    # CE, gelu, width 64, seed 0: antithetic rows, every unit with p > 0 resolved positive.
    rows = verify_rows(Config(loss="ce", act="gelu", width=64), progress=False)
    assert [row.numbers["init"] for row in rows] == list(DEFAULT_INITS)
    assert all(row.kind == "montecarlo" and row.verdict == HOLDS for row in rows)
    assert rows[0].numbers["theory"] is not None and rows[0].numbers["theory"]["relative_error"] < 0.05
    json.dumps([row.to_dict() for row in rows])
    assert capsys.readouterr().err == ""  # no progress bar unless asked


def test_the_users_control_init_is_added_and_decided():
    # MSE, relu, centered, width 64, seed 0: the sixth row is the user's init, violated (cv).
    rows = verify_rows(Config(loss="mse", act="relu", init="centered", width=64), progress=False)
    assert len(rows) == len(DEFAULT_INITS) + 1
    last = rows[-1]
    assert last.numbers["init"] == "centered" and last.numbers["method"] == "cv"
    assert last.verdict == VIOLATED and last.numbers["sign_test"]["negative"] > 0
    assert last.numbers["theory"]["max_abs_z"] < 5


def test_negative_activation_rows_are_violated():
    rows = verify_rows(Config(loss="ce", act="-exp(-x)", width=32), progress=False)
    assert all(row.verdict == VIOLATED for row in rows)


def test_progress_goes_to_stderr(capsys):
    verify_rows(Config(loss="mse", act="relu", width=16, classes=3, init="shifted(mean=0.5)"), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "mc" in captured.err


def test_rows_run_on_the_numpy_drawn_path_without_numba():
    """verify's rows never load Numba (no compile, no cache load): the numpy-drawn reference path,
    named in each row; checked in a fresh interpreter."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, json\nfrom driftproof.config import Config\n"
            "from driftproof.evidence.montecarlo import verify_rows\n"
            "rows = verify_rows(Config(loss='ce', act='gelu', width=32))\n"
            "print(json.dumps(['numba' in sys.modules, [row.numbers['rng'] for row in rows]]))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded, rngs = json.loads(done.stdout)
    assert not loaded and set(rngs) == {"numpy"}
