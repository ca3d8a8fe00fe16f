"""The stored sweep results a report reads (loaded once per build), apart from the sections that read them,
so that the networks table (:mod:`.configurations`) and the claims section (:mod:`.sweep_sections`) both
import it without importing each other."""

from __future__ import annotations

from pathlib import Path

from ..sweeps import DEFAULT_OUT, SweepStore, make_grid, run_sweep
from .context import Context

__all__ = ["sweep_results", "TRANSFORMER_OUT"]

TRANSFORMER_OUT = "sweeps/transformer"


def sweep_results(ctx: Context) -> tuple[list[dict], str]:
    """Stored results (default MLP sweep and, when stored, the transformer sweep) and a sentence naming them.

    Without a stored default sweep (or with --quick) the quick grid runs into the report folder (seconds;
    stored, so a rebuild reuses it)."""
    if ctx.sweep_results is not None:
        return ctx.sweep_results
    default = [] if ctx.quick else SweepStore(DEFAULT_OUT).load()
    if default:
        source = f"the default sweep stored in {DEFAULT_OUT} ({len(default)} configurations)"
        ctx.sweep_folders.append(f"{DEFAULT_OUT} ({len(default)} results)")
    else:
        store = SweepStore(Path(ctx.folder) / "sweep-quick")
        if not store.load():
            run_sweep(make_grid("quick"), store, workers=1)
        default = store.load()
        ctx.sweep_folders.append(f"{store.root} ({len(default)} results, quick grid)")
        source = (f"the quick grid ({len(default)} tiny configurations; run `driftproof sweep` for the default "
                  "grid and rebuild: these verdicts are not the default sweep's)")
    transformer = SweepStore(TRANSFORMER_OUT).load()
    if transformer:
        ctx.sweep_folders.append(f"{TRANSFORMER_OUT} ({len(transformer)} results)")
    source += (f" and the transformer sweep stored in {TRANSFORMER_OUT} ({len(transformer)} configurations)"
               if transformer else f"; no transformer sweep is stored in {TRANSFORMER_OUT}")
    ctx.sweep_results = (default + transformer, source)
    return ctx.sweep_results
