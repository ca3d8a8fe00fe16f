"""The appendix "Activation atlas": every catalogued activation in one table, and the figure placing each by its
drift coefficient against its sparsity change in training (driftproof/activation_atlas.py)."""

from __future__ import annotations

from ..atlas_stored import training_source
from ..render.atlas import training_cell
from ..render.atlas_figure import atlas_figure, left_out
from ..texutil import tex_prose
from .context import Context
from .latex import figure_tex, table
from .style import save

__all__ = ["atlas_appendix"]

_LABEL = {"exact": "exact", "certified": "certified", "inconclusive": r"\textbf{inconclusive}"}


def atlas_appendix(ctx: Context) -> str:
    """The appendix section. A quick build trains nothing: it shows the training summaries already cached."""
    from ..activation_atlas import _cache_path, atlas

    if ctx.quick and not _cache_path().is_file():  # a quick build computes no atlas (about 30 s of CPU)
        return "\n".join([r"\section{Activation atlas}\label{app:atlas}", tex_prose(
            "Not in a quick build: driftproof atlas builds it once (sign maps, drift coefficients, training "
            "summaries) and caches it; a quick build then shows what is cached.")])
    result = atlas(train_missing=not ctx.quick)
    rows = result.rows
    proved = sum(r.certification in ("exact", "certified") for r in rows)
    ctx.record("atlas", "proved", {"proved": proved, "activations": len(rows)})
    parts = [r"\section{Activation atlas}\label{app:atlas}", tex_prose(
        f"Every catalogued activation ({len(rows)}: PyTorch, jax.nn, Keras, the paper's and the literature's) in one "
        f"row. The sign map of σσ' is exact (SymPy) or certified (ball arithmetic over the whole line) for {proved} "
        f"of them ({proved / len(rows):.0%}); an inconclusive map claims no sign where it is not proved, and the note "
        "below says which interval was not closed and why. The claim on p > 0 is R3's pointwise verdict; "
        f"E[σσ'(p)] is the drift coefficient at p ~ N(0, {result.q:g}) relative to ReLU's; growth is that of σ at +∞. "
        "Training: the change of exact zeros and of p ≤ 0 at the last hidden layer (end minus start, paired per "
        "seed) and the fraction of logged steps with a positive sign statistic, each with its 95% Student-t "
        "interval over seeds; diverged seeds are left out and named. " + training_source(rows))]
    table_parts = [_table(rows)]
    unproved = [r for r in rows if r.certification not in ("exact", "certified")]
    if unproved:
        table_parts.append(tex_prose("Not proved: " + "; ".join(f"{r.name}: {r.reason}" for r in unproved) + "."))
    trained = [r for r in rows if r.training and "refused" not in r.training]
    if trained:
        # 7 in, on the page the appendix starts: the heading, the paragraph, the figure and its caption fit it.
        # Set after the three-page table (longtable pages hold no float), at 9 in it waited past the provenance
        # to the report's last page
        figure = save(atlas_figure(result, notes=False, height=7.0), ctx.figures / "atlas", ctx)
        parts.insert(0, r"\clearpage")
        skipped = "; ".join(f"{why}: {', '.join(names)}" for why, names in left_out(result).items() if names)
        parts.append(figure_tex(ctx, figure, "fig:atlas", tex_prose(
            "Each activation by its drift coefficient E[σσ'] (relative to ReLU's) against the change of sparsity in "
            "its training on digits: exact zeros (top, the activations exactly 0 on an interval) and p ≤ 0 (bottom). "
            "Bars: 95% t-intervals over seeds; hollow markers: no interval (fewer than 5 seeds that did not "
            "diverge)." + (f" Not drawn — {skipped}." if skipped else ""))))
    else:
        parts.append(tex_prose("The training summaries are not built yet (a quick build trains nothing): "
                               "driftproof atlas builds them once (about 5 min of one core) and caches them."))
    # the figure before the three-page table: placed after it, it floated past the provenance to the last page
    return "\n".join(parts + table_parts)


def _table(rows) -> str:
    body = []
    for r in rows:
        verdict = r.verdict if r.strict or r.verdict != "holds" else "holds (≥)"
        body.append([tex_prose(r.name), tex_prose(r.family), _LABEL.get(r.certification, r.certification),
                     tex_prose(verdict), tex_prose(f"{r.drift_relative_to_relu:+.3g}"),
                     tex_prose(r.growth.replace("polynomial, degree ", "degree ")),
                     *(_cell(r.training, key) for key in ("zero_frac_change", "nonpos_frac_change", "positive_fraction"))])
    return table(["activation", "family", "sign map", "on p > 0", "E[σσ'] / ReLU", "growth", "Δ exact zeros",
                  "Δ p ≤ 0", "steps with sign > 0"], body,
                 tex_prose("The activation atlas: the sign map's label, the claim on p > 0, the drift coefficient, "
                           "growth at +inf, and the training summary on digits (mean [95% interval] over 5 seeds, or n seeds "
                           "where some diverged; n/a: not trained, div: every run diverged)."),
                 "p{1.95cm}p{2.25cm}lp{1.5cm}rp{1.45cm}p{1.4cm}p{1.4cm}p{1.4cm}", size=r"\scriptsize", label="tab:atlas")


def _cell(training, key: str) -> str:
    """mean [interval], its n only where it is not the full 5 seeds (a row a line or two tall)."""
    text = training_cell(training, key, interval=True).replace(" n=5", "").replace(" n=", " n = ")
    return tex_prose(text)
