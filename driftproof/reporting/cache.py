"""A result cache keyed by configuration and package version, written atomically.

An interrupted build loses no finished result: each result is one JSON file, renamed into
place only when complete. The costly results (the report's training runs) are jobs (:class:`Job`: a
function and its arguments), so :meth:`ResultCache.fill` can compute the missing ones in worker
processes before the sections read them; every job runs with one BLAS thread, in a worker or not, so a
result does not depend on how many processes built it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from threadpoolctl import threadpool_limits

from .._version import __version__
from ..results import json_default

__all__ = ["ResultCache", "Job", "SCHEMA"]

SCHEMA = 2  # the layout of cached results; entries of another schema are recomputed, never misread


@dataclass(frozen=True)
class Job:
    """One cached result and how to compute it: ``compute(*args)``."""

    kind: str
    key: dict
    compute: Callable
    args: tuple = ()

    def run(self):
        with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only cost, and vary sums
            return self.compute(*self.args)


def _worker_start() -> None:
    # Ctrl-C reaches the whole process group: the parent alone handles it (and stops the workers); SIGTERM
    # from the parent's pool.terminate() ends a worker at once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


_PENDING: list = []  # fill()'s jobs, inherited by its forked workers (an activation's compiled code does not pickle)


def _run_job(index: int) -> tuple[int, str]:
    return index, json.dumps(_PENDING[index].run(), default=json_default)


class ResultCache:
    """JSON results under ``folder``, one file per (kind, key, package version)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self.accessed: list[str] = []  # file names, in order of use (provenance: what a figure was drawn from)
        self._fresh: set[str] = set()  # computed by fill() in this build: counted as computed when read
        self.computed_here: list[str] = []  # file names computed by get() itself, in this process

    def path(self, kind: str, key: dict) -> Path:
        text = json.dumps({"kind": kind, "key": key, "version": __version__, "schema": SCHEMA}, sort_keys=True,
                          default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        return self.folder / f"{kind}-{digest}.json"

    def get(self, kind: str, key: dict, compute: Callable[[], dict]) -> dict:
        """The cached result for (kind, key), computing and storing it on a miss."""
        path = self.path(kind, key)
        self.accessed.append(path.name)
        found = self._read(path)
        if found is not None:
            fresh = path.name in self._fresh
            self._fresh.discard(path.name)
            self.hits += not fresh
            self.misses += fresh
            return found["result"]
        self.misses += 1
        self.computed_here.append(path.name)
        return self._store(path, kind, key, json.dumps(compute(), default=json_default))

    def get_job(self, job: Job):
        """:meth:`get` for a :class:`Job`."""
        return self.get(job.kind, job.key, job.run)

    def fill(self, jobs: list[Job], workers: int, progress: Callable[[int, int], None] | None = None) -> int:
        """Compute the jobs not cached yet in ``workers`` processes (forked) and store them; returns how many.
        ``progress(done, total)`` is called before the first (done = 0) and after each.

        With one worker (or one missing job) nothing is done here: :meth:`get` computes each when it is read.
        Ctrl-C or SIGTERM stops the workers; the results finished by then are kept.
        """
        unique = {self.path(job.kind, job.key): job for job in jobs}
        missing = [(path, job) for path, job in unique.items() if self._read(path) is None]
        if workers <= 1 or len(missing) <= 1:
            return 0
        if progress is not None:
            progress(0, len(missing))
        context = multiprocessing.get_context("fork")
        _PENDING[:] = [job for _, job in missing]
        pool = context.Pool(min(workers, len(missing)), initializer=_worker_start)
        try:
            for done, (index, text) in enumerate(pool.imap_unordered(_run_job, range(len(missing))), start=1):
                path, job = missing[index]
                self._store(path, job.kind, job.key, text)
                self._fresh.add(path.name)
                if progress is not None:
                    progress(done, len(missing))
            pool.close()
        finally:
            pool.terminate()
            pool.join()
            _PENDING.clear()
        return len(missing)

    @staticmethod
    def _read(path: Path) -> dict | None:
        if not path.exists():
            return None
        try:
            found = json.loads(path.read_text())
            return found if "result" in found else None  # a damaged entry is recomputed
        except (OSError, json.JSONDecodeError, TypeError):
            return None

    def _store(self, path: Path, kind: str, key: dict, result_json: str):
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"kind": kind, "key": key, "version": __version__, "result": json.loads(result_json)},
                             default=json_default, indent=1)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            stream.write(payload)
        os.replace(temporary, path)
        return json.loads(payload)["result"]

