"""Two groups of evidence at once: one in a forked child, the other here (2 cores, verify ~2x faster).

The child is forked after every import, so it starts at once and shares the parent's modules; it
runs its work and sends back the result (or the exception it raised) through a pipe. Each group's
numbers are computed exactly as in one process (every random stream is keyed by the seed, never
by the process), so the rows are the same as a serial run's; the tests check that.

The child ignores SIGINT (a terminal sends Ctrl-C to the whole process group: the parent decides),
dies with its parent (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, Linux), and is killed by the parent when
the parent stops early (an error, Ctrl-C, SIGTERM). Forking is only done where it is safe: POSIX,
more than one CPU available, no other Python thread, and no Numba thread pool started in this process yet (a forked child
would inherit a pool whose threads are gone).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import threading
import traceback
from typing import Callable, TypeVar

__all__ = ["can_fork", "beside", "bar_line"]

T = TypeVar("T")
U = TypeVar("U")
_PR_SET_PDEATHSIG = 1
_IN_CHILD = False


def bar_line() -> int | None:
    """The terminal line for a progress bar made here: 1 in the forked child (the parent's bars keep
    line 0, so the two do not overwrite each other), None (tqdm's choice) otherwise."""
    return 1 if _IN_CHILD else None


def can_fork() -> bool:
    """Whether a child can run beside this process: fork exists, 2+ CPUs, no other Python thread (a
    notebook's kernel has several: a lock one of them holds at the fork would stay held in the child)
    and no Numba thread pool started."""
    if not hasattr(os, "fork") or _cpus() < 2 or threading.active_count() > 1:
        return False
    if "numba" in sys.modules:
        from numba.np.ufunc import parallel

        return not getattr(parallel, "_is_initialized", True)
    return True


def _cpus() -> int:
    """The CPUs this process may run on (all of them where the platform cannot say)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _child(work: Callable[[], U], write: int, parent: int) -> None:
    """Run ``work`` and write ("ok", result) or ("error", exception) to ``write``; never returns."""
    status = 0
    try:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread of this process: Ctrl-C reaches the parent's main thread
            pass
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: the parent still kills it when it stops early
            pass
        if os.getppid() != parent:
            os._exit(1)
        global _IN_CHILD
        _IN_CHILD = True
        try:
            payload = ("ok", work())
        except BaseException as error:  # noqa: BLE001 - sent to the parent, which raises it
            error.add_note("in the evidence process beside verify:\n" + "".join(traceback.format_exception(error)))
            payload = ("error", error)
        try:
            data = pickle.dumps(payload)
        except Exception as error:  # noqa: BLE001 - an exception that does not pickle: its words do
            data = pickle.dumps(("error", RuntimeError(f"{type(payload[1]).__name__}: {payload[1]} ({error})")))
        with os.fdopen(write, "wb") as stream:
            stream.write(data)
    except BaseException:  # noqa: BLE001 - the parent sees a child that sent nothing
        status = 1
    finally:
        os._exit(status)


def beside(here: Callable[[], T], forked: Callable[[], U]) -> tuple[T, U]:
    """(here(), forked()), the second run in a forked child at the same time as the first.

    An exception raised by either is raised here (the child's with its traceback as a note); the
    child is killed if this process stops before it has finished.
    """
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(forked, write, parent)
    os.close(write)
    done = False
    try:
        mine = here()
        stream, read = os.fdopen(read, "rb"), None
        with stream:
            data = stream.read()
        os.waitpid(pid, 0)
        done = True
    finally:
        if read is not None:
            os.close(read)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the evidence process beside verify ended without a result")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return mine, value
