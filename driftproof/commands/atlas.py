"""``driftproof atlas``: every catalogued activation in one table (text, JSON or a sortable HTML page)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..catalogue import FAMILIES
from ..errors import InputError
from .common import print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", choices=FAMILIES, help="only this family")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained, sortable HTML page")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr while building")
    parser.add_argument("--figure", metavar="FILE", help="also draw each activation's drift coefficient against its "
                        "sparsity change in training (PNG, PDF or SVG by the file's suffix)")
    parser.add_argument("--no-training", action="store_true",
                        help="leave out the training summaries (no training for activations not cached yet)")
    parser.add_argument("--workers", type=int, default=1, help="processes that train at once (default 1)")


def run(args: argparse.Namespace) -> int:
    from .. import activation_atlas as atlas_module
    from ..render.atlas import atlas_html, atlas_table

    def progress(done, total, name):
        if not args.no_progress and sys.stderr.isatty():
            sys.stderr.write(f"\ratlas: {done}/{total} {name:<20}")
            sys.stderr.flush()

    for option, value in (("--html", args.html), ("--figure", args.figure)):
        if value:  # checked before any work: nothing is built for a file that cannot be written
            _check_target(option, value)
    if args.figure and Path(args.figure).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise InputError(f"--figure {args.figure!r}: name a .png, .pdf or .svg file")
    if args.figure and args.no_training:
        raise InputError("--figure draws the training's sparsity change: it cannot be combined with --no-training")
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    result = atlas_module.atlas(args.family, progress=progress, training=not args.no_training, workers=args.workers)
    if not args.no_progress and sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 40 + "\r")
    if args.html:
        Path(args.html).write_text(atlas_html(result), encoding="utf-8")
    if args.figure:
        result.plot().savefig(args.figure, dpi=150)
    if args.json:
        print_json(result.to_dict())
    else:
        print(atlas_table(result))
    return 0


def _check_target(option: str, value: str) -> None:
    target = Path(value).expanduser()
    if target.is_dir():
        raise InputError(f"{option} {value!r} is a folder; name a file")
    if not target.parent.is_dir():
        raise InputError(f"{option} {value!r}: the folder {str(target.parent)!r} does not exist")
