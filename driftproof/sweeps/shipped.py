"""The full sweeps' results, shipped with the package as data: ``driftproof/stored/<grid>.json.gz``.

A new user's ``driftproof report`` and ``driftproof claims --stored default`` read them instead of training
for the better part of an hour. A pack holds the results only (the JSON each job writes, with its checksum;
no checkpoints) and the provenance of the run that produced them: the commit, the command, the date, the
wall time and the machine. It is checked as strictly as a sweep folder (:func:`load_pack`): every result's
configuration must hash to its key and belong to this version's grid, every checksum must match, and a
result may not appear twice. ``scripts/pack_sweeps.py`` writes a pack from a finished sweep folder, and
``tests/sweeps/test_shipped.py`` reruns a sample of the stored configurations and compares them bit for bit.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from .grid import GRIDS, make_grid
from .store import CHECKSUM, check_result, result_checksum

__all__ = ["StoredSweep", "SHIPPED_GRIDS", "stored_sweep", "load_pack", "pack", "pack_path"]

SHIPPED_GRIDS = ("default", "transformer")
FORMAT = 1
STORED = Path(__file__).resolve().parent.parent / "stored"


@dataclass(frozen=True)
class StoredSweep:
    """One grid's shipped results (checksums checked and removed) and the provenance of their run."""

    grid: str
    results: tuple[dict, ...] = field(repr=False)
    provenance: dict = field(default_factory=dict)

    @property
    def source(self) -> str:
        """Where these results come from, in words (for a report or a claims table)."""
        p = self.provenance
        when = f" on {p['date']}" if p.get("date") else ""
        commit = f" at commit {str(p['commit'])[:10]}" if p.get("commit") else ""
        wall = f", {p['wall_minutes']:.0f} min wall on {p.get('cpus', '?')} cores" if p.get("wall_minutes") else ""
        return (f"the {self.grid!r} sweep shipped with driftproof ({len(self.results)} configurations, run{commit}"
                f"{when}{wall}; `{p.get('command', f'driftproof sweep --grid {self.grid}')}` regenerates it)")

    def to_dict(self) -> dict:
        return {"grid": self.grid, "n_results": len(self.results), "provenance": self.provenance}


def pack_path(grid: str) -> Path:
    return STORED / f"{grid}.json.gz"


@lru_cache(maxsize=None)
def stored_sweep(grid: str) -> StoredSweep | None:
    """The shipped results of ``grid`` (read and checked once per process), or None when none is shipped."""
    path = pack_path(grid)
    return load_pack(path, grid) if path.is_file() else None


def load_pack(path: str | Path, grid: str) -> StoredSweep:
    """Read and check a pack of ``grid``; InputError naming what is wrong and how to regenerate it."""
    path = Path(path)
    regenerate = (f"regenerate it: `driftproof sweep --grid {grid} --out sweeps/{grid}`, then "
                  f"`python scripts/pack_sweeps.py --grid {grid} --from sweeps/{grid}`")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            payload = json.load(stream)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"the stored sweep {str(path)!r} cannot be read ({error}); {regenerate}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise InputError(f"the stored sweep {str(path)!r} is not a format-{FORMAT} pack; {regenerate}")
    if payload.get("grid") != grid:
        raise InputError(f"the stored sweep {str(path)!r} holds the grid {payload.get('grid')!r}, not {grid!r}; "
                         f"{regenerate}")
    keys = {job.key for job in make_grid(grid)}
    results, problems, seen = [], [], set()
    raw = payload.get("results")
    for index, entry in enumerate(raw if isinstance(raw, list) else [None]):
        result, problem = check_result(entry, checksum_required=True)
        if problem is None and result["key"] not in keys:
            problem = f"is not a configuration of this version's {grid!r} grid"
        if problem is None and result["key"] in seen:
            problem = "appears twice"
        if problem is None:
            seen.add(result["key"])
            results.append(result)
        else:
            problems.append(f"result {index} {problem}")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InputError(f"the stored sweep {str(path)!r} holds {len(problems)} results that are not valid: "
                         f"{'; '.join(problems[:3])}{more}; {regenerate}")
    provenance = payload.get("provenance")
    return StoredSweep(grid, tuple(results), provenance if isinstance(provenance, dict) else {})


def pack(grid: str, results: list[dict], provenance: dict, path: str | Path | None = None) -> Path:
    """Write ``results`` (checked sweep results, without or with their checksums) as the pack of ``grid``;
    deterministic bytes (sorted by key, gzip without a time stamp), so regenerating it changes no byte."""
    if grid not in GRIDS:
        raise InputError(f"grid must be one of {', '.join(GRIDS)}, got {grid!r}")
    path = pack_path(grid) if path is None else Path(path)
    body = [{**{k: v for k, v in r.items() if k != CHECKSUM}, CHECKSUM: result_checksum(
        {k: v for k, v in r.items() if k != CHECKSUM})} for r in sorted(results, key=lambda r: r["key"])]
    text = json.dumps({"format": FORMAT, "grid": grid, "provenance": provenance, "results": body},
                      sort_keys=True, separators=(",", ":"), allow_nan=False)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as stream:
        stream.write(text.encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path
