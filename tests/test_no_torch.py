"""The core never imports torch: ``import driftproof``, the command line and ``verify`` run without it."""

from __future__ import annotations

import os
import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})


def test_import_driftproof_imports_no_torch():
    done = _run("import sys, driftproof; assert 'torch' not in sys.modules, 'torch imported'")
    assert done.returncode == 0, done.stderr


def test_verify_and_the_command_table_import_no_torch():
    # the whole command line (probe's command included) and one verify, symbolic rows only (a second or two)
    done = _run("import sys\nfrom driftproof.cli import main\n"
                "status = main(['verify', '--loss', 'mse', '--act', 'relu', '--only', 'symbolic'])\n"
                "assert 'torch' not in sys.modules, 'torch imported'\nsys.exit(status)")
    assert done.returncode == 0, done.stderr
    assert "verdict:" in done.stdout
