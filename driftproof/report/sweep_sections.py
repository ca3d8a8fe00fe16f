"""Report section: the paper's empirical claims C1-C5 at small scale, from the sweep store."""

from __future__ import annotations

from pathlib import Path

from ..sweep import DEFAULT_OUT, SweepStore, claims_table, make_grid, run_sweep
from ..texutil import tex_escape
from .context import Context
from .latex import table

__all__ = ["register", "sweep_results"]

def sweep_results(ctx: Context) -> tuple[list[dict], str]:
    """Stored default-sweep results when there are any (``sweeps/default``); otherwise the quick
    grid, run into the report folder (seconds; stored, so a rebuild reuses it)."""
    default = SweepStore(DEFAULT_OUT)
    results = [] if ctx.quick else default.load()
    if results:
        return results, f"the default sweep stored in {DEFAULT_OUT} ({len(results)} configurations)"
    store = SweepStore(Path(ctx.folder) / "sweep-quick")
    if not store.load():
        run_sweep(make_grid("quick"), store, workers=1)
    results = store.load()
    return results, (f"the quick grid ({len(results)} tiny configurations; run `driftproof sweep` for the "
                     "default grid and rebuild: these verdicts are not the default sweep's)")


def sweep_section(ctx: Context) -> str:
    results, source = sweep_results(ctx)
    rows = []
    for row in claims_table(results):
        ctx.record("sweep_claims", row["claim"], row)
        rows.append([tex_escape(row["claim"]), tex_escape(row["statement"]), tex_escape(row["verdict"]),
                     tex_escape(row["evidence"])])
    return "\n".join([
        r"\section{The paper's empirical claims at small scale}",
        tex_escape(f"Checked against {source}. C1: ReLU sparsity rises in training; C2: an accuracy cliff "
                   "against sparsity (hinge fit, bootstrap interval); C3: ReLU^2 amplifies activation spikes; "
                   "C4: clipping ReLU^2 removes them without losing accuracy; C5: GELU^2 reaches the lowest "
                   "held-out loss."),
        table(["claim", "statement", "verdict", "evidence"], rows, "Claims C1--C5 from the sweep.",
              "lp{3.2cm}lp{9.4cm}", size=r"\small")])


def sweep_claims(ctx: Context) -> list[tuple[str, str, str]]:
    results, source = sweep_results(ctx)
    return [(f"{row['claim']}: {row['statement']}", row["evidence"][:400] + (" ..." if len(row["evidence"]) > 400 else "")
             + f" [{source.split(' (')[0]}]", row["verdict"])
            for row in claims_table(results)]


def register(sections: list, claims: list) -> None:
    if sweep_section not in sections:
        sections.append(sweep_section)
    if sweep_claims not in claims:
        claims.append(sweep_claims)
