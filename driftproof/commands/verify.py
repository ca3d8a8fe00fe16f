"""``driftproof verify``: the evidence table and one verdict line (exit 0/1/3)."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..archs import arch_help, get_arch
from ..verification import ARCHS, KINDS
from ..render import verdict_table, verification_json
from .common import add_network_arguments, network_options, preflight, print_json

# Options whose default depends on --arch (None here: the API resolves it), with their help.
_PER_ARCH = {"init": "weight distribution (default normal; not for --arch gpt/vit)",
             "scale": "he, lecun, glorot or std=<float> (default he; not for --arch gpt/vit)",
             "width": "hidden width N (default 256; --arch gpt/vit: 32)",
             "depth": "hidden layers L (default 1; --arch gpt/vit: 2 blocks)",
             "classes": "outputs K (default 10; not for --arch gpt/vit: the text's characters, the 10 digits)"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser)
    for action in parser._actions:
        if action.dest in _PER_ARCH:
            action.default, action.help = None, _PER_ARCH[action.dest]
    parser.add_argument("--arch", choices=ARCHS, default="mlp",
                        help=arch_help() + " (default %(default)s); gpt and vit take tens of seconds, estimated "
                             "before they start")
    parser.add_argument("--only", choices=KINDS, action="append",
                        help="run only these kinds of evidence (repeatable; default: all)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    parser.add_argument("--wide", action="store_true", help="one line per row, whatever the terminal's width")


def run(args: argparse.Namespace) -> int:
    # it states its time before any work (and refuses it over the limit); the estimates count no symbolic rows
    if get_arch(args.arch).long_verify and set(args.only or KINDS) != {"symbolic"}:
        preflight(api.verify_budget_for(**network_options(args), arch=args.arch))
    result = api.verify(**network_options(args), arch=args.arch, only=args.only,
                        progress=not args.no_progress and sys.stderr.isatty())
    if args.json:
        print_json(verification_json(result))
    else:
        print(verdict_table(result, wide=args.wide))
    return result.exit_code
