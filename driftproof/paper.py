"""The paper's own numbers beside ours: one structured record per claim C1-C5 and the t = 0 sign (issue 22).

For each claim, :class:`PaperRecord` holds the paper's value and scale (a 124M-parameter GPT trained on
3.8B tokens), our value with its interval and n, the scale of the runs it rests on (parameters, steps,
samples or tokens, seeds), and a verdict among :data:`VERDICTS`:

- ``reproduced``: our runs show what the paper reports, its number inside our interval where it
  reports a number;
- ``not reproduced at this scale``: our runs resolve a different answer (the direction, or a number
  whose interval excludes the paper's); the numbers say how far apart;
- ``inconclusive``: our runs do not resolve the question (too few seeds, intervals straddling);
- ``not run``: no runs of the claim.

A record never reads as agreement where only the direction agrees: C3's spike ratio of 5.7x
[..] against the paper's ~25x is *not reproduced at this scale* even though ReLU^2 amplifies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .results import HOLDS, VIOLATED, Estimate, Evidence

__all__ = ["PaperRecord", "paper_records", "PAPER_CLAIMS", "PAPER_SHORT", "PAPER_SCALE", "VERDICTS", "REPRODUCED",
           "NOT_REPRODUCED", "INCONCLUSIVE_WORD", "NOT_RUN"]

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE_WORD, NOT_RUN = ("reproduced", "not reproduced at this scale",
                                                          "inconclusive", "not run")
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE_WORD, NOT_RUN)

# The paper's main training run (arXiv 2605.17659): a GPT-2-small-sized model on FineWeb tokens.
PAPER_SCALE = {"params": 124_000_000, "tokens": 3_800_000_000, "model": "GPT (124M parameters)", "seeds": None}

# claim -> (the paper's statement, its number or None, the unit of the number)
PAPER_CLAIMS = {
    "C1": ("ReLU sparsity rises during training, to ~90% in GPT-nano", 0.90, "fraction of exact zeros"),
    "C2": ("accuracy falls off a cliff above ~70% sparsity (79 configurations)", 0.70, "sparsity at the knot"),
    "C3": ("ReLU^2 amplifies activation spikes ~25x over ReLU", 25.0, "max|h|/median|h|, ReLU^2 over ReLU"),
    "C4": ("clipped ReLU^2 beats unclipped ReLU^2 (no spikes, no loss of accuracy)", None,
           "held-out accuracy, clipped - unclipped"),
    "C5": ("GELU^2 reaches the lowest validation loss", None, "held-out loss, GELU^2 - other"),
    "T0": ("E[δ | p > 0] > 0 at initialization (the theorem)", None,
           "E[δ | p > 0] at t = 0, each network's mean over its layers"),
}


# claim -> the paper's value in a few words (the report's page-1 table)
PAPER_SHORT = {"C1": "rises, to ~90% zeros", "C2": "cliff at ~70% sparsity", "C3": "~25x spike ratio",
               "C4": "no spikes, no accuracy loss", "C5": "lowest val. loss", "T0": "> 0 (the theorem)"}


@dataclass(frozen=True)
class PaperRecord:
    """One claim: the paper's value and scale beside ours, and a verdict among VERDICTS."""

    claim: str
    paper_statement: str
    paper_value: float | None
    unit: str
    ours: Estimate | None  # None: not run, or no single number (the note says what)
    verdict: str
    note: str
    our_scale: dict = field(default_factory=dict)
    paper_scale: dict = field(default_factory=lambda: dict(PAPER_SCALE))

    def to_dict(self) -> dict:
        return {"claim": self.claim, "paper_statement": self.paper_statement, "paper_value": self.paper_value,
                "unit": self.unit, "ours": None if self.ours is None else self.ours.to_dict(),
                "verdict": self.verdict, "note": self.note, "our_scale": self.our_scale,
                "paper_scale": self.paper_scale}

    @classmethod
    def from_dict(cls, data: dict) -> PaperRecord:
        ours = None if data.get("ours") is None else Estimate.from_dict(data["ours"])
        return cls(data["claim"], data["paper_statement"], data["paper_value"], data["unit"], ours, data["verdict"],
                   data["note"], dict(data.get("our_scale", {})), dict(data.get("paper_scale", PAPER_SCALE)))


def our_scale(runs: list[dict]) -> dict:
    """The scale of the runs a claim rests on: parameter range, steps, samples (tokens) a run, runs, seeds."""
    scales = [r["scale"] for r in runs if r.get("scale")]
    if not runs:
        return {}
    out = {"runs": len(runs), "seeds": len({r["job"]["seed"] for r in runs}),
           "steps": sorted({r["job"]["steps"] for r in runs})}
    if scales:
        out["params"] = [min(s["params"] for s in scales), max(s["params"] for s in scales)]
        out["samples"] = [min(s["samples"] for s in scales), max(s["samples"] for s in scales)]
        tokens = [s["tokens"] for s in scales if s.get("tokens")]
        if tokens:
            out["tokens"] = [min(tokens), max(tokens)]
    return out


def _record(row: Evidence, ours: Estimate | None, verdict: str, note: str, runs: list[dict]) -> PaperRecord:
    statement, value, unit = PAPER_CLAIMS[row.key.result]
    return PaperRecord(row.key.result, statement, value, unit, ours, verdict, note, our_scale(runs))


def _from_verdict(row: Evidence) -> str:
    return REPRODUCED if row.verdict == HOLDS else NOT_REPRODUCED if row.verdict == VIOLATED else INCONCLUSIVE_WORD


