"""Run one symbolic step with a wall-clock and a memory limit that cannot be swallowed.

SymPy's factor / limit / real_roots can run away on an innocent-looking custom activation:
``factor`` of ``exp(-(x - 19.165164689755503)**2)`` turns the float into a rational and
builds a dense polynomial in exp(x) of degree about 10^16, and memory grows until the
machine's out-of-memory killer stops the whole process. A SIGALRM raised into such a call
is not enough either: SymPy and the garbage collector catch exceptions in places, so the
alarm can be lost and the step keeps going.

``bounded(make, seconds)`` therefore runs ``make()`` in a forked child whose address space
is capped (``MEMORY_LIMIT`` bytes above what the parent already maps) and whose CPU time is
capped at ``seconds`` (SIGPROF, whose default action ends the process), so that the same step
gets the same chance on a quiet and on a loaded machine; the parent also kills it after
``WALL_FACTOR`` times as long on the wall clock, in case it sleeps or waits. The value comes back pickled through a pipe; a step that
raises, runs out of time or memory, or returns something unpicklable gives ``None``, and
the caller treats it as a step that did not help. Works from any thread and from daemonic
worker processes (a plain ``os.fork``, not ``multiprocessing``).
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import time
from typing import Callable, TypeVar

__all__ = ["bounded", "MEMORY_LIMIT"]

T = TypeVar("T")

MEMORY_LIMIT = 2 * 2**30  # bytes a step may add to the parent's address space
WALL_FACTOR = 30.0  # wall-clock limit = WALL_FACTOR * the CPU limit + WALL_SLACK
WALL_SLACK = 1.0
_CHUNK = 1 << 16


def _mapped_bytes() -> int:
    """The address space this process maps now (first field of /proc/self/statm, in pages)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(make: Callable[[], T], writer: int, memory: int, seconds: float) -> None:
    """In the forked child: cap memory and CPU time, compute, send (ok, value), leave without cleanup."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides about Ctrl-C
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)  # terminate when the CPU time is spent
        signal.setitimer(signal.ITIMER_PROF, seconds)
        mapped = _mapped_bytes()
        if mapped:
            _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = mapped + memory
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        try:
            payload = pickle.dumps((True, make()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - any failure of the step means "no answer"
            payload = pickle.dumps((False, None))
        view = memoryview(payload)
        while view:
            written = os.write(writer, view[:_CHUNK])
            view = view[written:]
    finally:
        os._exit(0)


def bounded(make: Callable[[], T], seconds: float, memory: int = MEMORY_LIMIT) -> T | None:
    """``make()`` computed in a child process within ``seconds`` of CPU time and ``memory`` bytes, else None."""
    if seconds <= 0:
        return None
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
        os.close(reader)
        _child(make, writer, memory, seconds)
    os.close(writer)
    deadline = time.monotonic() + WALL_FACTOR * seconds + WALL_SLACK
    chunks: list[bytes] = []
    finished = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([reader], [], [], left)
            if not ready:
                break
            chunk = os.read(reader, _CHUNK)
            if not chunk:
                finished = True
                break
            chunks.append(chunk)
    finally:
        os.close(reader)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
    if not finished or not chunks:
        return None
    try:
        ok, value = pickle.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 - a truncated or unreadable answer is no answer
        return None
    return value if ok else None
