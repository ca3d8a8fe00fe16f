"""``driftproof derive``: print the derivations R3, R1/R2 and R4/R5, as text or LaTeX."""

from __future__ import annotations

import argparse

from .. import api
from ..api.checks import DERIVE_ARCHS
from ..archs import arch_help
from .common import add_network_arguments, network_options, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser)
    parser.add_argument("--arch", choices=DERIVE_ARCHS, default="mlp",
                        help=arch_help(DERIVE_ARCHS, "derives") + " (default %(default)s)")
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")


def run(args: argparse.Namespace) -> int:
    derivations = api.derive(**network_options(args), arch=args.arch)
    if args.json:
        print_json(derivations.to_dict())
    elif args.latex:
        print(derivations.to_latex())
    else:
        print(derivations.to_text())
    return 0
