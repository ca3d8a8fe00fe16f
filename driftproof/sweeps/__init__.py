"""Sweeps over training configurations and the paper's empirical claims C1-C5 (issue 6).

grid (configurations) -> job (train one, measure) -> runner (local processes or Dask) ->
store (one JSON per finished configuration, resumable) -> claims (verdicts with evidence).

Public API: ``Job``, ``make_grid``, ``GRIDS``, ``run_job``, ``run_sweep``, ``SweepStore``,
``claims_table`` (C1-C5 and the t = 0 sign T0 of one family), ``claims_of_families``, ``spike_stats``, ``fit_changepoint``, ``QuantileGate``, ``force_sparsity``,
``load_or_run``.
"""

from ..lazy import lazy_attributes

__all__ = ["Job", "make_grid", "GRIDS", "CLIP_RELATIVE", "run_job", "run_sweep", "run_grid", "worker_count", "SweepRun",
           "SweepStore", "claims_table", "claims_by_family", "claims_of_families", "by_family", "FAMILIES", "CLAIMS",
           "ROWS", "spike_stats", "fit_changepoint", "HingeFit", "QuantileGate", "force_sparsity", "DEFAULT_OUT",
           "load_or_run"]

# name -> the module that defines it, imported on first use: the command line reads DEFAULT_OUT to
# build its parsers, and `driftproof verify` should not pay for the sweep machinery.
_WHERE = {
    **dict.fromkeys(("CLAIMS", "FAMILIES", "ROWS", "by_family", "claims_by_family", "claims_of_families",
                     "claims_table"), "claims"),
    **dict.fromkeys(("QuantileGate", "force_sparsity"), "forced"),
    **dict.fromkeys(("CLIP_RELATIVE", "GRIDS", "Job", "make_grid"), "grid"),
    "run_job": "job",
    **dict.fromkeys(("SweepRun", "run_grid", "run_sweep", "worker_count"), "runner"),
    **dict.fromkeys(("HingeFit", "fit_changepoint", "spike_stats"), "stats"),
    "SweepStore": "store",
}


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _WHERE)


DEFAULT_OUT = "sweeps/default"


def load_or_run(out: str = DEFAULT_OUT, grid: str = "default", **kwargs) -> list[dict]:
    """The stored results in ``out``; runs ``grid`` there first if it holds none (for the report)."""
    from .grid import make_grid
    from .runner import run_sweep
    from .store import SweepStore

    store = SweepStore(out)
    results = store.load()
    if not results:
        run_sweep(make_grid(grid), store, **kwargs)
        results = store.load()
    return results
