"""Run the jobs a store does not have yet: local processes, or a Dask cluster.

The default executor is a local process pool (``concurrent.futures``). ``scheduler`` sends
the same pure function, :func:`~driftproof.sweeps.job.run_job`, to a dask.distributed
cluster (``Client(address)``; or a ready ``Client``). Results are stored by the calling
process as each one finishes, so an interrupted sweep keeps everything that finished.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable

from ..errors import InputError
from .grid import Job
from .job import run_job
from .store import SweepStore

__all__ = ["run_sweep", "SweepRun"]


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
        workers: local processes (default: the CPU count, at most the number of jobs);
            1 runs in this process, with no pool.
        tick: called with each stored result (progress bars).
        connect_timeout: seconds to wait for the Dask scheduler at ``scheduler``.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    start = time.perf_counter()
    todo = store.missing(jobs)
    run = SweepRun(total=len(jobs), skipped=len(jobs) - len(todo))
    if not todo:
        run.seconds = time.perf_counter() - start
        return run

    def done(result: dict) -> None:
        store.put(result)
        run.ran.append(result["key"])
        if tick is not None:
            tick(result)

    if scheduler is not None:
        run.executor = "dask"
        _run_dask(todo, scheduler, done, connect_timeout)
    else:
        workers = workers or min(len(todo), os.cpu_count() or 1)
        run.executor = f"local x{workers}"
        if workers == 1:
            for job in todo:
                done(run_job(job))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(run_job, job.to_dict()) for job in todo]
                try:
                    for future in as_completed(futures):
                        done(future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    run.seconds = time.perf_counter() - start
    return run


def _run_dask(todo: list[Job], scheduler, done, connect_timeout: float) -> None:
    from distributed import Client, as_completed as dask_completed  # a dependency; ~1 s to import, so only here
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except (OSError, TimeoutError, ValueError) as error:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from None
    else:
        client = scheduler
    try:
        # pure=False: the key is ours, so dask must not dedupe or cache across calls
        futures = [client.submit(run_job, job.to_dict(), key=f"driftproof-{job.key}", pure=False) for job in todo]
        try:
            for future in dask_completed(futures):
                done(future.result())
        except BaseException:
            client.cancel(futures)
            raise
    finally:
        if own:
            client.close()
