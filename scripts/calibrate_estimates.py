"""Recalibrate the time estimates that ``verify --arch gpt|vit`` and ``train`` print before any work.

Each case runs in this process through the API (imports and caches warmed by one untimed run of the smallest
case of each kind, so what is timed is the work the estimate models), beside the estimate the command prints for
it (``api.verify_budget_for``; ``train``'s ``on_estimate``). Time is measured three ways: wall, the CPU seconds of
this process, and those of the children it waited for (verify forks its training rows beside the others).
The estimate stands for the wall time on an otherwise idle machine; on a shared one that is best approximated by
the *critical path*, max(own CPU, children's CPU) for verify (the two halves run at once) and own CPU for
train (one BLAS thread, the default). Each model's constants are then fitted to the critical paths by
non-negative least squares on relative errors:

- ``verify --arch gpt|vit``: seconds = (INIT_SECONDS + BLOCK_SECONDS x L + PRODUCT_SECONDS x tokens C^2 L) x
  passes, each constant per architecture (driftproof/evidence/transformer.py);
- ``train`` (MLP-like): seconds = STEP_SECONDS x steps + flops / FLOP_RATE (driftproof/training/spec.py);
- ``train --arch gpt|vit``: seconds = TRANSFORMER_EVAL_SECONDS x held-out evaluations + counted flops /
  TRANSFORMER_FLOP_RATE (driftproof/training/estimate.py; a per-step constant fitted to 0 and was dropped).

Each model is linear in its constants, so its features are the estimate with one constant set to 1 and the others
to 0. Writes scripts/results/calibrate_estimates.json (cases, fitted and current constants, the ratio
measured / estimate before and after, the load average at the start and the end). It changes nothing in the
package: the constants there are set by hand from its output.

Usage: PYTHONPATH=. python scripts/calibrate_estimates.py [--models M ...] [--quick] [--out FILE]
(the check after setting the constants: --quick --out scripts/results/calibrate_estimates_after.json)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

OUT = Path(__file__).resolve().parent / "results" / "calibrate_estimates.json"

VERIFY_CASES = [("gpt", {}), ("gpt", {"width": 64}), ("gpt", {"depth": 6}), ("vit", {}), ("vit", {"depth": 4}),
                ("vit", {"depth": 8}), ("vit", {"depth": 16}), ("vit", {"width": 64})]
MLP_TRAIN = dict(steps=300, seeds=2, figures=False, progress=False)
TRAIN_CASES = [
    ("mlp", dict(width=64, depth=1, data="noise", **MLP_TRAIN)),
    ("mlp", dict(width=256, depth=3, data="digits", **MLP_TRAIN)),
    ("mlp", dict(width=512, depth=2, data="noise", batch=128, **MLP_TRAIN)),
    ("gpt", dict(width=32, depth=2, steps=40, seeds=1, figures=False, progress=False)),
    ("vit", dict(width=32, depth=2, steps=40, seeds=1, figures=False, progress=False)),
    ("gpt", dict(width=64, depth=2, steps=40, seeds=1, figures=False, progress=False)),
    ("gpt", dict(width=64, depth=4, steps=120, seeds=1, figures=False, progress=False)),
    ("vit", dict(width=32, depth=2, steps=120, seeds=1, figures=False, progress=False)),
    ("gpt", dict(width=32, depth=2, steps=40, seeds=1, eval_every=40, figures=False, progress=False)),
]
MODELS = ("verify_gpt", "verify_vit", "train_mlp", "train_transformer")


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def measured(work) -> dict:
    """Wall, own CPU and children's CPU seconds of ``work()``, with the load average before."""
    load = os.getloadavg()[0]
    (self0, kids0), started = _cpu(), time.perf_counter()
    work()
    wall = time.perf_counter() - started
    self1, kids1 = _cpu()
    return {"wall_s": wall, "cpu_self_s": self1 - self0, "cpu_children_s": kids1 - kids0, "load_1min": load}


@contextmanager
def constants(module, **values):
    """Set module-level constants for the block (the estimates read them at call time)."""
    old = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(module, name, value)


