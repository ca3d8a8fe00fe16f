"""Resumable storage of sweep results: one JSON file per finished configuration.

``<root>/results/<key>.json``, where ``key`` hashes the configuration and the package
version (:attr:`Job.key`). Files are written to a temporary name and renamed into place
(atomic on POSIX), so an interrupted sweep leaves only whole results behind and a rerun
skips every configuration already stored. ``<root>/sweep.json`` records the grid the folder
holds (a folder never mixes grids) and ``<root>/.lock`` keeps a second sweep out while one writes.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError
from .grid import Job

__all__ = ["SweepStore", "sweep_folder_conflict"]


class SweepStore:
    """The results of a sweep in a folder, keyed by configuration hash."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.folder = self.root / "results"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def has(self, job: Job) -> bool:
        return self.path(job.key).is_file()

    def missing(self, jobs: list[Job]) -> list[Job]:
        """The jobs without a stored result, in order."""
        return [job for job in jobs if not self.has(job)]

    def put(self, result: dict) -> Path:
        """Store one result atomically (temporary file in the same folder, then rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(result["key"])
        _write_atomic(target, json.dumps(result, indent=1, allow_nan=False))
        return target

    def get(self, job: Job) -> dict | None:
        return self.get_key(job.key)

    def get_key(self, key: str) -> dict | None:
        path = self.path(key)
        return json.loads(path.read_text()) if path.is_file() else None

    def load(self, jobs: list[Job] | None = None) -> list[dict]:
        """Stored results: of ``jobs`` (those finished), or every result in the folder."""
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--out must be a folder, got the file {str(self.root)!r}")
        if jobs is not None:
            return [r for r in (self.get(job) for job in jobs) if r is not None]
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except json.JSONDecodeError as error:
                raise InputError(f"unreadable sweep result {str(path)!r}: {error}") from None
        return out

    @property
    def manifest_path(self) -> Path:
        return self.root / "sweep.json"

    def manifest(self) -> dict | None:
        """The recorded grid (``{"grid": name, "jobs": [keys]}``), or None for a new folder."""
        if not self.manifest_path.is_file():
            return None
        try:
            payload = json.loads(self.manifest_path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"unreadable sweep manifest {str(self.manifest_path)!r}: {error}") from None
        return payload if isinstance(payload, dict) else None

    def check_grid(self, grid: str, jobs: list[Job]) -> None:
        """Refuse (InputError) a folder that holds another grid's results; reads only."""
        recorded = (self.manifest() or {}).get("grid")
        if recorded is not None and recorded != grid:
            raise InputError(f"{str(self.root)!r} holds the {recorded!r} grid, not {grid!r}: run "
                             f"`driftproof sweep --grid {recorded} --out {self.root}` there, or choose another --out")
        if recorded is None and self.folder.is_dir():
            keys = {job.key for job in jobs}
            foreign = [path.stem for path in self.folder.glob("*.json") if path.stem not in keys]
            if foreign:
                raise InputError(f"{str(self.root)!r} holds {len(foreign)} results that are not in the {grid!r} "
                                 f"grid: choose another --out")

    def write_manifest(self, payload: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.manifest_path, json.dumps(payload, indent=1))

    def remove_temporaries(self) -> None:
        """Temporary files a killed writer left behind (call while holding :meth:`lock`)."""
        for folder in (self.root, self.folder):
            for path in folder.glob(".*.tmp") if folder.is_dir() else ():
                path.unlink(missing_ok=True)

    @contextmanager
    def lock(self):
        """Hold ``<root>/.lock`` (an advisory flock, released by the kernel if the process dies);
        InputError at once if another sweep holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ".lock"
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text().strip() or "unknown"
            os.close(handle)
            raise InputError(f"another sweep (pid {holder}) is writing into {str(self.root)!r}: wait for it "
                             f"to finish or choose another --out") from None
        try:
            os.ftruncate(handle, 0)
            os.write(handle, str(os.getpid()).encode())
            yield self
        finally:
            os.close(handle)


def sweep_folder_conflict(folder: Path) -> str | None:
    """None when the non-empty ``folder`` is a sweep folder (its grid is checked by
    :meth:`SweepStore.check_grid`); otherwise why a sweep may not write there (the ``--out`` refusal)."""
    folder = Path(folder)
    if (folder / "sweep.json").is_file() or (folder / "results").is_dir():
        return None
    if all(entry.name == ".lock" for entry in folder.iterdir()):  # a refused or killed sweep's lock file
        return None
    return "is not empty and is not a driftproof sweep folder (no sweep.json or results/)"


def _write_atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o644)  # mkstemp's 0600 would make a shared results folder unreadable to others
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
