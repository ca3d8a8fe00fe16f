"""``driftproof claims``: the paper's empirical claims C1-C5, checked against the stored sweep."""

from __future__ import annotations

import argparse
import sys

from ..config import environment
from ..render.claims import claim_dict, claims_text
from ..sweeps import DEFAULT_OUT, SweepStore, claims_by_family
from .common import print_json
from .sweep import run_with_progress

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="sweep results folder; the default sweep runs there first if it is empty "
                             "(default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar if the sweep must run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def run(args: argparse.Namespace) -> int:
    store = SweepStore(args.out)
    results = store.load()
    if not results:
        print(f"driftproof: no sweep results in {args.out}: running the default sweep first", file=sys.stderr)
        run_with_progress("default", args.out, progress=not args.no_progress)
        results = store.load()
    by_family = claims_by_family(results)
    if args.json:
        # "claims": the MLP family's rows, as before; "families": every family's rows, side by side
        print_json({"out": args.out, "n_results": len(results),
                    "claims": [claim_dict(row) for row in by_family.get("mlp", [])],
                    "families": {family: [claim_dict(row) for row in rows] for family, rows in by_family.items()},
                    "environment": environment()})
    else:
        print(claims_text(by_family, len(results), args.out))
    return 0
