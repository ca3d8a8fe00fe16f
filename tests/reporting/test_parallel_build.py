"""A report built with several worker processes: the training runs computed first, in parallel, are every run the
sections read, and their numbers are those of one process (quick sizes, one pair: about 20 s of CPU)."""

import json

from driftproof.reporting.cache import ResultCache
from driftproof.reporting.context import Context
from driftproof.reporting.split_runs import split_jobs
from driftproof.reporting.split_sections import split_section
from driftproof.reporting.training_sections import persistence_section, training_jobs
from driftproof.results import json_default


def _canonical(value) -> str:
    # compared as text (NaN, a diverged run's statistic, equals itself there), without the run's wall time
    plain = json.loads(json.dumps(value, default=json_default))
    plain.pop("seconds")
    return json.dumps(plain, sort_keys=True)


def test_workers_compute_every_run_the_sections_read_with_the_numbers_of_one_process(tmp_path):
    ctx = Context(folder=tmp_path / "report", pairs=(("ce", "relu"),), quick=True, cache=ResultCache(tmp_path / "c"))
    (tmp_path / "report" / "figures").mkdir(parents=True)
    jobs = split_jobs(ctx) + training_jobs(ctx)
    assert {job.kind for job in jobs} == {"split", "training"} and len(jobs) == 6  # 4 split data sets, 2 persistence
    assert ctx.cache.fill(jobs, workers=1) == 0  # one process: each is computed when read
    assert ctx.cache.fill(jobs, workers=2) == len(jobs)
    assert ctx.cache.fill(jobs, workers=2) == 0  # all cached now
    persistence_section(ctx)
    split_section(ctx)
    computed = [name for name in ctx.cache.computed_here if name.startswith(("training-", "split-"))]
    assert computed == [], f"the sections computed runs the workers had not: {computed}"
    assert ctx.cache.misses >= len(jobs)  # the workers' results count as computed in this build, not as cached
    # a worker's numbers are one process's, bit for bit: the cheapest persistence run and an MLP split run again
    for job in (training_jobs(ctx)[0], next(j for j in jobs if j.kind == "split" and j.key["spec"]["arch"] == "mlp")):
        assert _canonical(job.run()) == _canonical(ctx.cache.get_job(job)), job.kind
