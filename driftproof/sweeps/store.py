"""Resumable storage of sweep results: one JSON file per finished configuration.

``<root>/results/<key>.json``, where ``key`` hashes the configuration and the package
version (:attr:`Job.key`). Files are written to a temporary name and renamed into place
(atomic on POSIX), so an interrupted sweep leaves only whole results behind and a rerun
skips every configuration already stored. ``<root>/sweep.json`` records the grid the folder
holds (a folder never mixes grids) and ``<root>/.lock`` keeps a second sweep out while one writes.

Nothing in the folder is trusted blindly (:meth:`SweepStore.audit`): a result counts only when it is
a readable JSON file named by its own key, its configuration hashes to that key, its checksum (written
by :meth:`SweepStore.put`; a result without one is refused) matches its contents, and it belongs to the grid ``sweep.json`` records
(itself checked against that grid's configurations). Anything else is named, never counted: a resume
recomputes a damaged result, ``claims`` refuses the folder until it is fixed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError
from .grid import GRIDS, Job, is_grid, make_grid

__all__ = ["SweepStore", "sweep_folder_conflict", "check_result", "read_result", "result_checksum", "CHECKSUM"]


class SweepStore:
    """The results of a sweep in a folder, keyed by configuration hash."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.folder = self.root / "results"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def has(self, job: Job) -> bool:
        """Whether a valid result of ``job`` is stored (a damaged one is not: a resume recomputes it)."""
        return self.get_key(job.key) is not None

    def missing(self, jobs: list[Job]) -> list[Job]:
        """The jobs without a stored result, in order."""
        return [job for job in jobs if not self.has(job)]

    def put(self, result: dict) -> Path:
        """Store one result atomically (temporary file in the same folder, then rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(result["key"])
        _write_atomic(target, json.dumps({**result, CHECKSUM: result_checksum(result)}, indent=1, allow_nan=False))
        return target

    def get(self, job: Job) -> dict | None:
        return self.get_key(job.key)

    def get_key(self, key: str) -> dict | None:
        """The valid result stored under ``key``, or None (none stored, or a damaged one)."""
        result, problem = read_result(self.path(key))
        return result if problem is None else None

    def load(self, jobs: list[Job] | None = None) -> list[dict]:
        """Stored results: of ``jobs`` (the valid ones), or every result in the folder, all checked
        (:meth:`audit` against the recorded grid): InputError naming any file that is not a valid result."""
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"--out must be a folder, got the file {str(self.root)!r}")
        if jobs is not None:
            return [r for r in (self.get(job) for job in jobs) if r is not None]
        grid, grid_jobs = self.recorded_grid()
        valid, problems = self.audit(None if grid_jobs is None else {job.key for job in grid_jobs})
        if problems:
            raise InputError(_problems_text(self.root, grid, problems))
        return [valid[name] for name in sorted(valid)]

    def audit(self, keys: set[str] | frozenset[str] | None = None) -> tuple[dict[str, dict], list[tuple[str, str]]]:
        """Every ``*.json`` entry of ``results/``: the valid results (by file name) and, for the others,
        (file name, what is wrong). ``keys``: the grid's configurations (None: any configuration)."""
        valid, problems = {}, []
        if not self.folder.is_dir():
            return valid, problems
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or not path.name.endswith(".json"):
                continue  # a writer's temporary file, or not a result at all
            result, problem = read_result(path)
            if problem is None and keys is not None and result["key"] not in keys:
                problem = "is not a configuration of the grid"
            if problem is None:
                valid[path.name] = result
            else:
                problems.append((path.name, problem))
        return valid, problems

    def recorded_grid(self) -> tuple[str | None, list[Job] | None]:
        """The grid ``sweep.json`` records and its configurations, (None, None) without a record;
        InputError when the record does not name a grid or lists other configurations than its grid's."""
        manifest = self.manifest()
        if manifest is None:
            return None, None
        grid, where = manifest.get("grid"), str(self.manifest_path)
        if not is_grid(grid):
            raise InputError(f"{where!r} names the grid {grid!r}, not one of {', '.join(GRIDS)}: the folder's record is "
                             "damaged; move the folder aside and run the sweep again")
        jobs = make_grid(grid)
        if manifest.get("jobs") != [job.key for job in jobs]:
            raise InputError(f"{where!r} says grid {grid!r} but does not list that grid's configurations: the "
                             "record was edited or another version wrote it; move the folder aside and run the sweep "
                             "again")
        return grid, jobs

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
        if not isinstance(payload, dict):
            raise InputError(f"unreadable sweep manifest {str(self.manifest_path)!r}: not a JSON object")
        return payload

    def check_grid(self, grid: str, jobs: list[Job]) -> None:
        """Refuse (InputError) a folder that holds another grid's results, or files in results/ that a
        resume cannot recompute (a folder, a result under another name or of another configuration);
        reads only. A damaged result of one of ``jobs`` is left to be recomputed."""
        recorded, _ = self.recorded_grid()
        if recorded is not None and recorded != grid:
            raise InputError(f"{str(self.root)!r} holds the {recorded!r} grid, not {grid!r}: run "
                             f"`driftproof sweep --grid {recorded} --out {self.root}` there, or choose another --out")
        if recorded is None and self.folder.is_dir():
            keys = {job.key for job in jobs}
            foreign = [path.stem for path in self.folder.glob("*.json") if path.stem not in keys]
            if foreign:
                raise InputError(f"{str(self.root)!r} holds {len(foreign)} results that are not in the {grid!r} "
                                 f"grid: choose another --out")
        keys = {job.key for job in jobs}
        _, problems = self.audit(keys)
        stuck = [(name, problem) for name, problem in problems if not self.recomputable(name, keys)]
        if stuck:
            raise InputError(_problems_text(self.root, grid, stuck))

    def recomputable(self, name: str, keys: set[str]) -> bool:
        """Whether a resume may overwrite ``results/<name>``: a regular file named by a grid key."""
        path = self.folder / name
        return name.endswith(".json") and name[:-5] in keys and path.is_file() and not path.is_symlink()

    def write_manifest(self, payload: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.manifest_path, json.dumps(payload, indent=1))

    def damaged(self, jobs: list[Job]) -> list[tuple[str, str]]:
        """(file name, what is wrong) of each damaged result of ``jobs``, which a resume recomputes."""
        keys = {job.key for job in jobs}
        return [(name, problem) for name, problem in self.audit(keys)[1] if self.recomputable(name, keys)]

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


