"""Sweeps over training configurations and the paper's empirical claims C1-C5 (issue 6).

grid (configurations) -> job (train one, measure) -> runner (local processes or Dask) ->
store (one JSON per finished configuration, resumable) -> claims (verdicts with evidence).

Public API: ``Job``, ``make_grid``, ``GRIDS``, ``run_job``, ``run_sweep``, ``SweepStore``,
``claims_table`` (C1-C5 and the t = 0 sign T0 of one family), ``claims_of_families``, ``spike_stats``, ``fit_changepoint``, ``QuantileGate``, ``force_sparsity``,
``load_or_run``.
"""

from .claims import CLAIMS, FAMILIES, ROWS, by_family, claims_by_family, claims_of_families, claims_table
from .forced import QuantileGate, force_sparsity
from .grid import CLIP_RELATIVE, GRIDS, Job, make_grid
from .job import run_job
from .runner import SweepRun, run_grid, run_sweep, worker_count
from .stats import HingeFit, fit_changepoint, spike_stats
from .store import SweepStore

__all__ = ["Job", "make_grid", "GRIDS", "CLIP_RELATIVE", "run_job", "run_sweep", "run_grid", "worker_count", "SweepRun",
           "SweepStore", "claims_table", "claims_by_family", "claims_of_families", "by_family", "FAMILIES", "CLAIMS",
           "ROWS", "spike_stats", "fit_changepoint", "HingeFit", "QuantileGate", "force_sparsity", "DEFAULT_OUT",
           "load_or_run"]

DEFAULT_OUT = "sweeps/default"


def load_or_run(out: str = DEFAULT_OUT, grid: str = "default", **kwargs) -> list[dict]:
    """The stored results in ``out``; runs ``grid`` there first if it holds none (for the report)."""
    store = SweepStore(out)
    results = store.load()
    if not results:
        run_sweep(make_grid(grid), store, **kwargs)
        results = store.load()
    return results
