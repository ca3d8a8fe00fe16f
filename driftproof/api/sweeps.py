"""``sweep`` (a grid of training configurations into a folder) and ``claims`` (C1-C5 judged on it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from ..config import environment
from ..errors import InputError
from ..render.claims import FAMILY_NAMES, claim_dict, claims_text, evidence_text, row_word, statement
from ..render.html import table_html, verdict_cell
from ..results import Evidence, json_default
from ..sweeps import DEFAULT_OUT, SweepStore, by_family, claims_of_families, make_grid, run_grid
from ..sweeps.claims import configuration_name
from ..sweeps.grid import is_grid
from ..sweeps.store import sweep_folder_conflict
from .common import output_folder, progress_bar

__all__ = ["sweep", "claims", "ClaimsCheck"]

QUICK_GRIDS = ("quick", "transformer_quick")


@dataclass(frozen=True)
class ClaimsCheck:
    """The paper's empirical claims C1-C5 and the t = 0 sign T0 (``driftproof claims``), judged per
    architecture family on a stored sweep; after :func:`sweep`, also what that sweep ran (``run``).

    ``claims`` holds every family's rows; each row's ``key.arch`` names its family (mlp, gpt, vit)."""

    claims: tuple[Evidence, ...]
    n_results: int
    out: str
    grid: str | None = None
    run: dict | None = field(default=None, compare=False)
    # the grid's configurations that ``out`` does not hold (names), and how many the grid has (None: unknown grid)
    missing: tuple[str, ...] = ()
    expected: int | None = None

    @property
    def complete(self) -> bool:
        """True when ``out`` records its grid and holds a result for every configuration of it."""
        return self.expected is not None and not self.missing

    @property
    def exit_code(self) -> int:
        """0 on a complete grid; 3 (inconclusive) when the grid is unknown or configurations are missing."""
        return 0 if self.complete else 3

    def completeness_text(self) -> str:
        if self.expected is None:
            return "grid unknown (no sweep.json): completeness cannot be checked, so nothing here is a judgement"
        if not self.missing:
            return f"complete: all {self.expected} configurations of the {self.grid!r} grid"
        return f"not run: {len(self.missing)} of {self.expected} configurations of the {self.grid!r} grid"

    @property
    def smoke(self) -> bool:
        """Whether the grid judged is a smoke test (``quick``, ``transformer_quick``, or one of them scaled)."""
        return str(self.grid).partition(":")[0] in QUICK_GRIDS

    @property
    def families(self) -> dict[str, tuple[Evidence, ...]]:
        """The rows grouped by family (``key.arch``), in the order of ``sweeps.FAMILIES``."""
        return {family: tuple(rows) for family, rows in by_family(self.claims).items()}

    @property
    def rows(self) -> tuple[Evidence, ...]:
        """The first family's rows in the registry's order (the MLP family's, if the sweep trained an MLP)."""
        return next(iter(self.families.values()), ())

    def to_dict(self) -> dict:
        payload = {"out": self.out, "grid": self.grid, "n_results": self.n_results,
                   "complete": self.complete, "smoke_grid": self.smoke,
                   "completeness": {"text": self.completeness_text(), "expected": self.expected,
                                    "not_run": len(self.missing), "missing": list(self.missing)},
                   "claims": [self._row_dict(row) for row in self.rows],
                   "families": {family: [self._row_dict(row) for row in rows]
                                for family, rows in self.families.items()}}
        if self.run is not None:
            payload["sweep"] = self.run
        return {**payload, "environment": environment()}

    def _row_dict(self, row: Evidence) -> dict:
        """A claim row as JSON, labelled with the grid it was judged on (a smoke grid in every row) and
        whether that grid is complete."""
        return {**claim_dict(row), "grid": self.grid, "smoke_grid": self.smoke,
                "complete": self.complete}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=json_default)

    def __repr__(self) -> str:
        verdicts = "; ".join(f"{family}: " + ", ".join(f"{row.key.result} {row_word(row)}" for row in rows)
                             for family, rows in self.families.items())
        grid = "" if self.grid is None else f" ({self.grid} grid)"
        return f"ClaimsCheck({self.n_results} configurations in {self.out}{grid}: {verdicts})"

    def __str__(self) -> str:
        text = claims_text(list(self.claims), self.n_results, self.out, grid=self.grid)
        head = self.completeness_text()
        shipped = (self.run or {}).get("shipped")
        if shipped is not None:
            head += (f"\nshipped with driftproof: run at commit {str(shipped.get('commit', '?'))[:10]} on "
                     f"{shipped.get('date', '?')} ({shipped.get('wall_minutes', float('nan')):.0f} min wall on "
                     f"{shipped.get('cpus', '?')} cores); `{shipped.get('command', 'driftproof sweep')}` regenerates it")
        if self.missing:
            shown = list(self.missing[:20]) + ([f"... and {len(self.missing) - 20} more (--json lists all)"]
                                               if len(self.missing) > 20 else [])
            head += ":\n" + "\n".join(f"  - {name}" for name in shown)
        if self.smoke:
            return (f"on the {self.grid!r} grid: a smoke test with few seeds and steps, not the paper's sweep\n"
                    f"{head}\n{text}")
        return f"{head}\n{text}" if self.grid is None else f"on the {self.grid!r} grid; {head}\n{text}"

    def _repr_html_(self) -> str:
        tables = []
        for family, family_rows in self.families.items():
            rows = [[escape(row.key.result), verdict_cell(row_word(row)), escape(statement(row)),
                     escape(evidence_text(row))] for row in family_rows]
            tables.append(table_html(["claim", "verdict", "statement", "evidence"], rows,
                                     escape(f"{FAMILY_NAMES[family]}: {self.n_results} stored configurations "
                                            f"in {self.out}")))
        return "\n".join(tables)

    def plot(self):
        """The claims' figures from the stored sweep (C1 sparsity, C2 accuracy against sparsity, C3-C5
        per activation); a matplotlib Figure, not shown. Diverged configurations are left out."""
        from ..render.plots import claims_figure

        return claims_figure(_results_of(self.out), title=repr(self))


