"""``driftproof list``: the registries."""

from __future__ import annotations

import argparse

from ..activations import ACTIVATIONS, CUSTOM_FUNCTIONS
from ..inits import INITS, SCALES
from ..losses import LOSSES
from .common import print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    activations = {name: {"params": defaults, "description": text} for name, (_, defaults, text) in ACTIVATIONS.items()}
    inits = {name: {"params": defaults, "description": text} for name, (defaults, text) in INITS.items()}
    losses = {name: loss.description for name, loss in LOSSES.items()}
    if args.json:
        print_json({"activations": activations, "losses": losses, "inits": inits, "scales": SCALES,
                    "custom_functions": sorted(CUSTOM_FUNCTIONS)})
        return 0

    def params(p):
        return "(" + ", ".join(f"{k}={v:g}" for k, v in p.items()) + ")" if p else ""

    print("activations:")
    for name, info in activations.items():
        print(f"  {name + params(info['params']):<22} {info['description']}")
    print("  or any expression in x using numbers, + - * / ** and: " + ", ".join(sorted(CUSTOM_FUNCTIONS)))
    print("losses:")
    for name, text in losses.items():
        print(f"  {name:<22} {text}")
    print("initializations:")
    for name, info in inits.items():
        print(f"  {name + params(info['params']):<22} {info['description']}")
    print("scale rules:")
    for name, text in SCALES.items():
        print(f"  {name:<22} {text}")
    return 0
