"""The rows of ``verify --arch gpt|vit`` in words (:mod:`driftproof.evidence.transformer`)."""

from __future__ import annotations

from ..archs import get_arch
from ..payloads import TransformerMonteCarloNumbers, TransformerTheoryNumbers, TransformerTrainingNumbers
from .estimates import interval_text

__all__ = ["gpt_row_name", "gpt_row_summary", "gpt_headline"]

_READOUTS = {"tied": "tied readout (the paper's)", "gaussian": "untied Gaussian readout (R6's)",
             "untied": "untied head (the paper's)"}


def gpt_row_name(row) -> str:
    """The row's label in the table's evidence column (a GPT's or a ViT's row)."""
    name = get_arch(row.key.arch).title
    if row.key.result == "R6":
        return f"R6 {name} blocks E[δ|p]"
    if row.key.result == "MC":
        return f"{name} t=0 E[δ|p>0], {_READOUTS[row.numbers.readout].split(' (')[0]}"
    return f"{name} training, {row.key.data} data"


def _symbolic(numbers: TransformerTheoryNumbers) -> str:
    return (f"R6 proves E[δ|p] = 0 for {numbers.proved_for}. The paper's network is outside the proof: "
            + "; ".join(numbers.fails) + ". The sign is left to sampling (the Monte Carlo rows)")


def _blocks_text(numbers: TransformerMonteCarloNumbers) -> str:
    return "; ".join(f"block {b.block} {interval_text(b.estimate, '{:+.3g}')} ({100 * b.relative:+.2f}% "
                     f"of mean |δ|)" for b in numbers.blocks)


def _units(numbers: TransformerMonteCarloNumbers) -> str:
    """The units of δ in these rows: of one sample's loss, for text the mean over the window's tokens."""
    if numbers.data == "text":
        return (f"δ of each window's mean token loss (per-token values are {numbers.context}× these, "
                "as driftproof probe prints them)")
    return "δ of each image's loss"


def _montecarlo(numbers: TransformerMonteCarloNumbers, arch: str) -> str:
    test = numbers.sign_test
    text = (f"{_READOUTS[numbers.readout]}: mean over {numbers.inits} independent inits (seeds "
            f"{numbers.seeds[0]}-{numbers.seeds[1]}, one batch of {numbers.batch} "
            f"{get_arch(arch).batch_text.format(context=numbers.context)} each; width {numbers.width}, "
            f"{numbers.depth} blocks, "
            f"{numbers.heads} heads), {numbers.confidence:.0%} t, {_units(numbers)}: {_blocks_text(numbers)}. "
            f"Sign test: "
            f"{test.positive}/{test.tested} blocks positive, {test.negative} negative, "
            f"{test.unresolved} unresolved (alpha={test.alpha:g}, Holm over blocks)")
    if numbers.readout == "gaussian":
        agree = "agrees with" if numbers.outcome == "zero_within_interval" else "compare with"
        text += f"; a control: R6 derives 0 for this readout, and the measurement {agree} that"
    return text


def _training(numbers: TransformerTrainingNumbers) -> str:
    parts = []
    for index, block in enumerate(numbers.blocks, start=1):
        turned = [s for s in block.first_negative_running_mean if s is not None]
        never = len(block.first_negative_running_mean) - len(turned)
        parts.append(f"block {index}: t=0 {interval_text(block.sign_t0, '{:+.2g}')}, positive in "
                     f"{interval_text(block.positive_fraction, '{:.2f}')} of steps, running mean never negative "
                     f"in {never} of {never + len(turned)} seeds"
                     + (f" (turned at step {', '.join(map(str, turned))})" if turned else "")
                     + f", exact zeros {block.zero_frac_start.mean:.2f} -> {block.zero_frac_end.mean:.2f}")
    diverged = f"; diverged seeds {list(numbers.diverged_seeds)}" if numbers.diverged_seeds else ""
    return (f"{len(numbers.seeds)} seeds x {numbers.steps} steps of {numbers.opt} lr {numbers.lr:g}, batch "
            f"{numbers.batch} (95% t over seeds): " + "; ".join(parts)
            + f"; held-out loss {interval_text(numbers.test_loss, '{:.3f}')}{diverged}")


def gpt_row_summary(row) -> str:
    """The row's details column."""
    if row.key.result == "R6":
        return _symbolic(row.numbers)
    if row.key.result == "MC":
        return _montecarlo(row.numbers, row.key.arch)
    return _training(row.numbers)


def gpt_headline(rows) -> str:
    """The verdict line's addition for a transformer: the sign at t = 0 with each readout, in a few words."""
    words = {"positive": "positive", "negative": "negative", "zero_within_interval": "zero within its interval",
             "unresolved": "not resolved"}
    mc = [row for row in rows if row.key.result == "MC" and row.key.arch is not None]
    parts = [f"{row.numbers.readout} readout {words[row.numbers.outcome]}" for row in mc]
    return (f"; {get_arch(mc[0].key.arch).title} at t = 0 over independent inits: " + ", ".join(parts)) if parts else ""