def fit(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative c minimizing sum ((features @ c - target) / target)^2."""
    weights = 1.0 / target
    solution, _ = nnls(features * weights[:, None], target * weights)
    return solution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one case of each model (a check of the constants in the package, not a calibration)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the JSON to write (default {OUT})")
    parser.add_argument("--refit", action="store_true",
                        help="measure nothing: refit the stored cases with this version's features")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                        help="the models to calibrate (default all); the others' earlier cases are kept from the JSON")
    args = parser.parse_args()
    from driftproof import api
    from driftproof.evidence import transformer as verify_model
    from driftproof.training import estimate as transformer_model
    from driftproof.training import spec as mlp_model

    # the features are estimates with a constant set to 1 (flops / 1 flop a second): past any time limit
    os.environ["DRIFTPROOF_MAX_SECONDS"] = "1e30"
    if args.refit:
        args.models = []
    verify_cases = [(arch, options) for arch, options in (VERIFY_CASES[::3] if args.quick else VERIFY_CASES)
                    if f"verify_{arch}" in args.models]
    train_cases = [(arch, options) for arch, options in (TRAIN_CASES[1:2] + TRAIN_CASES[3:4] if args.quick
                                                         else TRAIN_CASES)
                   if ("train_mlp" if arch == "mlp" else "train_transformer") in args.models]
    load_start = os.getloadavg()
    # warm the imports and caches (lazy modules, compiled Adam, data sets), untimed
    if verify_cases:
        api.verify(arch="gpt")
    if train_cases:
        api.train(**{**TRAIN_CASES[0][1], "steps": 5})
        api.train(arch="gpt", **{**TRAIN_CASES[3][1], "steps": 2})
        api.train(arch="vit", **{**TRAIN_CASES[4][1], "steps": 2})

    kept = json.loads(args.out.read_text())["cases"] if args.out.exists() else []
    # an earlier run's cases of the other models (of this version's models only)
    rows = [row for row in kept if row["model"] in MODELS and row["model"] not in args.models]
    for arch, options in verify_cases:
        estimate = api.verify_budget_for(arch=arch, **options).seconds
        time_ = measured(lambda: api.verify(arch=arch, **options))
        critical = max(time_["cpu_self_s"], time_["cpu_children_s"])
        rows.append({"command": f"verify --arch {arch}" + "".join(f" --{k} {v}" for k, v in options.items()),
                     "model": f"verify_{arch}", "estimate_s": estimate,
                     "features": verify_features(api, verify_model, arch, options),
                     "estimated_with": {name: getattr(verify_model, name)[arch] for name in VERIFY_CONSTANTS},
                     **time_, "critical_s": critical})
        print(f"{rows[-1]['command']}: estimate {estimate:.1f} s; wall {time_['wall_s']:.1f} s, critical path "
              f"{critical:.1f} CPU-s (own {time_['cpu_self_s']:.1f}, children {time_['cpu_children_s']:.1f}), "
              f"load {time_['load_1min']:.2f}", flush=True)

    for arch, options in train_cases:
        budgets = []
        run = lambda: api.train(arch=arch, on_estimate=budgets.append, **options)  # noqa: E731
        if arch == "mlp":
            with constants(mlp_model, FLOP_RATE=math.inf, STEP_SECONDS=1.0):
                api_estimate = []
                _estimate_only(api, arch, options, api_estimate)
                steps = api_estimate[-1]
                _estimate_only(api, arch, options, api_estimate, flops=True, model=mlp_model)
                flops = api_estimate[-1]
            features, model = [steps, flops], "train_mlp"
        else:
            api_estimate = []
            for evaluation, rate in ((1.0, math.inf), (0.0, 1.0)):
                with constants(transformer_model, TRANSFORMER_EVAL_SECONDS=evaluation, TRANSFORMER_FLOP_RATE=rate):
                    _estimate_only(api, arch, options, api_estimate)
            features, model = api_estimate[-2:], "train_transformer"
        time_ = measured(run)
        estimate = budgets[0].seconds
        critical = time_["cpu_self_s"]
        rows.append({"command": f"train --arch {arch}" + "".join(
            f" --{k} {v}" for k, v in options.items() if k not in ("figures", "progress")),
            "model": model, "estimate_s": estimate, "features": features, **time_, "critical_s": critical,
            "estimated_with": _constants(mlp_model, "FLOP_RATE", "STEP_SECONDS") if arch == "mlp" else
            _constants(transformer_model, "TRANSFORMER_FLOP_RATE", "TRANSFORMER_EVAL_SECONDS")})
        print(f"{rows[-1]['command']}: estimate {estimate:.1f} s; wall {time_['wall_s']:.1f} s, "
              f"{critical:.1f} CPU-s, load {time_['load_1min']:.2f}", flush=True)

    if args.refit:  # an earlier run's verify cases against this version's features (no new measurement)
        for row in rows:
            if row["model"].startswith("verify_"):
                words = row["command"].split()
                options = {words[i][2:]: int(words[i + 1]) for i in range(3, len(words), 2)}
                row["features"] = verify_features(api, verify_model, words[2], options)
    current = {**{f"verify_{arch}": {name: getattr(verify_model, name)[arch] for name in VERIFY_CONSTANTS}
                  for arch in ("gpt", "vit")},
               "train_mlp": {"STEP_SECONDS": mlp_model.STEP_SECONDS, "inverse FLOP_RATE": 1 / mlp_model.FLOP_RATE},
               "train_transformer": {"TRANSFORMER_EVAL_SECONDS": transformer_model.TRANSFORMER_EVAL_SECONDS,
                                     "inverse TRANSFORMER_FLOP_RATE": 1 / transformer_model.TRANSFORMER_FLOP_RATE}}
    fitted = {}
    for model, names in current.items():
        chosen = [row for row in rows if row["model"] == model]
        if not chosen:
            continue
        features = np.array([row["features"] for row in chosen], float)
        target = np.array([row["critical_s"] for row in chosen], float)
        solution = fit(features, target)
        fitted[model] = dict(zip(names, map(float, solution)))
        for row, predicted in zip(chosen, features @ solution):
            row["refit_estimate_s"] = float(predicted)
            row["ratio_measured_over_estimate"] = row["critical_s"] / row["estimate_s"]
            row["ratio_measured_over_refit"] = row["critical_s"] / float(predicted) if predicted else math.nan
    summary = {model: {"median_ratio_measured_over_estimate": statistics.median(
        row["ratio_measured_over_estimate"] for row in rows if row["model"] == model),
        "median_ratio_measured_over_refit": statistics.median(
        row["ratio_measured_over_refit"] for row in rows if row["model"] == model)} for model in fitted}
    payload = {"measures": __doc__.splitlines()[0], "cases": rows, "current": current, "fitted": fitted,
               "summary": summary, "load_average_start": load_start, "load_average_end": os.getloadavg(),
               "cpus": os.cpu_count(), "command": "PYTHONPATH=. python scripts/calibrate_estimates.py"
               + (" --quick" if args.quick else "") + (" --refit" if args.refit else "")
               + ("" if args.refit or set(args.models) == set(MODELS) else " --models " + " ".join(args.models))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    for model in fitted:
        print(f"{model}: current {current[model]}, fitted {fitted[model]}; median measured/estimate "
              f"{summary[model]['median_ratio_measured_over_estimate']:.2f} -> "
              f"{summary[model]['median_ratio_measured_over_refit']:.2f} refitted")
    print(f"wrote {args.out} (load {load_start[0]:.2f} at the start, {payload['load_average_end'][0]:.2f} at the end)")


VERIFY_CONSTANTS = ("INIT_SECONDS", "BLOCK_SECONDS", "PRODUCT_SECONDS")


def verify_features(api, module, arch: str, options: dict) -> list[float]:
    """The verify estimate with each constant of ``arch`` set to 1 and the others to 0 (the model is linear)."""
    out = []
    for one in VERIFY_CONSTANTS:
        with constants(module, **{name: {arch: float(name == one)} for name in VERIFY_CONSTANTS}):
            out.append(api.verify_budget_for(arch=arch, **options).seconds)
    return out


def _constants(module, *names) -> dict:
    return {name: getattr(module, name) for name in names}


def _estimate_only(api, arch, options, out, flops=False, model=None):
    """The estimate ``train`` would print for these options, without training (the on_estimate callback stops
    it); ``flops``: the MLP model's flop feature (FLOP_RATE 1, STEP_SECONDS 0)."""
    class Stop(Exception):
        pass

    def capture(budget):
        out.append(budget.seconds)
        raise Stop

    def call():
        try:
            api.train(arch=arch, on_estimate=capture, **options)
        except Stop:
            pass

    if flops:
        with constants(model, FLOP_RATE=1.0, STEP_SECONDS=0.0):
            call()
    else:
        call()


if __name__ == "__main__":
    main()
