"""``driftproof sweep``: run a grid of training configurations, resumably, locally or on Dask."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..sweeps import DEFAULT_OUT
from .common import int_arg, print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grid", default="default",  # validated by the API, with its message
                        help="which grid: default (670 MLP-family configurations, 10 seeds each, ~30 min on 2 cores), "
                             "quick (15, seconds), transformer (140 GPT and ViT configurations, 5 seeds each, ~50 min "
                             "on 2 cores) or transformer_quick (16, ~1 min)")
    parser.add_argument("--seeds", type=int_arg, default=None,
                        help="run the grid larger: this many seeds per configuration instead of its own")
    parser.add_argument("--width-mult", type=int_arg, default=1, metavar="K",
                        help="run the grid larger: every network K times wider (default 1)")
    parser.add_argument("--steps-mult", type=int_arg, default=1, metavar="K",
                        help="run the grid larger: every run K times longer (default 1)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="results folder; it records its grid, and finished "
                                                           "configurations there are skipped (default %(default)s)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a dask.distributed scheduler address (tcp://host:8786); default: local processes")
    parser.add_argument("--workers", type=int_arg, default=None,
                        help="local worker processes (default: the core count; at most one per job, 4 per core)")
    parser.add_argument("--force", action="store_true",
                        help="write into an existing --out that is not a sweep folder (its other files left alone)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the run and the claims)")


def run(args: argparse.Namespace) -> int:
    from ..sweeps.grid import scaled_grid  # the grids import the architectures: only when a sweep runs

    grid = scaled_grid(args.grid, args.seeds, args.width_mult, args.steps_mult)
    check = api.sweep(grid, args.out, scheduler=args.scheduler, workers=args.workers, force=args.force,
                      progress=not args.no_progress and sys.stderr.isatty())
    for damaged in check.run.get("recomputed", ()):
        print(f"driftproof: recomputed {damaged['file']}, which {damaged['problem']}", file=sys.stderr)
    if args.json:
        print_json(check.to_dict())
        return 0
    run = check.run
    print(f"sweep {grid}: {run['total']} configurations in {args.out}: {run['ran']} run now "
          f"({run['executor']}, {run['seconds']:.1f} s), {run['skipped']} already stored; {run['diverged']} diverged.")
    print(f"next: driftproof claims --out {args.out}")
    return 0
