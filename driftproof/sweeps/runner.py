"""Run the jobs a store does not have yet: local processes, or a Dask cluster.

The default executor is local worker processes (:mod:`.pool`: they store each result as it
finishes, stop within a second of Ctrl-C and die with their parent). ``scheduler`` sends the
same pure function, :func:`~driftproof.sweeps.job.run_job`, to a dask.distributed cluster
(``Client(address)``; or a ready ``Client``); then the calling process stores each result as it
arrives. Either way an interrupted sweep keeps everything that finished.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from ..errors import InputError
from .grid import Job, make_grid
from .job import run_job
from .pool import run_local
from .store import SweepStore

__all__ = ["run_sweep", "run_grid", "connected", "SweepRun", "worker_count", "MAX_WORKERS_PER_CORE"]

# More processes than this per core only add memory and switching: each job is single-threaded.
MAX_WORKERS_PER_CORE = 4


def worker_count(workers: int | None, jobs: int) -> int:
    """The local processes for ``jobs`` jobs: ``workers`` (or the core count), at most one per job.

    Raises:
        InputError: ``workers`` is not a positive integer, or exceeds MAX_WORKERS_PER_CORE x the cores.
    """
    cores = os.cpu_count() or 1
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    if workers is not None and workers > MAX_WORKERS_PER_CORE * cores:
        raise InputError(f"workers must be at most {MAX_WORKERS_PER_CORE * cores} ({MAX_WORKERS_PER_CORE} per core "
                         f"on {cores} cores; each job runs on one core), got {workers}")
    return max(1, min(workers or cores, jobs))


@dataclass
class SweepRun:
    """What one call of :func:`run_sweep` did."""

    total: int
    skipped: int
    ran: list[str] = field(default_factory=list)  # keys, in the order they finished
    seconds: float = 0.0
    executor: str = "local"

    def to_dict(self) -> dict:
        return {"total": self.total, "skipped": self.skipped, "ran": len(self.ran), "seconds": self.seconds,
                "executor": self.executor}


def run_sweep(jobs: list[Job], store: SweepStore, *, scheduler=None, workers: int | None = None,
              tick: Callable[[dict], None] | None = None, connect_timeout: float = 10.0) -> SweepRun:
    """Run every job of ``jobs`` that ``store`` lacks; store each result as it finishes.

    Args:
        scheduler: None (local processes), a dask.distributed address ("tcp://host:8786")
            or a ``distributed.Client``.
        workers: local processes (default: the CPU count), at most one per job and
            MAX_WORKERS_PER_CORE per core; 1 runs in this process.
        tick: called with each stored result (progress bars).
        connect_timeout: seconds to wait for the Dask scheduler at ``scheduler``.
    """
    workers = worker_count(workers, len(jobs))
    start = time.perf_counter()
    todo = store.missing(jobs)
    run = SweepRun(total=len(jobs), skipped=len(jobs) - len(todo))

    def record(result: dict) -> None:
        run.ran.append(result["key"])
        if tick is not None:
            tick(result)

    def store_and_record(result: dict) -> None:
        store.put(result)
        record(result)

    if todo and scheduler is not None:
        run.executor = "dask"
        _run_dask(todo, scheduler, store_and_record, connect_timeout)
    elif todo:
        workers = min(workers, len(todo))
        run.executor = f"local x{workers}"
        if workers == 1:
            for job in todo:
                store_and_record(run_job(job))
        else:
            run_local([job.to_dict() for job in todo], store, workers, record)
    run.seconds = time.perf_counter() - start
    return run


@contextmanager
def connected(scheduler, connect_timeout: float = 10.0):
    """A dask.distributed Client for ``scheduler`` (an address, or a Client, kept open), or None."""
    if scheduler is None:
        yield None
        return
    from distributed import Client  # a dependency; ~1 s to import, so only here

    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        client = Client(scheduler, timeout=f"{connect_timeout}s")
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
    try:
        yield client
    finally:
        client.close()


def _run_dask(todo: list[Job], scheduler, done, connect_timeout: float) -> None:
    from distributed import as_completed as dask_completed

    with connected(scheduler, connect_timeout) as client:
        # pure=False: the key is ours, so dask must not dedupe or cache across calls
        futures = [client.submit(run_job, job.to_dict(), key=f"driftproof-{job.key}", pure=False) for job in todo]
        try:
            for future in dask_completed(futures):
                done(future.result())
        except BaseException:
            client.cancel(futures)
            raise


def run_grid(grid: str, root, *, scheduler=None, workers: int | None = None,
             tick: Callable[[dict], None] | None = None, connect_timeout: float = 10.0) -> tuple[list[Job], SweepRun]:
    """Run the named ``grid`` into the folder ``root``: every check first, then the lock, then the work.

    Refused (InputError) before anything is written: an unknown grid, a folder holding another
    grid, too many workers, an unreachable scheduler; and, holding nothing, a folder another
    sweep is writing into. The folder records its grid in ``sweep.json``.
    """
    jobs = make_grid(grid)
    store = SweepStore(root)
    store.load([])  # refuses a file where the folder should be
    store.check_grid(grid, jobs)
    worker_count(workers, len(jobs))
    with connected(scheduler, connect_timeout) as client, store.lock():
        store.remove_temporaries()
        store.write_manifest({"grid": grid, "jobs": [job.key for job in jobs]})
        return jobs, run_sweep(jobs, store, scheduler=client, workers=workers, tick=tick)
