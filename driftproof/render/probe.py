"""The rows of ``check_init`` / ``driftproof probe`` (a user's PyTorch model at t = 0) in words and a figure.

Reads the rows' numbers only (this module never imports torch). Every value of δ is printed with its
units: per token (a language model's loss row) or per sample.
"""

from __future__ import annotations

from .estimates import interval_text

__all__ = ["ARCH", "probe_row_name", "probe_row_summary", "probe_headline", "probe_title", "probe_figure"]

ARCH = "torch"  # key.arch of the rows (driftproof.torch.initcheck.ARCH)


def probe_row_name(row) -> str:
    """The row's label: the module whose output is p."""
    gate = " (gate)" if row.numbers.gated else ""
    return f"{row.numbers.module}{gate} E[δ|p>0]"


def _relative(numbers) -> str:
    return "" if numbers.relative is None else f" ({100 * numbers.relative:+.2f}% of mean |δ|)"


def probe_row_summary(row) -> str:
    """The row's details: the estimate with its units and interval, the split, the sparsity at init."""
    n = row.numbers  # a ProbeLayerNumbers (driftproof.payloads)
    text = (f"{interval_text(n.estimate, '{:+.3g}')} {n.units}{_relative(n)}, mean over {n.inits} inits "
            f"(seeds {n.seeds[0]}-{n.seeds[1]}), {n.confidence:.0%} t")
    if n.self_part is not None:
        text += (f"; self part {interval_text(n.self_part, '{:+.3g}')}, label part "
                 f"{interval_text(n.label_part, '{:+.3g}')}")
    text += (f"; p ≤ 0 in {interval_text(n.nonpos_frac, '{:.3f}')} of entries; sign test over "
             f"{n.sign_test.tested} layers at alpha={n.sign_test.alpha:g}, Holm")
    return text


def probe_title(result) -> str:
    c = result.config
    return (f"driftproof probe — model {c['model']}, loss {c['loss']}, {c['inits']} inits from seed {c['seed']}, "
            f"data {c['data']} {tuple(c['batch_shape'])}, {len(c['layers'])} MLP layers, {c['dtype']} on "
            f"{c['device']}; δ {c['delta_units']} ({'gradient of one row of the loss' if c['rows'] > 1 else 'as the loss sums'})")


def probe_headline(result) -> str:
    """The verdict line's text: the claim, how it was decided, the layers that were not positive."""
    c = result.config
    claim = {"holds": "holds by sampling, not proved", "violated": "is violated",
             "inconclusive": "is inconclusive"}[str(result.verdict)]
    rows = result.evidence
    positive = sum(1 for row in rows if str(row.verdict) == "holds")
    text = (f"E[δ|p > 0] ≥ 0 at init {claim} for {c['model']} ({positive}/{len(rows)} MLP layers resolved positive "
            f"over {c['inits']} inits, Holm at alpha={c['alpha']:g}; δ {c['delta_units']})")
    negative = [row.numbers.module for row in rows if str(row.verdict) == "violated"]
    if negative:
        text += "; negative in " + ", ".join(negative)
    if not c.get("split"):
        text += f"; no self/label split for the loss {c['loss']}"
    return text


def probe_figure(verification):
    """E[δ|p>0] per MLP layer over the inits, as a fraction of the layer's mean |δ|, with its 95% interval
    (no recomputation). Returns a matplotlib Figure."""
    import numpy as np

    from .figure import new_figure

    figure, axes = new_figure(max(5.0, 0.5 * len(verification.evidence) + 3.0), 3.6)
    ax = axes[0][0]
    rows = verification.evidence
    x = np.arange(1, len(rows) + 1, dtype=float)
    scale = np.array([row.numbers.scale for row in rows], float)
    mean, low, high = (np.array([getattr(row.numbers.estimate, k) for row in rows], float) / scale
                       for k in ("mean", "ci_low", "ci_high"))
    ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", ms=4, capsize=3, lw=1,
                label=f"{verification.config['inits']} inits, 95%")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xticks(x, [row.numbers.module for row in rows], rotation=60, ha="right", fontsize=6)
    ax.set_ylabel("E[δ | p > 0] / mean |δ|")
    ax.set_title(f"{verification.config['model']} at t = 0: the sign statistic at each MLP layer", fontsize=8)
    ax.legend(fontsize=7)
    return figure
