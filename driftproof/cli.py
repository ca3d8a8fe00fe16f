"""The command line: parse, call the library, render. The library never prints.

Each subcommand lives in ``driftproof/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``. Exit status: 0 holds, 1 violated, 3 inconclusive, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import InputError

__all__ = ["main", "COMMANDS"]

# name -> one-line help; modules that are missing are skipped.
COMMANDS = {
    "verify": "check the claim for one configuration: symbolic, Monte Carlo and training evidence",
    "derive": "print the derivations (R1-R5) for a loss and an activation",
    "list": "list activations, losses, initializations and scale rules",
    "mc": "Monte Carlo estimates of E[delta] with intervals and a sequential sign test",
    "train": "train small networks and measure whether the sign and the drift persist",
    "report": "build the verification report (LaTeX and PDF)",
    "sweep": "run a grid of training configurations (local processes or Dask)",
    "claims": "the paper's empirical claims, checked against the stored sweep",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input in one line and exits 2, as the contract asks."""

    def error(self, message: str):
        raise InputError(message)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = _Parser(prog="driftproof", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"driftproof {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    runners = {}
    for name, help_text in COMMANDS.items():
        try:
            module = importlib.import_module(f".commands.{name.replace('-', '_')}", __package__)
        except ModuleNotFoundError as error:
            if error.name and error.name.startswith(f"{__package__}.commands"):
                continue
            raise
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        runners[name] = module.run
    return parser, runners


def main(argv: list[str] | None = None) -> int:
    try:
        parser, runners = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return int(runners[args.command](args))
    except InputError as error:
        print(f"driftproof: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("driftproof: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `driftproof train ... | head`: the reader left, nothing to report
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
