"""Local worker processes for a sweep that stop when asked: Ctrl-C, a second Ctrl-C, or the parent's death.

``concurrent.futures`` waits for running jobs when its pool shuts down (an interrupted default
sweep took 15-49 s to exit), a second Ctrl-C could leave it waiting on a worker's lock for ever,
and its workers outlive a killed parent. Here instead:

- each worker ignores SIGINT (a terminal sends it to the whole process group: the parent decides),
  asks the kernel to kill it when the parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, Linux) and
  checks the parent's pid between jobs as the portable fallback;
- a worker takes the next job from a shared counter, stores its result itself (written to a
  temporary name and renamed, so a result on disk is always whole) and then reports the key: every
  finished result survives whatever happens to the parent;
- the parent stops its workers with SIGTERM (a worker unwinds, removing its temporary file) and
  SIGKILL after :data:`GRACE` seconds, with SIGINT ignored meanwhile, so a second Ctrl-C cannot
  interrupt the cleanup half-way. A sweep therefore exits within about a second of Ctrl-C.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from typing import Callable

from .job import run_job
from .store import SweepStore

__all__ = ["run_local", "GRACE"]

GRACE = 0.5  # seconds a worker has to unwind after SIGTERM before SIGKILL
POLL = 0.1  # seconds between the parent's checks on its workers (bounds the reaction to Ctrl-C)
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pid check between jobs remains
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _worker(jobs: list[dict], root: str, counter, results, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    _die_with_parent(parent)
    store = SweepStore(root)
    while os.getppid() == parent:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        if index >= len(jobs):
            return
        try:
            result = run_job(jobs[index])
            store.put(result)
        except Exception:  # noqa: BLE001 - reported to the parent, which raises it
            results.put(("error", index, traceback.format_exc()))
            return
        results.put(("done", index, result["key"]))


def _ignoring_sigint():
    """Ignore SIGINT (main thread only, where Python allows it); returns the handler to restore."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(processes: list) -> None:
    previous = _ignoring_sigint()
    try:
        for process in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + GRACE
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join(1.0)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _failed(processes: list) -> str | None:
    codes = [process.exitcode for process in processes if process.exitcode not in (None, 0)]
    return f"a sweep worker exited with status {codes[0]}" if codes else None


def run_local(jobs: list[dict], store: SweepStore, workers: int, done: Callable[[dict], None]) -> None:
    """Run ``jobs`` (as ``Job.to_dict()``) in ``workers`` processes; ``done(result)`` for each stored one.

    Raises RuntimeError when a job fails in a worker (with the worker's traceback) or a worker dies;
    KeyboardInterrupt passes through once the workers are stopped.
    """
    context = multiprocessing.get_context("fork")
    counter, results = context.Value("l", 0), context.Queue()
    processes = [context.Process(target=_worker, args=(jobs, str(store.root), counter, results, os.getpid()),
                                 name=f"driftproof-sweep-{n}", daemon=True) for n in range(workers)]
    try:
        for process in processes:
            process.start()
        finished, idle_after_exit = 0, 0
        while finished < len(jobs):
            try:
                kind, index, value = results.get(timeout=POLL)
            except queue.Empty:
                failure = _failed(processes)
                # every worker gone: one more wait for what they flushed before exiting, then give up
                idle_after_exit += not any(process.is_alive() for process in processes)
                if failure or idle_after_exit > 1:
                    raise RuntimeError(failure or "the sweep workers stopped before every job finished") from None
                continue
            if kind == "error":
                raise RuntimeError(f"sweep job {index} failed in a worker:\n{value}")
            finished += 1
            done(store.get_key(value))
    finally:
        _stop(processes)
        results.close()
