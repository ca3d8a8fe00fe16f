"""``driftproof train``: train small networks and measure whether the sign and the drift persist."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..archs import all_archs, arch_help, get_arch
from ..data import DATASETS
from ..nets import ARCHS
from ..optim import OPTIMIZERS, SCHEDULES
from ..pointwise import KERNELS
from .common import add_network_arguments, float_arg, int_arg, network_options, print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_network_arguments(parser, act="relu", width=128, depth=3)
    # defaults that depend on the architecture: None here, filled by api.train (api.ARCH_DEFAULTS)
    parser.set_defaults(depth=None)
    parser.add_argument("--arch", default="mlp", choices=ARCHS, help=arch_help() + " (default %(default)s)")
    parser.add_argument("--data", default=None, choices=DATASETS,
                        help="data set (default: " + ", ".join(f"{arch.default_data} for {arch.name}"
                                                             for arch in all_archs()) + ")")
    parser.add_argument("--opt", default=None, choices=OPTIMIZERS, help="optimizer (default sgd; adamw for gpt/vit)")
    parser.add_argument("--lr", type=float_arg, default=None,
                        help="learning rate (default 0.05; 3e-3 for gpt/vit, Muon at 0.1x)")
    parser.add_argument("--wd", type=float_arg, default=0.0, help="weight decay, weights only (default %(default)s)")
    parser.add_argument("--clip", type=float_arg, default=None, metavar="NORM",
                        help="clip the gradient's global L2 norm to NORM before each update (default: no clipping)")
    parser.add_argument("--momentum", type=float_arg, default=0.9, help="momentum coefficient (default %(default)s)")
    parser.add_argument("--schedule", default="constant", choices=SCHEDULES, help="lr schedule (default %(default)s)")
    parser.add_argument("--warmup", type=int_arg, default=0, help="warmup steps for warmup_cosine (default 0)")
    parser.add_argument("--steps", type=int_arg, default=200, help="optimizer steps (default %(default)s)")
    parser.add_argument("--batch", type=int_arg, default=None, help="batch size (default 64; 16 for gpt)")
    parser.add_argument("--seeds", type=int_arg, default=3, help="seeds: --seed, --seed+1, ... (default %(default)s)")
    parser.add_argument("--log-every", type=int_arg, default=1, help="measure every k steps (default %(default)s)")
    parser.add_argument("--eval-every", type=int_arg, default=0, help="held-out evaluation every k steps (0: ~20 per run)")
    parser.add_argument("--n-train", type=int_arg, default=2048, help="training set size, noise/teacher (default %(default)s)")
    parser.add_argument("--n-test", type=int_arg, default=None,
                        help="held-out set size (default 512; 64 sequences for gpt)")
    parser.add_argument("--dtype", default=None, choices=("float64", "float32"),
                        help="(default float64; float32 for gpt/vit)")
    parser.add_argument("--heads", type=int_arg, default=4, help="gpt/vit: attention heads (default %(default)s)")
    parser.add_argument("--context", type=int_arg, default=64, help="gpt: context length (default %(default)s)")
    parser.add_argument("--norm", default="rms", choices=("rms", "layer"),
                        help="gpt/vit: RMSNorm or LayerNorm in the blocks (default %(default)s)")
    parser.add_argument("--kernel", default="auto", choices=KERNELS,
                        help="activation kernel: numpy, numba (compiled, fast) or auto (default %(default)s)")
    parser.add_argument("--threads", type=int_arg, default=1, help="BLAS threads, 0 = library default (default 1)")
    parser.add_argument("--no-control", action="store_true", help="skip the tanh control runs")
    parser.add_argument("--out", default=None,
                        help="run folder (default runs/<timestamp>-<act>-<data>); figures and metrics go there")
    parser.add_argument("--force", action="store_true",
                        help="write into an existing --out that is not a run folder of this configuration "
                             "(driftproof's files there are replaced, others left alone)")
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--wide", action="store_true", help="one line per layer, whatever the terminal's width")


def run(args: argparse.Namespace) -> int:
    data = args.data or get_arch(args.arch).default_data
    out = args.out if args.out is not None else api.default_run_folder(args.act, data)
    trained = api.train(**network_options(args), arch=args.arch, data=args.data, opt=args.opt, lr=args.lr, wd=args.wd,
                        momentum=args.momentum, schedule=args.schedule, warmup=args.warmup, steps=args.steps,
                        batch=args.batch, seeds=args.seeds, log_every=args.log_every, eval_every=args.eval_every,
                        n_train=args.n_train, n_test=args.n_test, dtype=args.dtype, heads=args.heads,
                        context=args.context, norm=args.norm, kernel=args.kernel, threads=args.threads,
                        control=not args.no_control, out=out, figures=not args.no_figures, clip_norm=args.clip,
                        force=args.force,
                        progress=not args.no_progress and sys.stderr.isatty())
    if args.json:
        print_json(trained.to_dict())
    else:
        print(trained.text(wide=args.wide))
    return 0
