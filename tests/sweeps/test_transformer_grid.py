"""The transformer grid: a GPT and a ViT job run and measure like the MLP jobs; claims are judged per family."""

import numpy as np
import pytest

from driftproof.sweeps import claims_by_family, claims_table, make_grid, run_job
from driftproof.sweeps.claims import family_of
from driftproof.sweeps.grid import GPT, VIT, Job


def test_transformer_grids_cover_both_families_and_the_cliff():
    jobs = make_grid("transformer")
    assert {job.arch for job in jobs} == {"gpt", "vit"}
    for arch in ("gpt", "vit"):
        acts = [j for j in jobs if j.arch == arch and j.block == "acts"]
        assert {j.act for j in acts} == {"relu", "relu2", "clipped_relu2", "gelu", "gelu2", "silu"}
        assert len(acts) == 30  # six activations x 5 seeds (DESIGN.md §3: 5 per transformer configuration)
        forced = sorted(j.force for j in jobs if j.arch == arch and j.block == "forced")
        assert forced[0] == 0.1 and forced[-1] == 0.99
        assert all(sum(j.force == q for j in jobs if j.arch == arch) == 5 for q in set(forced))
    assert {job.arch for job in make_grid("transformer_quick")} == {"gpt", "vit"}


@pytest.mark.parametrize("shape", [GPT, VIT])
def test_a_transformer_job_runs_and_measures(shape):
    tiny = {**shape, "width": 16, "depth": 2, "steps": 4, "batch": 4, "n_test": 12 if shape is GPT else 40}
    result = run_job(Job(act="clipped_relu2", clip=30.0, block="acts", **tiny))
    assert not result["diverged"] and result["test_loss"] is not None
    assert len(result["layers"]) == 2 and 0 <= result["layers"][0]["sparsity"] <= 1
    assert result["clip_c"] > 0 and len(result["trajectory"]["step"]) >= 2


def _fake(arch: str, act: str, seed: int, loss: float) -> dict:
    data = {"gpt": "text", "vit": "digits"}.get(arch, "digits")
    job = Job(act=act, arch=arch, data=data, seed=seed, block="acts")
    layers = [{"sparsity": 0.5, "max_abs": 2.0, "max_over_median": 4.0, "median_active": 0.5, "active_frac": 0.5,
               "kurtosis": 3.0}]
    return {"job": job.to_dict(), "key": job.key, "test_loss": loss, "test_acc": 0.5, "diverged": False, "clip_c": 50.0,
            "layers": layers, "sparsity_start": [0.5], "sparsity_end": [0.6], "sparsity_max": [0.6]}


def test_claims_are_judged_per_family():
    """GELU^2 lowest on the GPT, highest on the MLP: C5's verdicts differ by family, never pooled."""
    results = []
    for seed in range(10):  # 10 seeds: the exact sign test per (arch, other) can resolve (p = 2^-9)
        noise = 0.01 * np.sin(seed)
        for act, gpt_loss in (("gelu2", 1.0), ("gelu", 1.5), ("relu", 1.6), ("relu2", 1.7), ("clipped_relu2", 1.8)):
            results.append(_fake("gpt", act, seed, gpt_loss + noise))
            results.append(_fake("mlp", act, seed, 3.0 - gpt_loss + noise))
    by_family = claims_by_family(results)
    assert list(by_family) == ["mlp", "gpt"]
    c5 = {family: rows[4] for family, rows in by_family.items()}
    assert str(c5["gpt"].verdict) != str(c5["mlp"].verdict)
    assert list(c5["gpt"].numbers["test_loss"]) == ["gpt"]
    assert claims_table(results)[4].numbers == c5["mlp"].numbers  # the default family is the MLPs'
    assert family_of({"arch": "resmlp"}) == "mlp"


def test_transformer_jobs_on_dask_match_local_processes(tmp_path):
    """Issue 15: the transformer grid runs on Dask as the MLP grid does — a tiny GPT and ViT job on a
    2-worker LocalCluster (threads) give bit-identical numbers to the local processes, the sign at t = 0
    and its persistence included."""
    distributed = pytest.importorskip("distributed")
    from driftproof.sweeps import SweepStore, run_sweep

    jobs = [Job(act="relu", block="acts", seed=0, **{**shape, "width": 16, "depth": 1, "steps": 3, "batch": 4,
                                                     "n_test": 12 if shape is GPT else 40})
            for shape in (GPT, VIT)]
    local = SweepStore(tmp_path / "local")
    run_sweep(jobs, local, workers=2)
    remote = SweepStore(tmp_path / "dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        run = run_sweep(jobs, remote, scheduler=client)
        assert run.executor == "dask" and len(run.ran) == 2
    for job in jobs:
        a, b = local.get(job), remote.get(job)
        assert a["job"]["arch"] in ("gpt", "vit") and a["key"] == b["key"]
        assert a["test_loss"] == b["test_loss"] and a["layers"] == b["layers"]
        assert a["trajectory"] == b["trajectory"]
        assert a["sign"] == b["sign"] and len(a["sign"]) == 1 and a["sign"][0]["t0"]["mean"] is not None
