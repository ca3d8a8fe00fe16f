"""The paper's metrics of transformer runs, summarized over seeds (the run folder's paper_metrics.json)."""

from __future__ import annotations

import math

import numpy as np

from .summary import jsonable, seed_estimate

__all__ = ["HEADLINE", "paper_summary"]

HEADLINE = ("val_zero_frac", "down_in.max", "down_in.min", "down_in.max_med", "up_in.max", "qkv_in.max",
            "wo_in.max", "Wup.mean", "Wup.neg_frac", "Wdown.mean", "Wdown.neg_frac")


def paper_summary(logs, depth: int) -> dict:
    """Per role and layer: the headline paper metrics at the first and last evaluation, over seeds.

    Returns a JSON-ready dict ``{role: {"L1": {metric: {"start": Estimate, "end": Estimate}}, ...,
    "final": {...}}}``; every Estimate is a Student-t interval over seeds.
    """
    out = {}
    for role in ("main", "control"):
        chosen = [log for log in logs if log.role == role]
        if not chosen:
            continue

        def ends(column: str) -> dict:
            series = [log.columns[column][np.isfinite(log.columns[column])] for log in chosen]
            return {"start": seed_estimate([s[0] if len(s) else math.nan for s in series]),
                    "end": seed_estimate([s[-1] if len(s) else math.nan for s in series]),
                    "peak": seed_estimate([np.max(np.abs(s)) if len(s) else math.nan for s in series])}

        entry = {"act": chosen[0].act, "seeds": [log.seed for log in chosen]}
        for layer in range(1, depth + 1):
            entry[f"L{layer}"] = {name: ends(f"L{layer}.{name}") for name in HEADLINE}
        entry["head_in"] = {"max": ends("head_in.max")}
        entry["final"] = {name: seed_estimate([log.columns[name][-1] for log in chosen])
                          for name in ("test_loss", "test_acc", "train_loss", "train_acc")}
        out[role] = entry
    return jsonable(out)