def _stored(out: str | Path) -> list[dict]:
    results = SweepStore(out).load()
    foreign = [r for r in results if not isinstance(r, dict) or "job" not in r or "key" not in r]
    if foreign:
        raise InputError(f"{str(out)!r} holds {len(foreign)} JSON files that are not sweep results")
    return results


def _check(results: list[dict], out: str | Path, grid: str | None, run: dict | None = None) -> ClaimsCheck:
    missing, expected = (), None
    if is_grid(grid):
        jobs = make_grid(grid)
        stored = {r["key"] for r in results}
        missing = tuple(f"{configuration_name(job.to_dict())} seed {job.seed}" for job in jobs if job.key not in stored)
        expected = len(jobs)
    return ClaimsCheck(tuple(claims_of_families(results)), len(results), str(out), grid, run, missing, expected)


def claims(out: str | Path = DEFAULT_OUT, *, run_sweep: bool = False, grid: str = "default",
           progress: bool = False, stored: str | None = None) -> ClaimsCheck:
    """The claims C1-C5 and the sign at t = 0 (T0), per architecture family, from the sweep stored in ``out``
    (``driftproof claims``), or from the results shipped with driftproof (``stored``).

    Args:
        out: a folder :func:`sweep` wrote.
        run_sweep: when ``out`` holds no results, run ``grid`` there first (``--run-sweep``);
            otherwise an empty folder is refused, naming the command to run.
        stored: ``"default"`` or ``"transformer"``: judge the full sweep of that grid shipped with the package
            (``driftproof claims --stored default``; ``out`` is then ignored, ``run`` holds its provenance).

    Raises:
        InputError: ``out`` holds no sweep results (and ``run_sweep`` is False), or foreign files; a ``stored``
            grid that is not shipped, or a damaged pack.
    """
    if stored is not None:
        if run_sweep:
            raise InputError("--stored reads the sweep shipped with driftproof: it cannot be combined with --run-sweep")
        return _shipped(stored)
    out = output_folder(out, accept=sweep_folder_conflict) if run_sweep else Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out must be a folder, got the file {str(out)!r}")
    results = _stored(out)
    if not results and run_sweep:
        return sweep(grid, out, progress=progress)
    if not results:
        raise InputError(f"no sweep results in {str(out)!r}: run `driftproof sweep --out {out}` first "
                         f"(or `driftproof claims --run-sweep --out {out}`), or judge the sweep shipped with "
                         f"driftproof: `driftproof claims --stored default`")
    return _check(results, out, SweepStore(out).recorded_grid()[0])


