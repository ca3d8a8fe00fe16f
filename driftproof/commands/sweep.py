"""``driftproof sweep``: run a grid of training configurations, resumably, locally or on Dask."""

from __future__ import annotations

import argparse
import sys

from .common import int_arg, print_json

__all__ = ["add_arguments", "run", "run_with_progress"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..sweeps import DEFAULT_OUT, GRIDS

    parser.add_argument("--grid", default="default", choices=tuple(GRIDS),
                        help="which grid: default (165 MLP configurations, ~9 min on 2 cores), quick (15, seconds), "
                             "transformer (52 GPT and ViT configurations) or transformer_quick (16, ~1 min)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="results folder; finished configurations there are "
                                                           "skipped (default %(default)s)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a dask.distributed scheduler address (tcp://host:8786); default: local processes")
    parser.add_argument("--workers", type=int_arg, default=None, help="local worker processes (default: CPU count)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")


def run_with_progress(grid: str, out: str, *, scheduler=None, workers=None, progress: bool = True):
    """Run (the missing part of) ``grid`` into ``out`` with a tqdm bar on stderr; (jobs, SweepRun)."""
    from ..errors import InputError
    from ..sweeps import SweepStore, make_grid, run_sweep

    if workers is not None and workers < 1:
        raise InputError(f"--workers must be a positive integer, got {workers}")
    jobs = make_grid(grid)
    store = SweepStore(out)
    store.load([])  # refuses a file where the folder should be
    store.write_manifest({"grid": grid, "jobs": [job.key for job in jobs]})
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), initial=len(jobs) - len(store.missing(jobs)), desc=f"sweep {grid}",
                   unit="config", file=sys.stderr)
    try:
        result = run_sweep(jobs, store, scheduler=scheduler, workers=workers,
                           tick=(lambda _: bar.update(1)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    return jobs, result


def run(args: argparse.Namespace) -> int:
    from ..sweeps import SweepStore

    jobs, result = run_with_progress(args.grid, args.out, scheduler=args.scheduler, workers=args.workers,
                                     progress=not args.no_progress)
    results = SweepStore(args.out).load(jobs)
    diverged = sum(bool(r.get("diverged")) for r in results)
    if args.json:
        print_json({"grid": args.grid, "out": args.out, **result.to_dict(), "diverged": diverged,
                    "results": results})
    else:
        print(f"sweep {args.grid}: {result.total} configurations in {args.out}: {len(result.ran)} run now "
              f"({result.executor}, {result.seconds:.1f} s), {result.skipped} already stored; {diverged} diverged.")
        print(f"next: driftproof claims --out {args.out}")
    return 0
