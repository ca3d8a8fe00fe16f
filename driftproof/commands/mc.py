"""``driftproof mc``: a Monte Carlo estimate of E[δ] beside the theory's prediction, with a sign test."""

from __future__ import annotations

import argparse
import sys

from ..config import environment
from ..errors import InputError
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
    from ..montecarlo import compare_conditional, compare_marginal, conditional, marginal

    config = config_from_args(args)
    method = args.method or ("cv" if config.init_dist.zero_mean else "naive")
    if args.mode == "marginal" and args.layer is not None:
        raise InputError("--layer is for --mode conditional; marginal mode reports every layer")
    samples = args.samples if args.samples is not None else (20000 if args.mode == "conditional" else 2000)
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
        _render(config, result, comparison, args.units)
    return Verdict(result.verdict).exit_code


def _render(config, result, comparison, units: bool) -> None:
    print(f"driftproof mc: loss={config.loss} act={config.act} init={config.init} scale={config.scale}"
          f" width={config.width} depth={config.depth} classes={config.classes} seed={config.seed}")
    print(f"mode={'conditional' if hasattr(result, 'p') else 'marginal'} method={result.method}"
          f" samples={result.sign_test.samples} ({result.seconds:.2f} s)")
    if hasattr(result, "p"):
        pooled = result.pooled
        print(f"layer {result.layer}: E[δ_i | p] averaged over the {len(result.tested)} units with p_i > 0")
        print(f"  estimate   {pooled.mean:.6g} ± {pooled.stderr:.2g}  [{pooled.ci_low:.6g}, {pooled.ci_high:.6g}]"
              f" at {pooled.confidence:g}")
        if comparison is not None:
            print(f"  theory     {comparison.prediction:.6g}  ({comparison.method}, {'exact' if comparison.exact else 'approximate'})"
                  f"  relative error {comparison.relative_error:.2%}, max |z| over units {comparison.max_abs_z:.2f}")
        else:
            print("  theory     not available for this configuration")
        if result.variance_reduction is not None:
            print(f"  variance reduction over naive: {result.variance_reduction:.2f}x (same samples)")
        if units:
            from ..montecarlo.compare import unit_predictions

            predicted = unit_predictions(config, result.layer, result.p)
            print(f"  {'unit':>5} {'p_i':>9} {'estimate':>12} {'stderr':>10} {'theory':>12}")
            for i, unit in enumerate(result.units):
                theory = f"{predicted[0][i]:12.5g}" if predicted is not None else f"{'-':>12}"
                print(f"  {i:5d} {result.p[i]:9.4f} {unit.mean:12.5g} {unit.stderr:10.3g} {theory}")
    else:
        for index, layer in enumerate(result.layers):
            estimate = layer.delta_given_positive
            line = (f"layer {layer.layer}: E[δ | p > 0] = {estimate.mean:.6g} ± {estimate.stderr:.2g}"
                    f"  P(p > 0) = {layer.fraction_positive.mean:.4f}")
            if comparison is not None:
                c = comparison[index]
                line += f"  mean field {c.prediction:.6g} (rel. error {c.relative_error:.2%}, z {c.max_abs_z:.2f})"
            if layer.variance_reduction is not None:
                line += f"  var. reduction {layer.variance_reduction:.2f}x"
            print(line)
    print(f"sign test: {result.sign_test.summary()}")
    if result.sign_test.negative_units:
        shown = ", ".join(map(str, result.sign_test.negative_units[:20]))
        print(f"  negative: {shown}{' ...' if len(result.sign_test.negative_units) > 20 else ''}")
    print(f"verdict: {result.verdict}")
