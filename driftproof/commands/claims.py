"""``driftproof claims``: the paper's empirical claims C1-C5, checked against the stored sweep."""

from __future__ import annotations

import argparse
import sys
import textwrap

from .common import print_json

__all__ = ["add_arguments", "run", "render"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..sweep import DEFAULT_OUT

    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="sweep results folder; the default sweep runs there first if it is empty "
                             "(default %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar if the sweep must run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def render(rows, n_results: int, out: str) -> str:
    """The claim rows (Evidence) as a table: claim, verdict word, statement, and the evidence wrapped."""
    from ..sweep.describe import evidence_text, statement, verdict_word

    lines = [f"claims checked against {n_results} stored configurations in {out}", ""]
    for row in rows:
        lines.append(f"{row.key.result}  {verdict_word(row.verdict).upper():<14} {statement(row)}")
        lines += textwrap.wrap(evidence_text(row), width=110, initial_indent="    ", subsequent_indent="    ")
        lines.append("")
    return "\n".join(lines).rstrip()


def run(args: argparse.Namespace) -> int:
    from ..sweep import SweepStore, claims_table
    from ..sweep.describe import claim_dict

    store = SweepStore(args.out)
    results = store.load()
    if not results:
        from .sweep import run_with_progress

        print(f"driftproof: no sweep results in {args.out}: running the default sweep first", file=sys.stderr)
        run_with_progress("default", args.out, progress=not args.no_progress)
        results = store.load()
    rows = claims_table(results)
    if args.json:
        print_json({"out": args.out, "n_results": len(results), "claims": [claim_dict(row) for row in rows]})
    else:
        print(render(rows, len(results), args.out))
    return 0
