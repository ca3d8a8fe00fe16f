"""The persistence study (issue 22 item 4): does the sign of E[δ|p>0] persist, and do biases and weights drift
negative, per loss x data x optimizer x clipping? See driftproof/sweeps/persistence.py for the design.

Trains every cell on one core (one BLAS thread, one process), prints a line per cell and the answer per
(loss, data, optimizer, clip), the load average before and after, and writes the JSON that ships as
driftproof/stored/persistence.json (with --quick: a smoke run, 2 seeds x 20 steps, to scripts/results/).
Usage:
    PYTHONPATH=. python scripts/persistence.py [--seeds 16] [--steps 200] [--width 32] [--quick] [--out FILE]
    PYTHONPATH=. python scripts/persistence.py --table   (the shipped answer as Markdown; trains nothing)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from driftproof._version import __version__
from driftproof.divergence import RULE
from driftproof.sweeps.persistence import (CALL_FIELDS, CALL_METHOD, CONTROLS, ESTIMATE_FIELDS, ESTIMATE_METHOD,
                                           LATE_FRACTION, MEASURES, OPTIMIZERS, PAPER_ACTS, STUDY, answers,
                                           cells, families, judge, run_cell)
from driftproof.sweeps.stats import ALPHA
from driftproof.archs import get_arch

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "driftproof" / "stored" / "persistence.json"
QUICK = ROOT / "scripts" / "results" / "persistence_quick.json"


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=STUDY["seeds"])
    parser.add_argument("--steps", type=int, default=STUDY["steps"])
    parser.add_argument("--width", type=int, default=STUDY["width"])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 20 steps: a smoke test of the script")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", action="store_true",
                        help="train nothing: print the shipped study's answer as a Markdown table")
    args = parser.parse_args(argv)
    for name in ("seeds", "steps", "width"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    return args


def _line(result) -> str:
    parts = []
    for layer in result.layers:
        sign, drift = result.estimate(layer, "sign_late"), result.estimate(layer, "b_drift")
        parts.append(f"{layer} sign {sign.mean:+.2e} b {drift.mean:+.2e}")
    return f"{result.cell.name:36s} {result.divergence.text():32s} " + "  ".join(parts)


def main(argv=None) -> int:
    args = _parse(argv)
    if args.table:
        from driftproof.render.persistence import markdown_table
        from driftproof.sweeps.persistence import load_stored

        stored = load_stored()
        if stored is None:
            print("no shipped study: driftproof/stored/persistence.json is missing", file=sys.stderr)
            return 2
        print(markdown_table(stored))
        return 0
    study = {**STUDY, "seeds": args.seeds, "steps": args.steps, "width": args.width}
    if args.quick:
        study.update(seeds=2, steps=20)
    out = args.out or (QUICK if args.quick else STORED)
    start, load = time.perf_counter(), [os.getloadavg()]
    results = []
    with threadpool_limits(limits=1, user_api="blas"):
        for cell in cells():
            results.append(run_cell(cell, study))
            print(_line(results[-1]), file=sys.stderr, flush=True)
    load.append(os.getloadavg())
    results = judge(results)
    params = {data: get_arch("mlp").parameter_count(study["width"] if data == "noise" else 64, study["width"],
                                                    study["depth"], 10) for data in ("noise", "digits")}
    command = (f"PYTHONPATH=. python scripts/persistence.py --seeds {args.seeds} --steps {args.steps} "
               f"--width {args.width}" + (" --quick" if args.quick else "")
               + (f" --out {args.out}" if args.out is not None else ""))
    payload = {
        "command": command, "version": __version__, "quick": args.quick,
        "scale": {**study, "parameters": params, "optimizers": OPTIMIZERS, "clip_norm": 1.0,
                  "late_fraction": LATE_FRACTION, "init": f"normal, {study['scale']} scale", "arch": "plain MLP",
                  "samples_seen": study["steps"] * study["batch"]},
        "design": {"paper_acts": list(PAPER_ACTS), "controls": list(CONTROLS), "alpha": ALPHA,
                   "divergence": RULE, "unit": "seed (one network draw and its batches)", "measures": list(MEASURES),
                   "estimate_fields": list(ESTIMATE_FIELDS), "estimate_method": ESTIMATE_METHOD,
                   "call_fields": list(CALL_FIELDS), "call_method": CALL_METHOD,
                   "holm_families": families(results)},
        "answers": answers(results), "cells": [r.to_dict() for r in results],
        "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time(), "load": load, "cores": 1,
        "machine": {"python": platform.python_version(), "platform": platform.platform()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, separators=(",", ":"), allow_nan=False) + "\n")
    for answer in payload["answers"]:
        clip = "clip" if answer["clip"] is not None else "noclip"
        counts = "; ".join(f"{q}: " + ", ".join(f"{v} {n}" for v, n in c.items() if n)
                           for q, c in answer["counts"].items())
        print(f"{answer['loss']}/{answer['data']}/{answer['opt']}/{clip}: {counts}"
              + (f"; not measured: {', '.join(answer['not_measured'])}" if answer["not_measured"] else ""))
    print(f"{payload['seconds']:.0f} s on one core, load {load[0][0]:.1f} -> {load[-1][0]:.1f} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
