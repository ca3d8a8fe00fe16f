"""Resumable storage of sweep results: one JSON file per finished configuration.

``<root>/results/<key>.json``, where ``key`` hashes the configuration and the package
version (:attr:`Job.key`). Files are written to a temporary name and renamed into place
(atomic on POSIX), so an interrupted sweep leaves only whole results behind and a rerun
skips every configuration already stored.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..errors import InputError
from .grid import Job

__all__ = ["SweepStore"]


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
        handle, temporary = tempfile.mkstemp(prefix=f".{result['key']}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump(result, stream, indent=1, allow_nan=False)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    def get(self, job: Job) -> dict | None:
        path = self.path(job.key)
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

    def write_manifest(self, payload: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "sweep.json").write_text(json.dumps(payload, indent=1))
