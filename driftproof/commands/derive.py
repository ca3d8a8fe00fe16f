"""``driftproof derive``: print the derivations R3, R1/R2 and R4/R5, as text or LaTeX."""

from __future__ import annotations

import argparse

from ..config import environment
from ..theory.derive import derive_all
from .common import add_network_arguments, config_from_args, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser)
    parser.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    derivations = derive_all(config)
    if args.json:
        print_json({"config": config.to_dict(), "derivations": [d.to_dict() for d in derivations],
                    "environment": environment()})
    elif args.latex:
        print("\n\n".join(d.to_latex() for d in derivations))
    else:
        print("\n\n".join(d.to_text() for d in derivations))
    return 0
