"""Report section: scope and limitations — what was and was not reproduced, at what scale, the threats to
validity and what a larger run would change, with the numbers taken from the networks this build ran."""

from __future__ import annotations

from ..texutil import tex_prose
from .configurations import PAPER_PARAMS, PAPER_TOKENS, networks
from .context import Context

__all__ = ["scope_section"]


def _item(text: str) -> str:
    return r"\item " + tex_prose(text)


def scope_section(ctx: Context) -> str:
    nets = networks(ctx)
    trained = [n for n in nets if n.steps]
    sampled = [n for n in nets if not n.steps]
    widest = max(int(w) for n in trained for w in n.widths.split(", "))
    deepest = max(int(n.depth) for n in trained)
    longest = max(n.steps for n in trained)
    largest = max(n.params[1] for n in trained)
    seeds = sorted({int(n.seeds.split()[0]) for n in trained})
    fewest = seeds[0]
    sign_p = 2 * 0.5 ** fewest  # the smallest two-sided p-value an exact sign test over that many seeds reaches
    optimizers = sorted({o for n in trained for o in n.optimizer.split(", ")})
    data = sorted({d.strip() for n in trained for d in n.data.split(", ")})
    clipped = [n.key for n in trained if n.clipping != "none"]
    mode = ("This is a quick build: its networks are smaller and shorter-lived than the full report's, and it "
            "is a check that the pipeline runs, not evidence. " if ctx.quick else "")
    return "\n".join([
        # a page of its own: the figures of the sections before it are all placed first, never inside it
        r"\clearpage",
        r"\section{Scope and limitations}\label{sec:scope}",
        tex_prose(mode + "Two kinds of result differ in how far they reach. The t = 0 results (Sections ")
        + r"\ref{sec:sign}--\ref{sec:drift}" + tex_prose(
            ") are statements about the distribution of a network at initialization: the sign maps are proofs "
            "(exact or certified), R1-R3 hold at every width, and Monte Carlo tests them on "
            f"{len(sampled)} families of sampled networks (Table ") + r"\ref{tab:configs}" + tex_prose(
            "). They do not depend on the scale of training. The training results (persistence, the "
            "self/label split, C1-C5) are measured at a scale far below the paper's: their verdicts read "
            "'at this scale', and a claim not reproduced here is not refuted for a 124M-parameter model."),
        r"\paragraph{What was not run.}" + tex_prose(
            f"The paper's {PAPER_PARAMS / 1e6:.0f}M-parameter GPT trained on {PAPER_TOKENS / 1e9:.1f}B tokens, its "
            "data, and training long enough for the late-training effects it reports; Muon; mixed precision. "
            "Where the transformer sweep is not stored, C1-C5 are not judged on the GPT and ViT at all (their "
            "rows say so)."),
        r"\paragraph{Threats to validity.}",
        r"\begin{itemize}\setlength{\itemsep}{1pt}\setlength{\parskip}{0pt}",
        _item(f"Seeds: {', '.join(map(str, seeds))} per trained configuration. With {fewest} seeds a Student-t "
              "interval is wide and an exact two-sided sign test over seeds cannot reach p below "
              f"{sign_p:.3g}: a sign 'in every seed' is a count, not a significance."),
        _item(f"Width and depth: at most {widest} units and {deepest} layers or blocks, "
              f"{largest:,} parameters; mean field (R4) is exact only at infinite width and its measured gap "
              "shrinks with width (Figure ") + r"\ref{fig:width}).",
        _item(f"Steps: at most {longest} optimizer steps. Effects that build up over training (sparsity rising, "
              "spikes, the accuracy cliff) may not have formed; the sign's fading is measured only within the run."),
        _item(f"Optimizers: {', '.join(optimizers)} at one learning rate each (Table ") + r"\ref{tab:configs}"
        + tex_prose("); the sign at t = 0 does not depend on the optimizer, how long it persists does."),
        _item(("Clipping: the persistence runs (" + ", ".join(clipped) + ") clip the gradient to a global norm "
               "so that ReLU^2 and GELU^2 do not blow up; clipping keeps the gradient's direction, so every "
               "component's sign, but changes the step size and with it the time scale of the drift.")
              if clipped else "Clipping: no trained network clips its gradient."),
        _item(f"Data: {'; '.join(data)}; no web-scale text. The digits set has 1797 images; noise data has "
              "nothing to learn but memorization, by design (the drift is claimed to be intrinsic)."),
        _item("Precision: the MLPs train in float64, the GPT in float32; the paper's models train in lower "
              "precision, which this report does not test."),
        r"\end{itemize}",
        r"\paragraph{What a larger run would change.}" + tex_prose(
            "Nothing at t = 0: the proofs and the Monte Carlo tests stand at any scale, and the mean-field gap "
            "falls with width. In training, a larger model seeing more tokens gives the readout longer to "
            "align with the labels, the mechanism that ends the positive sign (Section ") + r"\ref{sec:split}"
        + tex_prose("), and gives sparsity and spikes time to develop: the persistence times and C1-C5 are the "
                    "results a larger run could move, in either direction."),
    ])
