"""``driftproof probe``: the claim at t = 0 on a user's PyTorch model factory (exit 0/1/3; 4 without torch)."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from ..api.common import progress_bar
from ..errors import InputError
from ..render import verdict_table, verification_json
from .common import int_arg, print_json

EXIT_NO_TORCH = 4  # an optional tool is missing, as the report's TeX


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="MODULE:FACTORY",
                        help="package.module:factory or path/to/file.py:factory, a callable returning a fresh "
                             "torch.nn.Module (given vocab_size / num_classes if it takes them)")
    parser.add_argument("--data", default="text",
                        help="text (character windows), digits (8x8 images), or a file: .npz with x and y, "
                             ".pt with a pair (x, y) (default %(default)s)")
    parser.add_argument("--inits", type=int_arg, default=256, help="independent initializations (default %(default)s)")
    parser.add_argument("--seed", type=int_arg, default=0, help="first seed (default %(default)s)")
    parser.add_argument("--batch", type=int_arg, default=8, help="samples in the batch (default %(default)s)")
    parser.add_argument("--context", type=int_arg, default=64, help="text: characters a window (default %(default)s)")
    parser.add_argument("--loss", default="ce", choices=("ce", "mse"), help="loss (default %(default)s)")
    parser.add_argument("--where", default=None, metavar="PATTERN",
                        help="glob on module names choosing the layers whose output is p (default: found by name)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--wide", action="store_true", help="one line per row, whatever the terminal's width")


def run(args: argparse.Namespace) -> int:
    if args.inits < 5:
        raise InputError(f"--inits must be at least 5 (seeds are the unit of replication), got {args.inits}")
    if importlib.util.find_spec("torch") is None:
        print("driftproof: probe needs PyTorch: pip install 'driftproof[torch]'", file=sys.stderr)
        return EXIT_NO_TORCH
    from ..torch.probe import probe

    with progress_bar(not args.no_progress and sys.stderr.isatty(), args.inits, "probe", "init") as bar:
        result = probe(args.model, data=args.data, inits=args.inits, seed=args.seed, batch=args.batch,
                       context=args.context, loss=args.loss, where=args.where,
                       progress=bar.update if bar is not None else None)
    if args.json:
        print_json(verification_json(result))
    else:
        print(verdict_table(result, wide=args.wide))
    return result.exit_code
