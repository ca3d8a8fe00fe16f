"""The stored sweep results a report reads (loaded once per build), apart from the sections that read them,
so that the networks table (:mod:`.configurations`) and the claims section (:mod:`.sweep_sections`) both
import it without importing each other.

Per grid (the MLP-family ``default`` and the ``transformer`` grid), in this order: the user's own sweep folder
(``sweeps/default``, ``sweeps/transformer``) when it holds results, with every configuration it lacks named
as a reason the build is partial; else the results shipped with the package (:mod:`driftproof.sweeps.shipped`);
else, for the default grid only, the quick grid run into the report folder (seconds), labelled as such.
A ``--quick`` build reads no stored sweep: it checks that the pipeline runs, on the quick grid.
"""

from __future__ import annotations

from pathlib import Path

from ..sweeps import DEFAULT_OUT, SweepStore, make_grid, run_sweep
from ..sweeps.shipped import stored_sweep
from .context import Context

__all__ = ["sweep_results", "TRANSFORMER_OUT"]

TRANSFORMER_OUT = "sweeps/transformer"


def sweep_results(ctx: Context) -> tuple[list[dict], str]:
    """Stored results (default MLP sweep and, when stored, the transformer sweep) and a sentence naming them."""
    if ctx.sweep_results is not None:
        return ctx.sweep_results
    default, source = ([], "") if ctx.quick else _stored(ctx, "default", DEFAULT_OUT)
    if not default:
        store = SweepStore(Path(ctx.folder) / "sweep-quick")
        if not store.load():
            run_sweep(make_grid("quick"), store, workers=1)
        default = store.load()
        ctx.sweep_folders.append(f"{store.root} ({len(default)} results, quick grid)")
        source = (f"the quick grid ({len(default)} tiny configurations; run `driftproof sweep` for the default "
                  "grid and rebuild: these verdicts are not the default sweep's)")
    transformer, transformer_source = ([], "") if ctx.quick else _stored(ctx, "transformer", TRANSFORMER_OUT)
    source += (f" and {transformer_source}" if transformer
               else f"; no transformer sweep is stored (in {TRANSFORMER_OUT} or shipped)")
    ctx.sweep_results = (default + transformer, source)
    return ctx.sweep_results


def _stored(ctx: Context, grid: str, out: str) -> tuple[list[dict], str]:
    """The results of ``grid``: the user's folder ``out`` if it holds any (a missing configuration makes the
    build partial), else the shipped pack; ([], "") when neither exists."""
    store = SweepStore(out)
    results = store.load()
    if results:
        recorded, jobs = store.recorded_grid()
        have = {r["key"] for r in results}
        missing = [] if jobs is None else [job for job in jobs if job.key not in have]
        label = f"{out} ({len(results)} results, {recorded or 'unrecorded'} grid)"
        if recorded != grid:
            ctx.sweep_incomplete.append(f"{out} holds the {recorded or 'unrecorded'} grid, not the {grid!r} grid")
        elif missing:
            ctx.sweep_incomplete.append(f"{out}: not run: {len(missing)} of {len(jobs)} configurations of the "
                                        f"{grid!r} grid")
            label = f"{out} ({len(results)} of {len(jobs)} results, {grid} grid, incomplete)"
        ctx.sweep_folders.append(label)
        return results, f"the {grid} sweep stored in {out} ({len(results)} configurations)"
    shipped = stored_sweep(grid)
    if shipped is None:
        return [], ""
    ctx.sweep_folders.append(f"driftproof/stored/{grid}.json.gz ({len(shipped.results)} results, {grid} grid, shipped)")
    return list(shipped.results), shipped.source