CHECKSUM = "checksum"
# Every result has these and the checksum. A result without one is refused like any damaged result (a resume
# recomputes it, claims names it): the key hashes MEASURE_VERSION 3, which reached main with the checksums, so
# no released writer of a current key left one out; accepting it would let an edit pass by deleting the checksum.
_REQUIRED = {"key": str, "job": dict, "diverged": bool}


def result_checksum(result: dict) -> str:
    """The checksum :meth:`SweepStore.put` writes: sha256 of the result without its checksum, keys sorted."""
    body = json.dumps({k: v for k, v in result.items() if k != CHECKSUM}, sort_keys=True, allow_nan=False)
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def read_result(path: Path) -> tuple[dict | None, str | None]:
    """(result, None) for a valid stored result (its checksum removed), else (None, what is wrong)."""
    if not path.exists() and not path.is_symlink():
        return None, "is missing"
    if not path.is_file():
        return None, "is not a file"
    try:
        result = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        return None, f"cannot be read ({error.strerror})"
    except UnicodeDecodeError:
        return None, "is not text"
    except (json.JSONDecodeError, RecursionError) as error:
        return None, f"is not valid JSON ({getattr(error, 'msg', 'nested too deep')})"
    result, problem = check_result(result, checksum_required=True)
    if problem is None and path.name != f"{result['key']}.json":
        return None, f"holds the result {result['key'][:20]!r} under another name (a copy?)"
    return (result, None) if problem is None else (None, problem)


def check_result(result, *, checksum_required: bool = False) -> tuple[dict | None, str | None]:
    """(result without its checksum, None) when ``result`` (parsed JSON) is a valid sweep result, else (None,
    what is wrong): its fields, its configuration hashing to its key, its checksum matching its contents
    (``checksum_required``: a result without one is refused too)."""
    if not isinstance(result, dict) or any(not isinstance(result.get(name), kind) for name, kind in _REQUIRED.items()):
        return None, "is not a sweep result (no key, job or diverged)"
    result = dict(result)
    try:
        if Job.from_dict(result["job"]).key != result["key"]:
            return None, "has a configuration that does not hash to its key (edited, or another version wrote it)"
        stored = result.pop(CHECKSUM, None)
        if stored is None and checksum_required:
            return None, "has no checksum (removed, or written by a development version): its numbers cannot be checked"
        if stored is not None and stored != result_checksum(result):
            return None, "has a checksum that does not match its contents (changed after it was written)"
    except (TypeError, ValueError):  # a field of an unexpected type; a non-finite number
        return None, "holds values no sweep writes"
    return result, None


def _problems_text(root: Path, grid: str | None, problems: list[tuple[str, str]]) -> str:
    """One line naming the files of results/ that are not valid results, and what to do."""
    named = "; ".join(f"results/{name} {problem}" for name, problem in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    what = "file that is not a valid result" if len(problems) == 1 else "files that are not valid results"
    of_grid = "" if grid is None else f" of the {grid!r} grid"
    rerun = f"driftproof sweep --grid {grid} --out {root}" if grid else "driftproof sweep --grid GRID --out ..."
    return (f"{str(root)!r} holds {len(problems)} {what}{of_grid}: {named}{more}; `{rerun}` recomputes a damaged "
            "result of its grid, anything else must be moved out of results/")


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
