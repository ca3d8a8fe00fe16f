"""The report's claims table: C1-C5 and T0 side by side per family, T0 in its own words."""

from __future__ import annotations

import numpy as np

from driftproof.reporting.sweep_sections import _side_by_side, sweep_claims
from driftproof.sweeps import Job, claims_by_family


def _result(arch: str, act: str, seed: int, sign: float | None) -> dict:
    data = {"gpt": "text", "vit": "digits"}.get(arch, "digits")
    job = Job(act=act, arch=arch, data=data, seed=seed, block="acts")
    out = {"job": job.to_dict(), "key": job.key, "test_loss": 1.0, "test_acc": 0.5, "diverged": False,
           "layers": [{"sparsity": 0.5}], "sparsity_start": [0.5], "sparsity_end": [0.5], "sparsity_max": [0.5]}
    if sign is not None:
        out["sign"] = [{"t0": {"mean": sign, "stderr": 0.1, "n_samples": 8, "n_positive": 100},
                        "steps_observed": 21, "last_step": 20, "positive_fraction": 0.7,
                        "first_negative_running_mean": None}]
    return out


def test_t0_sits_beside_the_claims_for_each_family():
    """MLP runs stored before the sign (not recorded), GPT runs with a clear positive sign over 10 seeds (an exact
    sign test over 10 seeds, all positive: p = 2^-9)."""
    wiggle = np.sin(np.arange(10))
    results = ([_result("mlp", "relu", s, None) for s in range(4)]
               + [_result("gpt", "relu", s, 1.0 + 0.01 * wiggle[s]) for s in range(10)])
    families = claims_by_family(results)
    table = _side_by_side(families)
    t0 = next(line for line in table.splitlines() if line.lstrip().startswith("T0"))
    assert "not recorded" in t0 and "positive: 1 of 1 (activation, layer) cells resolved positive" in t0
    assert "may not resolve an effect of" in table  # the caption's caveat

    class Ctx:  # the section reads the stored sweeps through the context; here they are given
        sweep_results = (results, "test results")

    claims = {claim.key: claim for claim in sweep_claims(Ctx())}
    assert claims["T0/gpt"].verdict == "positive" and claims["T0/mlp"].verdict == "not recorded"


def test_a_claims_evidence_is_listed_a_number_a_line_never_cut_inside_brackets():
    from driftproof.reporting.sweep_sections import evidence_list, evidence_parts

    text = ("hinge fit (a; b. c): cliff at 0.932 [0.915, 0.933] (n = 140); slope -0.086 before. Mean by level: "
            "0 0.972, 0.1 0.973. diverged: none of 330 runs. p <= 0 -0.010 [-0.024, +0.004] (n = 390)")
    assert evidence_parts(text) == ["hinge fit (a; b. c): cliff at 0.932 [0.915, 0.933] (n = 140)", "slope -0.086 before",
                                    "Mean by level: 0 0.972, 0.1 0.973", "diverged: none of 330 runs",
                                    "p <= 0 -0.010 [-0.024, +0.004] (n = 390)"]
    assert evidence_list(text).count(r"\item ") == 5
    assert evidence_list("") == "" and evidence_list(" ") == ""
