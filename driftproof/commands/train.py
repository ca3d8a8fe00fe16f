"""``driftproof train``: train small networks and measure whether the sign and the drift persist."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..archs import arch_help, get_arch
from ..budget import ANNOUNCE_SECONDS
from ..nets import ARCHS
from ..training.options import TRAIN_OPTIONS, per_arch_text
from .common import add_network_arguments, float_arg, int_arg, network_options, print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser, act="relu", width=128, depth=3)
    # defaults that depend on the architecture: None here, filled by api.train (each architecture's train_defaults)
    parser.set_defaults(depth=None)
    for action in parser._actions:
        if action.dest == "depth":
            action.help = f"hidden layers L (default: {per_arch_text('depth')})"
    parser.add_argument("--arch", default="mlp", choices=ARCHS, help=arch_help() + " (default %(default)s)")
    for option in TRAIN_OPTIONS:  # declared once (training/options.py)
        default = None if option.per_arch else option.default
        given = f"default: {per_arch_text(option.name)}" if option.per_arch else (
            "default %(default)s" if option.default is not None else "")
        parser.add_argument(option.cli_flag, dest=option.name, default=default, choices=option.choices,
                            type={int: int_arg, float: float_arg}.get(option.type), metavar=option.metavar,
                            help=option.help + (f" ({given})" if given and "default" not in option.help else ""))
    parser.add_argument("--no-control", action="store_true", help="skip the tanh control runs")
    parser.add_argument("--out", default=None,
                        help="run folder (default runs/<timestamp>-<act>-<data>); figures and metrics go there")
    parser.add_argument("--force", action="store_true",
                        help="write into an existing --out that is not a run folder of this configuration "
                             "(driftproof's files there are replaced, others left alone)")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--wide", action="store_true", help="one line per layer, whatever the terminal's width")


def _announce(budget) -> None:
    """A long run states its estimate on stderr before it starts."""
    if budget.seconds > ANNOUNCE_SECONDS:
        print(f"{budget.text()} (estimated)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    data = args.data or get_arch(args.arch).default_data
    out = args.out if args.out is not None else api.default_run_folder(args.act, data)
    trained = api.train(**network_options(args), arch=args.arch,
                        **{option.name: getattr(args, option.name) for option in TRAIN_OPTIONS},
                        control=not args.no_control, out=out, figures=not args.no_figures, force=args.force,
                        on_estimate=_announce,
                        progress=not args.no_progress and sys.stderr.isatty())
    if args.json:
        print_json(trained.to_dict())
    else:
        print(trained.text(wide=args.wide))
    return 0