def _c1(row: Evidence) -> tuple[Estimate | None, str, str]:
    rise = row.numbers.get("rise")
    if rise is None:
        return None, NOT_RUN if not row.numbers.get("n") else INCONCLUSIVE_WORD, "too few ReLU runs"
    top = row.numbers["max_layer_sparsity"]
    note = (f"our value: mean change of held-out ReLU sparsity, end - start over runs; highest in one layer "
            f"{top:.2f} against the paper's ~0.90")
    if not rise.defined:
        return rise, INCONCLUSIVE_WORD, note
    if rise.ci_low > 0 and top >= 0.9:
        return rise, REPRODUCED, note
    return rise, (NOT_REPRODUCED if rise.ci_high < 0 or top < 0.9 else INCONCLUSIVE_WORD), note


def _with_sensitivity(claim: str, note: str) -> str:
    """``note`` and, where the package ships one, what the sensitivity check found for ``claim`` (C2, C3; the
    other claims have none: the note comes back unchanged)."""
    from .sweeps.sensitivity import sensitivity_text

    text = sensitivity_text(claim)
    return note if text is None else f"{note}. {text}"


def _c2(row: Evidence) -> tuple[Estimate | None, str, str]:
    fit = row.numbers.get("fit")
    if fit is None:
        return None, NOT_RUN if not row.numbers.get("n") else INCONCLUSIVE_WORD, "too few forced-sparsity runs"
    knot = fit.knot
    note = f"hinge knot over {fit.n} runs (bootstrap); BIC(line) - BIC(hinge) = {fit.delta_bic:.1f}"
    if row.verdict == HOLDS:
        return knot, REPRODUCED if knot.contains(0.70) else NOT_REPRODUCED, note
    return knot, NOT_REPRODUCED if row.verdict == VIOLATED else INCONCLUSIVE_WORD, note


def _c3(row: Evidence) -> tuple[Estimate | None, str, str]:
    spikes = row.numbers.get("spike_ratio")
    if not spikes:
        return None, NOT_RUN, "no paired ReLU^2 / ReLU runs"
    # the pre-norm residual MLP on the digits is the GPT-like case; else the first group
    name = "digits resmlp" if "digits resmlp" in spikes else next(iter(spikes))
    layers = spikes[name]
    middle = layers[len(layers) // 2]
    note = f"{name}, layer {len(layers) // 2 + 1} of {len(layers)}: ReLU^2 over ReLU paired by seed (geometric mean)"
    if row.verdict == HOLDS and middle.defined and middle.contains(25.0):
        return middle, REPRODUCED, note
    if middle.defined and not middle.contains(25.0) or row.verdict == VIOLATED:
        direction = "ReLU^2 amplifies, but by less" if middle.ci_low > 1 else "no amplification"
        return middle, NOT_REPRODUCED, f"{note}; {direction} than the paper's ~25x"
    return middle, INCONCLUSIVE_WORD, note


def _c4(row: Evidence) -> tuple[Estimate | None, str, str]:
    acc = row.numbers.get("acc_diff")
    if not acc:
        return None, NOT_RUN, "no paired clipped / unclipped ReLU^2 runs"
    name = "digits resmlp" if "digits resmlp" in acc else next(iter(acc))
    return acc[name], _from_verdict(row), f"{name}: accuracy clipped - unclipped, paired by seed"


def _c5(row: Evidence) -> tuple[Estimate | None, str, str]:
    diffs = row.numbers.get("gelu2_minus_other")
    if not diffs:
        return None, NOT_RUN, "no GELU^2 runs on real data"
    arch = "resmlp" if "resmlp" in diffs else next(iter(diffs))
    ours = diffs[arch].get("gelu")
    return ours, _from_verdict(row), f"{arch}: held-out loss GELU^2 - GELU, paired by seed (sign tests, Holm)"


def _t0(row: Evidence) -> tuple[Estimate | None, str, str]:
    pooled = row.numbers.get("pooled")
    if pooled is None:
        return None, NOT_RUN, "the sign at t = 0 was not recorded"
    note = (f"{pooled.positive} of {pooled.n} networks positive (mean over layers), exact sign test "
            f"p = {pooled.p_value:.2g}")
    return row.numbers.get("per_network"), _from_verdict(row), note


_OURS = {"C1": _c1, "C2": _c2, "C3": _c3, "C4": _c4, "C5": _c5, "T0": _t0}


def paper_records(rows: list[Evidence], runs_by_claim: dict[str, list[dict]],
                  trained: dict[str, int] | None = None) -> list[PaperRecord]:
    """The record of every claim row (C1-C5, T0) of one family.

    Args:
        runs_by_claim: the runs each claim rests on (diverged runs and unmeasured configurations left out).
        trained: how many runs of each claim were trained, diverged or not: a claim whose runs all diverged
            was run and is *inconclusive*, not *not run*.
    """
    out = []
    for row in rows:
        runs = runs_by_claim.get(row.key.result, [])
        if not runs:
            ran = (trained or {}).get(row.key.result, 0)
            verdict, note = ((INCONCLUSIVE_WORD, f"all {ran} runs of this claim diverged or belong to configurations "
                                                 "not measured") if ran else (NOT_RUN, "no runs of this claim in the sweep"))
            out.append(_record(row, None, verdict, note, runs))
            continue
        ours, verdict, note = _OURS[row.key.result](row)
        if ours is not None and row.key.arch == "mlp":  # C2, C3: the shipped sensitivity check (MLP-family
            note = _with_sensitivity(row.key.result, note)  # networks: it says nothing of the GPT or ViT)
        if verdict == NOT_RUN and (trained or {}).get(row.key.result, 0) > len(runs):
            verdict, note = INCONCLUSIVE_WORD, f"{note}: the runs it needs diverged or are not measured"
        if ours is not None and not math.isfinite(ours.mean):
            ours, verdict = None, INCONCLUSIVE_WORD
        out.append(_record(row, ours, verdict, note, runs))
    return out
