"""The claim row T0: the sign statistic E[δ | p > 0] at t = 0 in a sweep, and how long it stays positive.

Each sweep job records, per hidden layer (a transformer: per block's MLP), the sign statistic on
its first training batch before any update, with the batch standard error and the counts, and its
persistence over the run (``run_job``'s ``sign``). Here the runs of the ``acts`` block are grouped
into cells (data, architecture, activation, layer); each cell's t = 0 sign is the mean over seeds
with a 95% Student-t interval (none from fewer than 5 seeds; the network realization is the unit
of replication, as in the theorem's expectation). A cell's sign is *resolved* when its exact
two-sided sign test over seeds rejects a zero median under Holm's procedure at family-wise level
``ALPHA`` over every cell of the family (10 seeds give p >= 2^-9 = 0.002 per cell, so Holm over
more than 25 cells resolves none of them). Beside the cells, the *pooled* test: each network
(run) contributes one value, its mean sign statistic over its layers, and one exact sign test over
these independent networks asks whether the sign is positive in the family as a whole.

Outcome (and verdict): ``positive`` (holds) when every cell is resolved positive, or the pooled
test rejects with more positive networks and no cell is resolved negative; ``negative`` (violated)
when some cell is resolved negative; ``zero within interval`` (inconclusive) otherwise;
``not recorded`` (inconclusive) when no run of the family carries the sign (a sweep stored before
the sign was measured). A sweep has a few seeds: an effect of ~1e-5 of a small GPT (resolved
positive over 600 inits, see ``verify --arch gpt``) stays unresolved here, which is a statement
about the sweep's resolution, not about the sign.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from ..montecarlo.signtest import holm
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Verdict
from ..training.summary import seed_estimate
from .grid import Job
from .stats import sign_test

__all__ = ["sign_t0_numbers", "sign_t0_verdict", "ALPHA", "OUTCOMES"]

ALPHA = 0.05  # family-wise, Holm over the cells of one family
OUTCOMES = {HOLDS: "positive", VIOLATED: "negative", INCONCLUSIVE: "zero within interval"}


def _cells(runs: list[dict]) -> dict[tuple, list[tuple[int, dict]]]:
    """(data, arch, activation, layer) -> [(seed, that layer's recorded sign)] over the runs."""
    cells = defaultdict(list)
    for r in runs:
        job = Job.from_dict(r["job"])
        for layer, record in enumerate(r["sign"], start=1):
            cells[(job.data, job.arch, job.label, layer)].append((job.seed, record))
    return cells


def _cell(key: tuple, records: list[tuple[int, dict]]) -> dict:
    data, arch, act, layer = key
    t0 = [rec["t0"] for _, rec in records]
    values = [math.nan if v["mean"] is None else v["mean"] for v in t0]
    sign = seed_estimate(values)
    test = sign_test(values, None)
    batch_se = [v["stderr"] for v in t0 if v["stderr"] is not None]
    fractions = [rec["positive_fraction"] for _, rec in records]
    return {"data": data, "arch": arch, "act": act, "layer": layer, "seeds": [seed for seed, _ in records],
            "sign_t0": sign, "p_value": test.p_value, "sign_test": test,
            "batch_stderr_median": float(np.median(batch_se)) if batch_se else None,
            "n_samples": [v["n_samples"] for v in t0], "n_positive": [v["n_positive"] for v in t0],
            "positive_fraction": seed_estimate([math.nan if f is None else f for f in fractions]).within(0.0, 1.0),
            "first_negative_running_mean": [rec["first_negative_running_mean"] for _, rec in records],
            "steps": max(rec["last_step"] for _, rec in records)}


def sign_t0_numbers(results: list[dict]) -> dict:
    """The T0 row's numbers from one family's results: the cells, each resolved or not, and the counts."""
    runs = [r for r in results if r["job"].get("block") == "acts" and r["job"].get("force") is None]
    recorded = [r for r in runs if r.get("sign")]
    numbers = {"recorded": len(recorded), "not_recorded": len(runs) - len(recorded), "alpha": ALPHA}
    if not recorded:
        return numbers
    cells = [_cell(key, records) for key, records in sorted(_cells(recorded).items())]
    rejected = holm(np.array([c["p_value"] for c in cells]), ALPHA)
    for cell, resolved in zip(cells, rejected):
        cell["call"] = int(np.sign(cell["sign_t0"].mean)) if resolved else 0
    values = [v for c in cells for v in c["sign_t0"].values or ()]
    one_seed = [c["sign_t0"].n < 2 for c in cells]  # no interval: neither resolved nor "zero within" one
    per_network = [float(np.mean(layers)) for layers in
                   ([rec["t0"]["mean"] for rec in r["sign"] if rec["t0"]["mean"] is not None] for r in recorded)
                   if layers]
    numbers["pooled"] = sign_test(per_network, ALPHA)
    numbers["per_network"] = seed_estimate(per_network)  # each network's mean over its layers
    numbers.update(cells=cells, positive=sum(c["call"] == 1 for c in cells),
                   negative=sum(c["call"] == -1 for c in cells),
                   unresolved=sum(c["call"] == 0 and not single for c, single in zip(cells, one_seed)),
                   no_interval=sum(one_seed),
                   seed_values_positive=sum(v > 0 for v in values), seed_values=len(values))
    return numbers


def sign_t0_verdict(numbers: dict) -> Verdict:
    """holds: every cell resolved positive; violated: some cell resolved negative; else inconclusive."""
    if not numbers.get("cells"):
        return INCONCLUSIVE
    if numbers["negative"]:
        return VIOLATED
    pooled = numbers.get("pooled")
    if numbers["positive"] == len(numbers["cells"]) or (pooled is not None and pooled.call == 1):
        return HOLDS
    return INCONCLUSIVE