def _shipped(grid: str) -> ClaimsCheck:
    """The claims judged on the results of ``grid`` shipped with the package."""
    from ..sweeps.shipped import SHIPPED_GRIDS, stored_sweep

    if grid not in SHIPPED_GRIDS:
        raise InputError(f"--stored must be one of {', '.join(SHIPPED_GRIDS)}, got {grid!r}")
    shipped = stored_sweep(grid)
    if shipped is None:
        raise InputError(f"this installation ships no stored {grid!r} sweep (driftproof/stored/{grid}.json.gz): run "
                         f"`driftproof sweep --grid {grid}`, then `driftproof claims --out sweeps/{grid}`")
    return _check(list(shipped.results), f"stored:{grid}", grid, {"shipped": shipped.provenance})


def _results_of(out: str) -> list[dict]:
    """The results a :class:`ClaimsCheck` was judged on: a sweep folder's, or a shipped pack's (``stored:<grid>``)."""
    if out.startswith("stored:"):
        from ..sweeps.shipped import stored_sweep

        shipped = stored_sweep(out.removeprefix("stored:"))
        return [] if shipped is None else list(shipped.results)
    return SweepStore(out).load()


def sweep(grid: str = "default", out: str | Path = DEFAULT_OUT, *, scheduler=None, workers: int | None = None,
          progress: bool = False, force: bool = False) -> ClaimsCheck:
    """Train a grid of configurations into ``out`` (``driftproof sweep``), then judge the claims C1-C5 on it.

    Finished configurations already in ``out`` are skipped (resumable; Ctrl-C keeps every finished
    result and stops the workers within a second). ``out`` records its grid and refuses another;
    a second sweep into the same folder is refused while one runs.

    Args:
        grid: default, quick, transformer or transformer_quick, or one of them run larger:
            ``default:seeds=30,steps=2,width=4`` (``driftproof sweep --seeds 30 --steps-mult 2 --width-mult 4``;
            :func:`driftproof.sweeps.grid.scaled_grid` builds the name).
        scheduler: a Dask scheduler address (``tcp://host:8786``) or Client; None: local processes.
        workers: local processes (default the core count; at most one per job, 4 per core).
        force: write into a non-empty ``out`` that is not a sweep folder (refused otherwise).

    Returns:
        The :class:`ClaimsCheck` of everything stored in ``out``, with ``run`` (what ran now; ``recomputed``
        names the damaged results found and computed again).
    """
    make_grid(grid)  # an unknown grid or scale: InputError with its message, before anything is written
    folder = output_folder(out, accept=sweep_folder_conflict, force=force)
    jobs = make_grid(grid)
    store = SweepStore(folder)
    damaged = store.damaged(jobs) if folder.is_dir() else []
    stored = len(jobs) - len(store.missing(jobs)) if folder.is_dir() else 0
    with progress_bar(progress, len(jobs), f"sweep {grid}", "config", initial=stored) as bar:
        jobs, run = run_grid(grid, folder, scheduler=scheduler, workers=workers,
                             tick=(lambda _: bar.update(1)) if bar is not None else None)
    results = SweepStore(folder).load(jobs)
    summary = {"grid": grid, **run.to_dict(), "diverged": sum(bool(r.get("diverged")) for r in results),
               "recomputed": [{"file": f"results/{name}", "problem": problem} for name, problem in damaged]}
    return _check(results, out, grid, summary)
