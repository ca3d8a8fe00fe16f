"""``driftproof mc``: a Monte Carlo estimate of E[δ] beside the theory's prediction, with a sign test."""

from __future__ import annotations

import argparse
import sys

from ..budget import mc_budget, preflight
from ..config import environment
from ..errors import InputError
from ..montecarlo import compare_conditional, compare_marginal, conditional, marginal
from ..montecarlo.compare import unit_predictions
from ..render import montecarlo_text
from ..results import Verdict
from .common import add_network_arguments, config_from_args, float_arg, int_arg, print_json

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


def _progress_bar(total: int):
    if not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, file=sys.stderr, leave=False, unit="net", desc="mc")
    return bar, lambda done: bar.update(done - bar.n)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    method = args.method or ("cv" if config.init_dist.zero_mean else "naive")
    if args.mode == "marginal" and args.layer is not None:
        raise InputError("--layer is for --mode conditional; marginal mode reports every layer")
    samples = args.samples if args.samples is not None else (20000 if args.mode == "conditional" else 2000)
    preflight(mc_budget(config, mode=args.mode, samples=samples, method=method, layer=args.layer))
    bar, progress = _progress_bar(samples)
    try:
        if args.mode == "conditional":
            result = conditional(config, layer=args.layer, method=method, samples=samples, alpha=args.alpha,
                                 stop_early=not args.no_stop, progress=progress)
            comparison = compare_conditional(config, result)
        else:
            # Marginal mode exists to compare with the mean field: always spend the whole budget.
            result = marginal(config, method=method, samples=samples, alpha=args.alpha, progress=progress)
            comparison = compare_marginal(config, result)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        payload = result.to_dict()
        payload["theory"] = (None if comparison is None else
                             [c.to_dict() for c in comparison] if isinstance(comparison, list) else comparison.to_dict())
        payload["environment"] = environment()
        print_json(payload)
    else:
        predicted = unit_predictions(config, result.layer, result.p) if args.units and args.mode == "conditional" else None
        print(montecarlo_text(config, result, comparison, predicted))
    return Verdict(result.verdict).exit_code
