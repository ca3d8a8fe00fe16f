"""The sweep runner: resumable store, local vs Dask agreement, grid shape."""

import json

import numpy as np
import pytest

from driftproof.errors import InputError
from driftproof.sweeps import Job, SweepStore, make_grid, run_sweep
from driftproof.sweeps.grid import CLIP_RELATIVE

TINY = dict(width=8, depth=2, steps=12, batch=16, n_train=64, n_test=32)


def tiny_jobs():
    """Six tiny configurations (seeds 0-1, noise and digits, one forced, one clipped): < 1 s in all."""
    return [Job(act="relu", data="noise", seed=0, **TINY), Job(act="relu", data="noise", seed=1, **TINY),
            Job(act="relu2", data="digits", arch="resmlp", **TINY), Job(act="relu", force=0.7, data="digits", **TINY),
            Job(act="clipped_relu2", clip=CLIP_RELATIVE, data="digits", **TINY), Job(act="gelu2", data="noise", **TINY)]


def test_resume_skips_finished_and_repeats_none(tmp_path):
    jobs = tiny_jobs()
    store = SweepStore(tmp_path)
    seen = []

    def interrupt_after_two(result):
        seen.append(result["key"])
        if len(seen) == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-sweep

    with pytest.raises(KeyboardInterrupt):
        run_sweep(jobs, store, workers=1, tick=interrupt_after_two)
    assert {p.stem for p in store.folder.glob("*.json")} == set(seen) and len(seen) == 2
    assert not list(store.folder.glob("*.tmp"))  # only whole results are left behind
    second = run_sweep(jobs, store, workers=1)
    assert second.skipped == 2 and len(second.ran) == 4 and not set(second.ran) & set(seen)
    assert set(second.ran) | set(seen) == {job.key for job in jobs}
    third = run_sweep(jobs, store, workers=2)
    assert third.skipped == 6 and third.ran == []
    # a removed result is recomputed, and it is the same (deterministic per seed)
    before = store.get(jobs[3])
    store.path(jobs[3].key).unlink()
    fourth = run_sweep(jobs, store, workers=1)
    assert fourth.ran == [jobs[3].key]
    after = store.get(jobs[3])
    assert after["layers"] == before["layers"] and after["test_loss"] == before["test_loss"]


