"""``driftproof mc``: a Monte Carlo estimate of E[δ] beside the theory's prediction, with a sign test."""

from __future__ import annotations

import argparse
import sys

from .. import api
from .common import add_network_arguments, float_arg, int_arg, network_options, preflight, print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser)
    parser.add_argument("--mode", choices=("conditional", "marginal"), default="conditional",
                        help="conditional: fix p, resample downstream weights (default); marginal: resample all")
    parser.add_argument("--method", default=None,
                        help="naive, cv, reduced or antithetic (default: cv if the init is zero-mean, else naive)")
    parser.add_argument("--layer", type=int_arg, default=None, help="hidden layer, conditional mode (default: last)")
    parser.add_argument("--samples", type=int_arg, default=None,
                        help="sample budget (default 20000 conditional, 2000 marginal)")
    parser.add_argument("--alpha", type=float_arg, default=1e-6, help="family-wise error of the sign test (default 1e-6)")
    parser.add_argument("--no-stop", action="store_true", help="conditional mode: spend the whole budget even once every sign is resolved")
    parser.add_argument("--units", action="store_true", help="print every unit's estimate and prediction")
    parser.add_argument("--wide", action="store_true", help="one line per layer, whatever the terminal's width")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    preflight(api.mc_budget_for(**network_options(args), mode=args.mode, method=args.method, layer=args.layer,
                                samples=args.samples))
    check = api.mc(**network_options(args), mode=args.mode, method=args.method, layer=args.layer,
                   samples=args.samples, alpha=args.alpha, stop=not args.no_stop,
                   progress=not args.no_progress and sys.stderr.isatty())
    if args.json:
        print_json(check.to_dict())
    else:
        print(check.text(units=args.units, wide=args.wide))
    return check.exit_code
