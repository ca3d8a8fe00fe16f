"""Arguments shared by the subcommands, and their conversion into a validated Config."""

from __future__ import annotations

import argparse
import json
import sys

from ..budget import Budget, announcement, check_budget
from ..config import Config
from ..folders import output_folder
from ..results import json_default

__all__ = ["add_network_arguments", "config_from_args", "print_json", "int_arg", "float_arg", "output_folder",
           "network_options", "preflight"]


def int_arg(text: str) -> int:
    """An integer argument; argparse turns the ValueError into one clear line."""
    return int(text)


int_arg.__name__ = "integer"


def float_arg(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


float_arg.__name__ = "number"


def add_network_arguments(parser: argparse.ArgumentParser, *, loss: str = "ce", act: str = "gelu",
                          width: int = 256, depth: int = 1, classes: int = 10) -> None:
    """--loss --act --init --scale --width --depth --classes --input-dim --seed --json."""
    parser.add_argument("--loss", default=loss, help="mse, mse_mean or ce (default %(default)s)")
    parser.add_argument("--act", default=act,
                        help="a built-in activation (see `driftproof list`) or an expression in x (default %(default)s)")
    parser.add_argument("--init", default="normal", help="weight distribution (default %(default)s)")
    parser.add_argument("--scale", default="he", help="he, lecun, glorot or std=<float> (default %(default)s)")
    parser.add_argument("--width", type=int_arg, default=width, help="hidden width N (default %(default)s)")
    parser.add_argument("--depth", type=int_arg, default=depth, help="hidden layers L (default %(default)s)")
    parser.add_argument("--classes", type=int_arg, default=classes, help="outputs K (default %(default)s)")
    parser.add_argument("--input-dim", type=int_arg, default=None, help="input dimension (default: the width)")
    parser.add_argument("--seed", type=int_arg, default=0, help="random seed (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def network_options(args: argparse.Namespace) -> dict:
    """The network options as the API's keyword arguments."""
    return {"loss": args.loss, "act": args.act, "init": args.init, "scale": args.scale, "width": args.width,
            "depth": args.depth, "classes": args.classes, "input_dim": args.input_dim, "seed": args.seed}


def config_from_args(args: argparse.Namespace) -> Config:
    """A validated Config; InputError (exit 2) on any bad value."""
    return Config(loss=args.loss, act=args.act, init=args.init, scale=args.scale, width=args.width,
                  depth=args.depth, classes=args.classes, input_dim=args.input_dim, seed=args.seed)


def print_json(payload: dict) -> None:
    json.dump(payload, sys.stdout, indent=2, default=json_default)
    sys.stdout.write("\n")



def preflight(budget: Budget) -> Budget:
    """Refuse a run the machine cannot finish (InputError, exit 2), and say on stderr that a long one will
    be long. Call before any work."""
    check_budget(budget)
    line = announcement(budget)
    if line:
        print(line, file=sys.stderr)
    return budget
