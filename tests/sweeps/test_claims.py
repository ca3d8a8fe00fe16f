"""claims_table on hand-built results: each verdict follows from its numbers."""

import numpy as np
import pytest

from driftproof.results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, RowKey
from driftproof.sweeps import Job, claims_table
from driftproof.render.claims import claim_dict, evidence_text, verdict_word
from driftproof.sweeps.claims import claim_c1, claim_c2, claim_c3, claim_c4, claim_c5


def fake(job: Job, *, acc=0.9, loss=0.3, sparsity=(0.5, 0.5, 0.5), start=(0.5, 0.5, 0.5), spike=(5.0, 5.0, 5.0),
         clip_c=None, max_abs=None):
    layers = [{"sparsity": s, "max_over_median": m, "kurtosis": 3 * m, "max_abs": max_abs or m, "median_active": 1.0,
               "active_frac": 1 - s} for s, m in zip(sparsity, spike)]
    return {"key": job.key, "job": job.to_dict(), "label": job.label, "diverged": False, "test_loss": loss,
            "test_acc": acc, "layers": layers, "sparsity_start": list(start), "sparsity_end": list(sparsity),
            "sparsity_max": [max(a, b) for a, b in zip(start, sparsity)], "clip_c": clip_c}


def test_c1_rise_and_its_absence():
    rng = np.random.default_rng(0)
    rising = [fake(Job(seed=i, lr=0.01 * (i + 1)), sparsity=(0.6 + 0.05 * rng.random(),) * 3) for i in range(6)]
    row = claim_c1(rising)
    assert row.verdict == HOLDS and row.numbers["rise"].ci_low > 0 and row.key == RowKey("C1")
    assert row.numbers["max_layer_sparsity"] == max(max(r["sparsity_max"]) for r in rising)
    falling = [fake(Job(seed=i), sparsity=(0.4 - 0.02 * rng.random(),) * 3) for i in range(6)]
    assert claim_c1(falling).verdict == VIOLATED and verdict_word(claim_c1(falling).verdict) == "not supported"
    too_few = claim_c1(falling[:2])
    assert too_few.verdict == INCONCLUSIVE and too_few.numbers == {"n": 2}  # too few runs to say
    assert evidence_text(too_few) == "only 2 natural ReLU runs"


def test_c2_finds_a_planted_cliff_in_results():
    # 40 forced-sparsity runs, accuracy flat to 0.72 then falling 3 per unit sparsity (noise sd 0.005, seed 1)
    rng = np.random.default_rng(1)
    runs = []
    for i, s in enumerate(np.linspace(0.3, 0.97, 40)):
        acc = 0.95 - 3.0 * max(s - 0.72, 0) + 0.005 * rng.standard_normal()
        runs.append(fake(Job(force=float(round(s, 4)), seed=i, block="forced"), acc=acc, sparsity=(s,) * 3))
    row = claim_c2(runs, n_boot=200)
    knot = row.numbers["fit"].knot
    assert row.verdict == HOLDS and knot.ci_low <= 0.72 <= knot.ci_high and abs(knot.mean - 0.72) < 0.03
    assert knot.method == "bootstrap" and knot.n == 40  # the runs resampled, not the 200 resamples
    flat = [fake(Job(force=float(round(s, 4)), block="forced"), acc=0.9 + 0.005 * rng.standard_normal(),
                 sparsity=(s,) * 3) for s in np.linspace(0.3, 0.97, 40)]
    assert claim_c2(flat, n_boot=100).verdict == VIOLATED


def _acts(act, seed):
    return Job(act=act, seed=seed, arch="resmlp", block="acts")


def test_c3_c4_c5_from_paired_runs():
    rng = np.random.default_rng(2)
    runs = []
    for seed in range(10):  # 10 seeds: an exact sign test can resolve (p = 2^-9 when all agree)
        jitter = 1 + 0.05 * rng.random()
        runs.append(fake(_acts("relu", seed), spike=(6 * jitter,) * 3, loss=0.30 + 0.01 * seed))
        runs.append(fake(_acts("relu2", seed), spike=(150 * jitter,) * 3, loss=0.40, acc=0.90))
        runs.append(fake(_acts("clipped_relu2", seed), spike=(30 * jitter,) * 3, loss=0.35, acc=0.905, clip_c=30.0,
                         max_abs=30.0))
        runs.append(fake(_acts("gelu", seed), loss=0.25 + 0.01 * seed))
        runs.append(fake(_acts("gelu2", seed), loss=0.20 + 0.01 * seed + 0.001 * rng.random()))
    c3 = claim_c3(runs)
    ratio = c3.numbers["spike_ratio"]["digits resmlp"][1]
    assert c3.verdict == HOLDS and ratio.mean == pytest.approx(25.0, rel=1e-9)
    c4 = claim_c4(runs)
    assert c4.verdict == HOLDS and c4.numbers["clip_bound_fraction"]["digits resmlp"] == 1.0
    assert c4.numbers["spike_ratio_vs_relu2"]["digits resmlp"][1].mean == pytest.approx(0.2)
    c5 = claim_c5(runs)
    assert c5.verdict == HOLDS
    # the same runs with GELU worse than nothing: GELU^2 no longer lowest -> not supported
    for r in runs:
        if r["job"]["act"] == "gelu":
            r["test_loss"] = 0.1
    assert claim_c5(runs).verdict == VIOLATED
    # a clip that never binds reduces nothing: C4 not supported
    for r in runs:
        if r["job"]["act"] == "clipped_relu2":
            relu2 = next(x for x in runs if x["job"]["act"] == "relu2" and x["job"]["seed"] == r["job"]["seed"])
            r["layers"] = [dict(layer) for layer in relu2["layers"]]
    assert claim_c4(runs).verdict == VIOLATED


def test_empty_results_are_inconclusive():
    rows = claims_table([])
    assert [r.key.result for r in rows] == ["C1", "C2", "C3", "C4", "C5", "T0"]
    assert all(isinstance(r, Evidence) and r.kind == "claim" and r.verdict == INCONCLUSIVE for r in rows)
    assert [claim_dict(r)["verdict"] for r in rows] == ["inconclusive"] * 6


def test_c5_losses_the_figure_draws_leave_diverged_runs_out():
    """C5's figure draws ``numbers["test_loss"]``: a diverged GELU^2 run (flagged, or a held-out loss past the
    rule's 4 ln 10) is neither in its mean nor in its n."""
    runs = [fake(_acts(act, seed), loss=0.2 + 0.01 * seed) for seed in range(6) for act in ("relu", "gelu", "gelu2")]
    gelu2 = [r for r in runs if r["job"]["act"] == "gelu2"]
    gelu2[0].update(diverged=True, diverged_at=7, test_loss=1e9)
    gelu2[1]["test_loss"] = 50.0  # not flagged, but above 4 ln 10 = 9.2 nats: diverged by the rule
    drawn = claim_c5(runs).numbers["test_loss"]["resmlp"]["gelu2"]
    assert drawn.n == 4 and drawn.mean == pytest.approx(np.mean([0.22, 0.23, 0.24, 0.25]))
