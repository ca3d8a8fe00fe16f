"""``driftproof atlas``: every catalogued activation in one table (text, JSON or a sortable HTML page)."""

from __future__ import annotations

import argparse
import sys

from ..catalogue import FAMILIES
from .common import print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", choices=FAMILIES, help="only this family")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained, sortable HTML page")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr while building")


def run(args: argparse.Namespace) -> int:
    from .. import activation_atlas as atlas_module
    from ..render.atlas import atlas_html, atlas_table

    def progress(done, total, name):
        if not args.no_progress and sys.stderr.isatty():
            sys.stderr.write(f"\ratlas: {done}/{total} {name:<20}")
            sys.stderr.flush()

    if args.html:  # checked before any work: nothing is built for a page that cannot be written
        from pathlib import Path

        from ..errors import InputError

        target = Path(args.html).expanduser()
        if target.is_dir():
            raise InputError(f"--html {args.html!r} is a folder; name a file")
        if not target.parent.is_dir():
            raise InputError(f"--html {args.html!r}: the folder {str(target.parent)!r} does not exist")
    result = atlas_module.atlas(args.family, progress=progress)
    if not args.no_progress and sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 40 + "\r")
    if args.html:
        from pathlib import Path

        Path(args.html).write_text(atlas_html(result), encoding="utf-8")
    if args.json:
        print_json(result.to_dict())
    else:
        print(atlas_table(result))
    return 0
