"""Golden outputs: run a fixed set of commands and store (or check) their JSON.

Usage:
    python scripts/golden.py record [--dir scripts/golden]   # store today's outputs
    python scripts/golden.py check  [--dir scripts/golden]   # rerun and compare

A refactoring must leave every number unchanged. JSON shapes may change (a dict of
``mean/low/high`` becoming an Estimate's ``to_dict()``), so the comparison works on the
numbers, not the layout: every numeric leaf of the stored output is flattened to
(path, value); a leaf whose path still exists must have the identical value, and every
stored value must still occur somewhere in the new output (as a multiset). Timing,
version and environment fields are ignored. Exit status 0 when every command matches.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# name -> argv after `driftproof`; "{tmp}" is replaced by a scratch folder per run.
COMMANDS = {
    "verify_ce_gelu": ["verify", "--loss", "ce", "--act", "gelu", "--json"],
    "verify_mse_relu": ["verify", "--loss", "mse", "--act", "relu", "--json"],
    "verify_mse_mean_silu_depth2": ["verify", "--loss", "mse_mean", "--act", "silu", "--depth", "2", "--json"],
    "verify_ce_tanh_laplace": ["verify", "--loss", "ce", "--act", "tanh", "--init", "laplace", "--json"],
    "verify_mse_relu_centered": ["verify", "--loss", "mse", "--act", "relu", "--init", "centered", "--json"],
    "verify_mse_relu_shifted": ["verify", "--loss", "mse", "--act", "relu", "--init", "shifted(mean=3e-4)", "--json"],
    "verify_ce_clipped": ["verify", "--loss", "ce", "--act", "clipped_relu2(c=1)", "--json"],
    "verify_symbolic_custom": ["verify", "--loss", "mse", "--act", "x*tanh(log(1+exp(x)))", "--only", "symbolic",
                               "--json"],
    "derive_ce_gelu": ["derive", "--loss", "ce", "--act", "gelu", "--json"],
    "derive_mse_relu2_depth3": ["derive", "--loss", "mse", "--act", "relu2", "--depth", "3", "--json"],
    "mc_conditional_ce_gelu": ["mc", "--loss", "ce", "--act", "gelu", "--samples", "4000", "--json"],
    "mc_conditional_mse_relu_centered_naive": ["mc", "--loss", "mse", "--act", "relu", "--init", "centered",
                                               "--method", "naive", "--samples", "2000", "--json"],
    "mc_marginal_ce_relu": ["mc", "--loss", "ce", "--act", "relu", "--depth", "3", "--mode", "marginal",
                            "--width", "64", "--samples", "400", "--json"],
    "train_digits_ce_relu": ["train", "--loss", "ce", "--act", "relu", "--data", "digits", "--steps", "40",
                             "--seeds", "2", "--width", "32", "--no-figures", "--no-progress", "--out", "{tmp}/run",
                             "--json"],
    "train_noise_mse_gelu_adam": ["train", "--loss", "mse", "--act", "gelu", "--arch", "resmlp", "--opt", "adam",
                                  "--lr", "0.01", "--steps", "30", "--seeds", "2", "--width", "32", "--no-figures",
                                  "--no-progress", "--out", "{tmp}/run", "--json"],
    "claims_quick": [["sweep", "--grid", "quick", "--out", "{tmp}/sweep", "--workers", "2", "--no-progress",
                      "--json"],
                     ["claims", "--out", "{tmp}/sweep", "--no-progress", "--json"]],
}

IGNORED_KEYS = {"seconds", "load_seconds",
                "environment", "version", "versions", "elapsed", "wall", "wall_seconds", "time",
                "started", "finished", "git", "commit", "path", "out", "folder", "python", "platform",
                "created", "timestamp"}


def run(argv: list) -> dict:
    """Run one command (or a chain: the last one's JSON counts) in a scratch folder."""
    chain = argv if isinstance(argv[0], list) else [argv]
    with tempfile.TemporaryDirectory(prefix="driftproof-golden-") as tmp:
        # The checkout this script lives in, whatever the working folder or an installed copy.
        repo = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": repo,
               "DRIFTPROOF_CACHE": os.environ.get("DRIFTPROOF_CACHE", f"{tmp}/cache")}
        output = None
        for command in chain:
            args = [a.replace("{tmp}", tmp) for a in command]
            done = subprocess.run([sys.executable, "-m", "driftproof", *args], capture_output=True, text=True,
                                  env=env, cwd=tmp)
            if done.returncode not in (0, 1, 3):
                raise RuntimeError(f"`driftproof {' '.join(args)}` exited {done.returncode}: {done.stderr[-2000:]}")
            output = json.loads(done.stdout)
        return {"argv": chain, "output": output}


def flatten(value, path: str = "") -> list[tuple[str, float]]:
    """Every numeric leaf as (path, value), skipping timing/version fields."""
    leaves = []
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key) in IGNORED_KEYS:
                continue
            leaves += flatten(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            leaves += flatten(item, f"{path}[{index}]")
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        pass
    elif isinstance(value, (int, float)):
        leaves.append((path, float(value)))
    return leaves


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def compare(old, new) -> list[str]:
    """Differences between a stored output and a new one (empty when every number is kept)."""
    old_leaves, new_leaves = flatten(old), flatten(new)
    new_by_path = dict(new_leaves)
    problems = []
    for path, value in old_leaves:
        if path in new_by_path and not _same(new_by_path[path], value):
            problems.append(f"{path}: {value!r} -> {new_by_path[path]!r}")
    available = collections.Counter(repr(v) for _, v in new_leaves)
    for path, value in old_leaves:
        key = repr(value)
        if available[key] > 0:
            available[key] -= 1
        else:
            problems.append(f"{path}: value {value!r} no longer appears anywhere")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("--dir", default="scripts/golden")
    parser.add_argument("--only", nargs="*", help="a subset of the command names")
    args = parser.parse_args()
    folder = Path(args.dir)
    names = args.only or list(COMMANDS)
    failures = 0
    if args.action == "record":
        if folder.exists() and not args.only:
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        result = run(COMMANDS[name])
        target = folder / f"{name}.json"
        if args.action == "record":
            target.write_text(json.dumps(result, indent=1, sort_keys=True))
            print(f"recorded {name}: {len(flatten(result['output']))} numbers")
            continue
        stored = json.loads(target.read_text())
        problems = compare(stored["output"], result["output"])
        failures += bool(problems)
        status = "same" if not problems else f"{len(problems)} differences"
        print(f"{name}: {status} ({len(flatten(stored['output']))} numbers)")
        for line in problems[:20]:
            print(f"    {line}")
    print(json.dumps({"load_average": os.getloadavg(), "commands": len(names), "failed": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