def _numbers(result):
    return [result["test_loss"], result["test_acc"], result["train_loss"]] + [
        v for layer in result["layers"] for v in layer.values() if v is not None]


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_dask_matches_local_processes(tmp_path, processes):
    distributed = pytest.importorskip("distributed")
    jobs = tiny_jobs() if not processes else tiny_jobs()[:3]
    local = SweepStore(tmp_path / "local")
    run_sweep(jobs, local, workers=2)
    remote = SweepStore(tmp_path / "dask")
    import dask

    # the scheduler's and workers' scratch space (and its lock files) under tmp_path, not /tmp/dask-scratch-space
    with dask.config.set({"temporary-directory": str(tmp_path / "dask-tmp")}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        run = run_sweep(jobs, remote, scheduler=client)
        assert run.executor == "dask" and len(run.ran) == len(jobs)
        assert client.status == "running"  # a Client passed in is the caller's to close
    for job in jobs:
        a, b = local.get(job), remote.get(job)
        assert a["key"] == b["key"] == job.key
        # same seeds -> the same numbers, bit for bit (BLAS on one thread in both)
        np.testing.assert_array_equal(_numbers(a), _numbers(b))
        assert a["trajectory"] == b["trajectory"]


def test_results_are_json_and_carry_their_job(tmp_path):
    store = SweepStore(tmp_path)
    job = tiny_jobs()[4]
    run_sweep([job], store, workers=1)
    stored = json.loads(store.path(job.key).read_text())
    assert Job.from_dict(stored["job"]) == job and stored["clip_c"] > 0
    assert stored["act_resolved"].startswith("clipped_relu2(c=")
    assert len(stored["layers"]) == job.depth and 0 <= stored["test_acc"] <= 1


def test_grids():
    default = make_grid("default")
    assert len(default) >= 60 and len({j.key for j in default}) == len(default)
    assert {j.data for j in default} == {"digits", "noise"}
    forced = sorted({j.force for j in default if j.force is not None})
    assert forced[0] == 0.1 and forced[-1] == 0.99 and 0.95 in forced
    assert {j.act for j in default} >= {"relu", "relu2", "clipped_relu2", "gelu", "gelu2"}
    assert len(make_grid("quick")) <= 20
    with pytest.raises(InputError, match="grid must be one of"):
        make_grid("huge")


def test_scaled_grids_keep_every_configuration_and_record_their_scale():
    from driftproof.sweeps.grid import scaled_grid

    default = make_grid("default")
    assert scaled_grid("default") == "default"
    more = make_grid(scaled_grid("default", seeds=12))
    assert len(more) == len(default) // 10 * 12  # every configuration of the default grid has 10 seeds
    assert {j.key for j in default} < {j.key for j in more}  # the shipped results stay valid inside it
    name = scaled_grid("transformer", width=2, steps=3)
    assert name == "transformer:steps=3,width=2"
    pairs = zip(make_grid("transformer"), make_grid(name), strict=True)
    assert all(b.width == 2 * a.width and b.steps == 3 * a.steps and b.seed == a.seed and b.act == a.act
               for a, b in pairs)


@pytest.mark.parametrize("name, words", [
    ("default:seeds=0", "seeds must be an integer from 1"), ("default:width=x", "width must be an integer"),
    ("default:depth=2", "'depth' is not a scale factor"), ("default:seeds=2,seeds=3", "each at most once"),
])
def test_bad_scales_are_refused(name, words):
    with pytest.raises(InputError, match=words):
        make_grid(name)


def test_a_scaled_sweep_records_its_grid_and_scale(tmp_path):
    from driftproof import api

    check = api.sweep("quick:seeds=1,steps=2", tmp_path / "sw", workers=2)
    results = SweepStore(tmp_path / "sw").load()
    assert check.grid == "quick:seeds=1,steps=2" and check.complete and check.smoke and check.exit_code == 0
    assert len(results) == 10 and {r["job"]["seed"] for r in results} == {0}  # 5 activations, 1 natural, 4 forced
    assert {r["job"]["steps"] for r in results} == {120} and all(r["scale"]["steps"] == 120 for r in results
                                                                 if not r["diverged"])
    assert api.claims(tmp_path / "sw").grid == "quick:seeds=1,steps=2"


def test_key_depends_on_every_field_and_the_version(monkeypatch):
    job = Job()
    assert Job(seed=1).key != job.key and Job(force=0.5).key != job.key and Job(lr=2e-3).key != job.key
    from driftproof.sweeps import grid

    before = job.key  # a property: computed afresh on every access
    monkeypatch.setattr(grid, "__version__", "9.9.9")
    assert Job().key != before


def test_unreachable_scheduler_is_bad_input(tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_sweep(tiny_jobs()[:1], SweepStore(tmp_path), scheduler="tcp://127.0.0.1:1", connect_timeout=1)


def test_workers_must_be_positive(tmp_path):
    with pytest.raises(InputError, match="workers"):
        run_sweep(tiny_jobs(), SweepStore(tmp_path), workers=0)


def test_load_or_run_runs_once(tmp_path):
    from driftproof.sweeps import load_or_run

    first = load_or_run(str(tmp_path), grid="quick", workers=1)
    assert len(first) == len(make_grid("quick"))
    stamp = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "results").glob("*.json")}
    again = load_or_run(str(tmp_path), grid="quick")
    assert sorted(r["key"] for r in again) == sorted(r["key"] for r in first)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "results").glob("*.json")} == stamp  # nothing rerun
