"""``driftproof report``: the verification report as LaTeX and PDF."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..errors import InputError
from .common import print_json

EXIT_NOT_EVIDENCE = 3  # a quick or partial build: it says so on page 1 and in its title
EXIT_NO_TEX = 4
EXIT_BUILD_FAILED = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="report", help="output folder (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="fewer pairs, smaller networks and samples: checks that the "
                        "pipeline runs, not evidence (exit status 3)")
    parser.add_argument("--pairs", nargs="+", metavar="LOSS:ACT",
                        help="loss:activation pairs, e.g. ce:gelu mse:relu 'ce:x*tanh(x)'")
    parser.add_argument("--no-pdf", action="store_true", help="write the .tex and figures only")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes that train at once (default: one per core, at most 8); the numbers do not "
                        "depend on it")
    parser.add_argument("--force", action="store_true",
                        help="write into an existing --out that is not a report folder (its other files left alone)")


def _pairs(texts: list[str] | None):
    """``LOSS:ACT`` texts as (loss, act) pairs; api.report validates each before any work."""
    if not texts:
        return None
    pairs = []
    for text in texts:
        loss, sep, act = text.partition(":")
        if not sep:
            raise InputError(f"--pairs takes LOSS:ACTIVATION, got {text!r}")
        pairs.append((loss, act))
    return tuple(pairs)


def run(args: argparse.Namespace) -> int:
    def on_section(name):
        print(f"report: {name}…", file=sys.stderr)

    result = api.report(args.out, pairs=_pairs(args.pairs), quick=args.quick, pdf=not args.no_pdf,
                        on_section=on_section, force=args.force, workers=args.workers)
    summary = api.report_summary(result)
    if args.json:
        print_json(summary)
    if result.missing_packages:
        print(f"driftproof: wrote {result.tex} and figures, but no PDF: TeX is missing. Install it with:\n"
              f"  apt-get install {' '.join(result.missing_packages)}", file=sys.stderr)
        return EXIT_NO_TEX
    if args.no_pdf:
        if not args.json:
            print(f"wrote {result.tex} ({result.seconds:.1f} s)")
    elif result.pdf is None:
        print("driftproof: the LaTeX build failed; the previous PDF (if any) is untouched. Log tail:\n"
              + result.error[-1500:], file=sys.stderr)
        return EXIT_BUILD_FAILED
    elif not args.json:
        print(f"wrote {result.pdf} ({result.seconds:.1f} s; cache {result.cache_hits} hits, "
              f"{result.cache_misses} computed)")
    if result.partial:
        print("driftproof: this build is not evidence (" + "; ".join(result.partial) + ")", file=sys.stderr)
        return EXIT_NOT_EVIDENCE
    return 0
