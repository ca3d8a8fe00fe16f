"""A report built with several worker processes: the training runs computed first, in parallel, are every run the
sections read, and their numbers are those of one process (quick sizes, one pair: about 20 s of CPU)."""

import json

from driftproof.reporting.cache import ResultCache
from driftproof.reporting.context import Context
from driftproof.reporting.split_runs import split_jobs
from driftproof.reporting.split_sections import split_section
from driftproof.reporting.training_sections import persistence_section, training_jobs
from driftproof.results import json_default

from ..harness import default_sigint


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
    seen = []
    assert ctx.cache.fill(jobs, workers=2, progress=lambda done, total: seen.append((done, total))) == len(jobs)
    assert seen[0] == (0, len(jobs)) and sorted(seen)[-1] == (len(jobs), len(jobs)) and len(seen) == len(jobs) + 1
    assert ctx.cache.fill(jobs, workers=2) == 0  # all cached now
    persistence_section(ctx)
    split_section(ctx)
    computed = [name for name in ctx.cache.computed_here if name.startswith(("training-", "split-"))]
    assert computed == [], f"the sections computed runs the workers had not: {computed}"
    assert ctx.cache.misses >= len(jobs)  # the workers' results count as computed in this build, not as cached
    # a worker's numbers are one process's, bit for bit: the cheapest persistence run and an MLP split run again
    for job in (training_jobs(ctx)[0], next(j for j in jobs if j.kind == "split" and j.key["spec"]["arch"] == "mlp")):
        assert _canonical(job.run()) == _canonical(ctx.cache.get_job(job)), job.kind


_INTERRUPTED = """
import sys, time
from driftproof.reporting.cache import Job, ResultCache

def slow(i):
    time.sleep(0.2 if i == 0 else 60)
    return {"i": i}

cache = ResultCache(sys.argv[1])
try:
    cache.fill([Job("t", {"i": i}, slow, (i,)) for i in range(4)], 2, lambda done, total: print("done", done, flush=True))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def test_ctrl_c_stops_the_workers_and_keeps_the_runs_they_finished(tmp_path):
    """Ctrl-C reaches the whole process group (as from a terminal): the workers ignore it, the build stops them
    and exits; the one run finished by then stays in the cache, the others leave nothing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED)
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path / "cache")], stdout=subprocess.PIPE,
                               text=True, start_new_session=True, preexec_fn=default_sigint)
    try:
        assert process.stdout.readline().strip() == "done 0"  # started
        assert process.stdout.readline().strip() == "done 1"
        start = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=10) == 130 and "interrupted" in process.stdout.read()
        assert time.monotonic() - start < 5
        deadline = time.monotonic() + 5  # the workers are gone too (none left sleeping its 60 s)
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("a worker outlived the interrupted build")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(kept) == 1 and kept[0].startswith("t-") and kept[0].endswith(".json"), kept


def test_a_rebuild_removes_the_figures_it_no_longer_draws(tmp_path):
    """A folder built before with other pairs (or figure names) keeps only what this build drew."""
    from driftproof.reporting.build import _remove_stale_figures

    ctx = Context(folder=tmp_path, pairs=(("ce", "relu"),), quick=True, cache=ResultCache(tmp_path / "c"))
    ctx.figures.mkdir()
    for name in ("headline.pdf", "headline.png", "persistence_noise.pdf", "persistence_noise.png", "notes.txt"):
        (ctx.figures / name).write_text("x")
    ctx.results["figures"] = {"headline": {}}
    _remove_stale_figures(ctx)
    assert sorted(p.name for p in ctx.figures.iterdir()) == ["headline.pdf", "headline.png", "notes.txt"]
