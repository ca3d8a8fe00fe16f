"""Report section: the paper's empirical claims C1-C5 at small scale, from the sweep store."""

from __future__ import annotations

from pathlib import Path

from ..sweeps import DEFAULT_OUT, SweepStore, claims_table, make_grid, run_sweep
from ..render.claims import claim_dict, evidence_text, statement, verdict_word
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
        ctx.record("sweep_claims", row.key.result, claim_dict(row))
        rows.append([tex_escape(row.key.result), tex_escape(statement(row)), tex_escape(verdict_word(row.verdict)),
                     tex_escape(evidence_text(row))])
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
    out = []
    for row in claims_table(results):
        text = evidence_text(row)
        out.append((f"{row.key.result}: {statement(row)}", text[:400] + (" ..." if len(text) > 400 else "")
                    + f" [{source.split(' (')[0]}]", verdict_word(row.verdict)))
    return out


def register(sections: list, claims: list) -> None:
    if sweep_section not in sections:
        sections.append(sweep_section)
    if sweep_claims not in claims:
        claims.append(sweep_claims)
