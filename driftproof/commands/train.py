"""``driftproof train``: train small networks and measure whether the sign and the drift persist."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..data import DATASETS
from ..nets import ARCHS
from ..optim import OPTIMIZERS, SCHEDULES
from ..pointwise import KERNELS
from ..render.runs import run_text
from .common import add_network_arguments, config_from_args, float_arg, int_arg, print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser, act="relu", width=128, depth=3)
    parser.add_argument("--arch", default="mlp", choices=ARCHS, help="network (default %(default)s)")
    parser.add_argument("--data", default="noise", choices=DATASETS, help="data set (default %(default)s)")
    parser.add_argument("--opt", default="sgd", choices=OPTIMIZERS, help="optimizer (default %(default)s)")
    parser.add_argument("--lr", type=float_arg, default=0.05, help="learning rate (default %(default)s)")
    parser.add_argument("--wd", type=float_arg, default=0.0, help="weight decay, weights only (default %(default)s)")
    parser.add_argument("--momentum", type=float_arg, default=0.9, help="momentum coefficient (default %(default)s)")
    parser.add_argument("--schedule", default="constant", choices=SCHEDULES, help="lr schedule (default %(default)s)")
    parser.add_argument("--warmup", type=int_arg, default=0, help="warmup steps for warmup_cosine (default 0)")
    parser.add_argument("--steps", type=int_arg, default=200, help="optimizer steps (default %(default)s)")
    parser.add_argument("--batch", type=int_arg, default=64, help="batch size (default %(default)s)")
    parser.add_argument("--seeds", type=int_arg, default=3, help="seeds: --seed, --seed+1, ... (default %(default)s)")
    parser.add_argument("--log-every", type=int_arg, default=1, help="measure every k steps (default %(default)s)")
    parser.add_argument("--eval-every", type=int_arg, default=0, help="held-out evaluation every k steps (0: ~20 per run)")
    parser.add_argument("--n-train", type=int_arg, default=2048, help="training set size, noise/teacher (default %(default)s)")
    parser.add_argument("--n-test", type=int_arg, default=512, help="held-out set size (default %(default)s)")
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"), help="(default %(default)s)")
    parser.add_argument("--kernel", default="auto", choices=KERNELS,
                        help="activation kernel: numpy, numba (compiled, fast) or auto (default %(default)s)")
    parser.add_argument("--threads", type=int_arg, default=1, help="BLAS threads, 0 = library default (default 1)")
    parser.add_argument("--no-control", action="store_true", help="skip the tanh control runs")
    parser.add_argument("--out", default=None,
                        help="run folder (default runs/<timestamp>-<act>-<data>); figures and metrics go there")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _spec(args):
    from ..training import TrainSpec

    return TrainSpec(arch=args.arch, data=args.data, opt=args.opt, lr=args.lr, wd=args.wd, momentum=args.momentum,
                     schedule=args.schedule, warmup=args.warmup, steps=args.steps, batch=args.batch,
                     seeds=args.seeds, log_every=args.log_every, eval_every=args.eval_every, n_train=args.n_train,
                     n_test=args.n_test, dtype=args.dtype, kernel=args.kernel,
                     control=None if args.no_control else "tanh", threads=args.threads)


def run(args: argparse.Namespace) -> int:
    from ..training import save_run, train
    from ..training.run import check_size, control_activation

    config = config_from_args(args)
    spec = _spec(args)
    check_size(config, spec)
    out = Path(args.out) if args.out else Path("runs") / (
        datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"-{args.act}-{args.data}".replace("/", "_")[:60])
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        runs = 2 if control_activation(config, spec) else 1
        bar = tqdm(total=spec.steps * spec.seeds * runs, desc="train", unit="step", file=sys.stderr)
    try:
        result = train(config, spec, tick=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    folder = save_run(result, out, figures=not args.no_figures)
    if args.json:
        print_json({"run_folder": str(folder), **result.to_dict()})
    else:
        print(run_text(result, folder))
    return 0
