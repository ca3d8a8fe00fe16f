"""Fault tests for a running sweep: Ctrl-C once, Ctrl-C twice, SIGKILL to the parent, a second sweep.

Each launches ``driftproof sweep`` on the 8-job ``fault`` grid (tests/sweeps/fault_grid.py, two
workers, ~1 s a job) in a process of its own, waits for the first stored result, then interrupts
it. Asserted: the exit time (Ctrl-C: within 2 s), the exit status, that no worker survives, that
every stored result is whole, and that a rerun completes with results identical to an
uninterrupted run (every number but the wall time).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from driftproof.errors import InputError
from driftproof.sweeps import SweepStore, run_sweep

from .fault_grid import fault_jobs, install
from ..harness import default_sigint

psutil = pytest.importorskip("psutil")
ROOT = Path(__file__).resolve().parents[2]
INTERRUPT_SECONDS = 2.0


def launch(out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-m", "tests.sweeps.fault_grid", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=default_sigint)


def wait_for_results(process: subprocess.Popen, out: Path, count: int = 1, timeout: float = 60.0) -> list:
    """Block until ``count`` results are stored; the parent's worker processes at that moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if len(list((out / "results").glob("*.json"))) >= count:
            return psutil.Process(process.pid).children(recursive=True)
        time.sleep(0.05)
    process.kill()
    pytest.fail("no result stored in time")


def assert_gone(workers: list, timeout: float = 3.0) -> None:
    gone, alive = psutil.wait_procs(workers, timeout=timeout)
    assert not alive, f"workers survived: {[p.pid for p in alive]}"


def stored(out: Path) -> dict:
    """Every stored result, without its wall time (and the checksum that covers it); every file must parse
    (nothing half-written)."""
    results = {}
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text())
        result.pop("seconds")
        result.pop("checksum")
        results[path.stem] = result
    return results


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reference")
    run_sweep(fault_jobs(), SweepStore(out), workers=2)
    return stored(out)


def rerun_matches(out: Path, reference: dict) -> None:
    process = launch(out)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert stored(out) == reference
    assert not list(out.rglob("*.tmp")) and not list(out.parent.glob(".*partial*"))


def interrupt(process: subprocess.Popen, *signals: signal.Signals, gap: float = 0.05) -> float:
    start = time.monotonic()
    for n, signum in enumerate(signals):
        if n:
            time.sleep(gap)
        process.send_signal(signum)
    process.wait(timeout=30)
    return time.monotonic() - start


@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_stops_within_two_seconds_and_keeps_finished_results(tmp_path, reference, presses):
    out = tmp_path / "sweep"
    process = launch(out)
    workers = wait_for_results(process, out)
    assert len(workers) == 2
    seconds = interrupt(process, *[signal.SIGINT] * presses)
    err = process.stderr.read()
    assert seconds < INTERRUPT_SECONDS, f"took {seconds:.2f} s to stop"
    assert process.returncode == 130 and err.strip() == "driftproof: interrupted"
    assert_gone(workers)
    kept = stored(out)
    assert 1 <= len(kept) < len(reference) and all(kept[key] == reference[key] for key in kept)
    assert not list(out.rglob("*.tmp"))  # workers stopped by SIGTERM remove their temporary files
    rerun_matches(out, reference)


def test_killing_the_parent_takes_its_workers_with_it(tmp_path, reference):
    out = tmp_path / "sweep"
    process = launch(out)
    workers = wait_for_results(process, out)
    interrupt(process, signal.SIGKILL)
    assert_gone(workers)
    kept = stored(out)  # a worker killed mid-write leaves at most a hidden temporary file, never a partial result
    assert all(kept[key] == reference[key] for key in kept)
    rerun_matches(out, reference)  # the rerun removes stale temporary files and finishes the grid


def test_a_second_sweep_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "sweep"
    process = launch(out)
    try:
        wait_for_results(process, out)
        install()
        with pytest.raises(InputError, match="another sweep .* is writing into"):
            run_grid_here(out)
    finally:
        interrupt(process, signal.SIGINT)
    before = set(stored(out))
    assert before  # the refused sweep wrote nothing and removed nothing


def run_grid_here(out: Path):
    from driftproof.sweeps import run_grid

    return run_grid("fault", out, workers=1)
