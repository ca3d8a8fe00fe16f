"""``driftproof claims``: the paper's empirical claims C1-C5, checked against a stored sweep."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..sweeps import DEFAULT_OUT
from .common import print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--out", default=DEFAULT_OUT, help="the folder `driftproof sweep` wrote (default %(default)s)")
    source.add_argument("--stored", metavar="GRID", default=None,
                        help="judge the full sweep shipped with driftproof instead: default (MLP family) or "
                             "transformer (GPT and ViT); its provenance is in --json's \"sweep\"")
    parser.add_argument("--run-sweep", action="store_true",
                        help="if --out holds no results, run the sweep (--grid) there first; without it an empty "
                             "folder is refused")
    parser.add_argument("--grid", default="default",  # validated by the API, with its message
                        help="the grid --run-sweep runs: default, quick, transformer or transformer_quick (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar if the sweep must run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def run(args: argparse.Namespace) -> int:
    check = api.claims(args.out, run_sweep=args.run_sweep, grid=args.grid,
                       progress=not args.no_progress and sys.stderr.isatty(), stored=args.stored)
    if args.json:
        print_json(check.to_dict())
    else:
        print(check)
    return check.exit_code  # 3 (inconclusive) unless the grid is known and complete
