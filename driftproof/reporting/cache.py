"""A result cache keyed by configuration and package version, written atomically.

An interrupted build loses no finished result: each result is one JSON file, renamed into
place only when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from .._version import __version__
from ..results import json_default

__all__ = ["ResultCache", "SCHEMA"]

SCHEMA = 2  # the layout of cached results; entries of another schema are recomputed, never misread


class ResultCache:
    """JSON results under ``folder``, one file per (kind, key, package version)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self.accessed: list[str] = []  # file names, in order of use (provenance: what a figure was drawn from)

    def path(self, kind: str, key: dict) -> Path:
        text = json.dumps({"kind": kind, "key": key, "version": __version__, "schema": SCHEMA}, sort_keys=True,
                          default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        return self.folder / f"{kind}-{digest}.json"

    def get(self, kind: str, key: dict, compute: Callable[[], dict]) -> dict:
        """The cached result for (kind, key), computing and storing it on a miss."""
        path = self.path(kind, key)
        self.accessed.append(path.name)
        if path.exists():
            try:
                self.hits += 1
                return json.loads(path.read_text())["result"]
            except (json.JSONDecodeError, KeyError):
                self.hits -= 1  # a damaged entry is recomputed
        self.misses += 1
        result = compute()
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"kind": kind, "key": key, "version": __version__, "result": result},
                             default=json_default, indent=1)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            stream.write(payload)
        os.replace(temporary, path)
        return json.loads(payload)["result"]

