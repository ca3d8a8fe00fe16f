"""``driftproof verify``: the evidence table and one verdict line (exit 0/1/3)."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..evidence import ARCHS, KINDS
from ..render import verdict_table, verification_json
from .common import add_network_arguments, network_options, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser)
    parser.add_argument("--arch", choices=ARCHS, default="mlp",
                        help="mlp: plain MLP (R1-R5); resmlp: pre-norm residual MLP with LayerNorm (R6) "
                             "(default %(default)s)")
    parser.add_argument("--only", choices=KINDS, action="append",
                        help="run only these kinds of evidence (repeatable; default: all)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    parser.add_argument("--wide", action="store_true", help="one line per row, whatever the terminal's width")


def run(args: argparse.Namespace) -> int:
    result = api.verify(**network_options(args), arch=args.arch, only=args.only,
                        progress=not args.no_progress and sys.stderr.isatty())
    if args.json:
        print_json(verification_json(result))
    else:
        print(verdict_table(result, wide=args.wide))
    return result.exit_code
