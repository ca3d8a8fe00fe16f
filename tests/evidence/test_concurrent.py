"""verify's evidence groups run at once (training in a forked child): the same rows as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftproof.evidence.concurrent import beside
from driftproof.errors import InputError

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter (no Numba thread pool started, so forking is allowed): the rows of one
# configuration run concurrently and serially, as JSON without the timings.
_BOTH = """
import json, sys
from driftproof.config import Config
from driftproof.verification import verify
from driftproof.evidence.concurrent import can_fork

def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value

config = Config(**json.loads(sys.argv[1]))
out = {"forked": can_fork()}
for name, concurrent in (("concurrent", True), ("serial", False)):
    out[name] = strip(verify(config, concurrent=concurrent).to_dict())
print(json.dumps(out))
"""


@pytest.mark.parametrize("config", [
    {"loss": "ce", "act": "gelu", "width": 64},
    {"loss": "mse", "act": "relu", "init": "centered", "width": 48, "depth": 2},
])
def test_concurrent_rows_are_the_serial_rows(config):
    """Every number, verdict and row order the same (timings aside): ce/gelu width 64, and mse/relu
    centered depth 2 (a violated control), seed 0."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _BOTH, json.dumps(config)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    if len(os.sched_getaffinity(0)) > 1:
        assert out["forked"], "a fresh process on 2+ CPUs runs the groups concurrently"
    assert out["concurrent"] == out["serial"]
    assert [row["kind"] for row in out["concurrent"]["evidence"]][-1] == "training"


def test_beside_returns_both_results_and_runs_them_at_once():
    started = time.perf_counter()
    mine, theirs = beside(lambda: (time.sleep(0.5), os.getpid())[1], lambda: (time.sleep(0.5), os.getpid())[1])
    assert mine == os.getpid() and theirs != mine
    assert time.perf_counter() - started < 0.95  # two half-second sleeps at once, not one after the other


def test_an_error_in_the_child_is_raised_here_with_its_traceback():
    def fail():
        raise InputError("width must be positive, got 0")

    with pytest.raises(InputError, match="width must be positive") as caught:
        beside(lambda: 1, fail)
    assert any("in the evidence process beside verify" in note and "fail" in note
               for note in getattr(caught.value, "__notes__", []))


def test_an_error_here_kills_the_child():
    marker = Path(f"/tmp/driftproof-beside-{os.getpid()}")
    marker.unlink(missing_ok=True)

    def slow_child():
        time.sleep(2.0)
        marker.write_text("child finished")

    def fail():
        raise RuntimeError("here")

    with pytest.raises(RuntimeError, match="here"):
        beside(fail, slow_child)
    time.sleep(2.5)
    assert not marker.exists()  # the child was killed, not left to finish


def test_no_fork_while_another_python_thread_runs():
    """A notebook kernel runs several threads: verify then stays in one process (a lock held by another
    thread at the fork would stay held in the child)."""
    import threading

    from driftproof.evidence.concurrent import can_fork

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not can_fork()
    finally:
        release.set()
        other.join()
