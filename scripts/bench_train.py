"""Benchmark: training steps per second of driftproof's numpy MLP against the same network in PyTorch.

MLP width 512, depth 4 (input 512, 10 classes), batch 128, ReLU, cross-entropy, Adam.
A step is forward + hand-written backward + Adam update on a pre-drawn batch; both sides
run in the same process with the same number of BLAS/intra-op threads, interleaved over
several repeats (the median is reported, so a busy neighbour on a shared machine hurts
both sides alike). ``--no-torch`` skips PyTorch (it is not a dependency of driftproof).

``--measurement`` times only the cost of measuring (issue 27 item 4), before and after, side by side in
one run: the default training loop (MLP width 128, depth 3, batch 64, digits, Adam, every step logged
with the self/label split) with the two-pass split and the reference Adam ("before") against the
one-pass split (label part = delta - self part) and the fused Adam ("after"), interleaved; plus the
Adam update alone on the same network's parameters. Writes scripts/results/bench_train_measurement.json.

Writes scripts/results/bench_train.json. Usage:
    PYTHONPATH=. python scripts/bench_train.py [--steps 100] [--repeats 5] [--threads 1]
    PYTHONPATH=. python scripts/bench_train.py --measurement [--steps 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from driftproof.config import Config
from driftproof.nets import build_net
from driftproof.optim import make_optimizer
from driftproof.training import TrainSpec
from driftproof.training.seed import train_seed
from driftproof.training.spec import dataset_for

WIDTH, DEPTH, BATCH, CLASSES = 512, 4, 128, 10
OUT = Path(__file__).parent / "results" / "bench_train.json"


def _batches(steps: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((steps, BATCH, WIDTH)).astype(dtype), rng.integers(0, CLASSES, (steps, BATCH))


def driftproof_rate(steps: int, dtype: str, kernel: str) -> float:
    config = Config(loss="ce", act="relu", width=WIDTH, depth=DEPTH, classes=CLASSES)
    net = build_net("mlp", config, rng=np.random.default_rng(0), dtype=dtype, kernel=kernel)
    opt = make_optimizer("adam", 1e-3, steps=steps + 5)
    xs, ys = _batches(steps + 5, np.float64 if dtype == "float64" else np.float32)
    loss = config.loss_fn
    for i in range(5):  # warm-up (and the Numba compile)
        _, _, back = net.loss_and_backward(xs[i], ys[i], loss)
        opt.step(net.params, back.grads)
    start = time.perf_counter()
    for i in range(5, steps + 5):
        _, _, back = net.loss_and_backward(xs[i], ys[i], loss)
        opt.step(net.params, back.grads)
    return steps / (time.perf_counter() - start)


def loop_rate(steps: int, dtype: str, log_every: int) -> float:
    """The full training loop (batch sampling, measurements every ``log_every`` steps)."""
    config = Config(loss="ce", act="relu", width=WIDTH, depth=DEPTH, classes=CLASSES)
    spec = TrainSpec(opt="adam", lr=1e-3, steps=steps, batch=BATCH, seeds=1, log_every=log_every,
                     eval_every=steps, n_train=4096, n_test=128, dtype=dtype, kernel="numba", control=None)
    data = dataset_for(config, spec, 0)
    start = time.perf_counter()
    train_seed(config, spec, 0, data, kernel="numba")
    return steps / (time.perf_counter() - start)


def torch_rate(steps: int, dtype: str) -> float:
    import torch

    torch_dtype = torch.float64 if dtype == "float64" else torch.float32
    layers, fan_in = [], WIDTH
    for _ in range(DEPTH):
        layers += [torch.nn.Linear(fan_in, WIDTH, dtype=torch_dtype), torch.nn.ReLU()]
        fan_in = WIDTH
    model = torch.nn.Sequential(*layers, torch.nn.Linear(WIDTH, CLASSES, dtype=torch_dtype))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = _batches(steps + 5, np.float64 if dtype == "float64" else np.float32)
    xs, ys = torch.from_numpy(xs), torch.from_numpy(ys)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xs[i]), ys[i]).backward()
        opt.step()

    for i in range(5):
        step(i)
    start = time.perf_counter()
    for i in range(5, steps + 5):
        step(i)
    return steps / (time.perf_counter() - start)


def _measured_loop_rate(steps: int, after: bool, log_every: int = 1) -> float:
    """steps/s of ``train``'s loop on the digits (width 128, depth 3, Adam, logging every step with the split)."""
    import driftproof.optim as optim
    import driftproof.training.measure as measure
    from driftproof.training.split import split_deltas

    config = Config(loss="ce", act="relu", width=128, depth=3)
    spec = TrainSpec(data="digits", opt="adam", lr=1e-3, steps=steps, batch=64, seeds=1, log_every=log_every,
                     eval_every=steps, n_train=1024, n_test=128, control=None)
    data = dataset_for(config, spec, 0)
    original_split, original_init = measure.split_deltas, optim.Optimizer.__init__
    if not after:  # the code before: two backward passes for the split, Adam with fresh temporaries
        measure.split_deltas = lambda net, loss, z, y, full=None: split_deltas(net, loss, z, y)

        def reference_init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            self.fused = False
        optim.Optimizer.__init__ = reference_init
    try:
        start = time.perf_counter()
        train_seed(config, spec, 0, data)
        return steps / (time.perf_counter() - start)
    finally:
        measure.split_deltas, optim.Optimizer.__init__ = original_split, original_init


def _adam_rate(steps: int, fused: bool) -> float:
    """Adam updates/s on the parameters of the width-128, depth-3 MLP (random gradients, drawn beforehand)."""
    config = Config(loss="ce", act="relu", width=128, depth=3, input_dim=64)
    net = build_net("mlp", config, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    grads = [{k: rng.standard_normal(v.shape) for k, v in net.params.items()} for _ in range(8)]
    opt = make_optimizer("adam", 1e-3, steps=steps)
    opt.fused = fused
    start = time.perf_counter()
    for t in range(steps):
        opt.step(net.params, grads[t % 8])
    return steps / (time.perf_counter() - start)


def measurement_main(args) -> None:
    import os

    samples = {"loop_before": [], "loop_after": [], "adam_reference": [], "adam_fused": []}
    load = [os.getloadavg()]
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for _ in range(args.repeats):  # interleaved: a neighbour's load hits both sides alike
            samples["loop_before"].append(_measured_loop_rate(args.steps, after=False))
            samples["loop_after"].append(_measured_loop_rate(args.steps, after=True))
            samples["adam_reference"].append(_adam_rate(20 * args.steps, fused=False))
            samples["adam_fused"].append(_adam_rate(20 * args.steps, fused=True))
            load.append(os.getloadavg())
    paired = {"loop": [a / b for a, b in zip(samples["loop_after"], samples["loop_before"])],
              "adam": [a / b for a, b in zip(samples["adam_fused"], samples["adam_reference"])]}
    result = {"what": "train's loop logging every step with the self/label split (MLP w128 d3, batch 64, digits, "
                      "Adam), before (two-pass split, reference Adam) and after (one-pass split, fused Adam); "
                      "and the Adam update alone on that network's parameters",
              "steps": args.steps, "repeats": args.repeats, "threads": args.threads,
              "steps_per_s_median": {k: statistics.median(v) for k, v in samples.items()},
              "speedup_median_of_paired_ratios": {k: statistics.median(v) for k, v in paired.items()},
              "samples": samples, "load": load,
              "machine": {"python": platform.python_version(), "numpy": np.__version__,
                          "platform": platform.platform()}}
    path = OUT.parent / "bench_train_measurement.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"steps_per_s_median": result["steps_per_s_median"],
                      "speedup": result["speedup_median_of_paired_ratios"], "load": load}, indent=1))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measurement", action="store_true", help="time the measuring cost, before and after")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch intra-op threads on both sides")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch side (PyTorch not installed)")
    args = parser.parse_args()
    if args.measurement:
        measurement_main(args)
        return
    torch = None
    torch_note = "skipped (--no-torch)"
    if not args.no_torch:
        import torch  # not a dependency of driftproof: only this comparison needs it

        torch.set_num_threads(args.threads)
        torch_note = f"torch {torch.__version__}, {args.threads} thread(s)"
    cases = {"float32": {}, "float64": {}}
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for dtype in cases:
            samples = {"driftproof_numba": [], "driftproof_numpy": [], "torch": []}
            for _ in range(args.repeats):  # interleaved, so load changes hit every side
                samples["driftproof_numba"].append(driftproof_rate(args.steps, dtype, "numba"))
                samples["driftproof_numpy"].append(driftproof_rate(args.steps, dtype, "numpy"))
                if torch is not None:
                    samples["torch"].append(torch_rate(args.steps, dtype))
            entry = {name: {"steps_per_s_median": statistics.median(v), "samples": v}
                     for name, v in samples.items() if v}
            if torch is not None:
                ref = entry["torch"]["steps_per_s_median"]
                for name in ("driftproof_numba", "driftproof_numpy"):
                    entry[name]["ratio_to_torch"] = entry[name]["steps_per_s_median"] / ref
            cases[dtype] = entry
        loop = {"log_every_1": statistics.median(loop_rate(args.steps, "float32", 1) for _ in range(3)),
                "log_every_100": statistics.median(loop_rate(args.steps, "float32", 100) for _ in range(3))}
    result = {
        "network": {"arch": "mlp", "width": WIDTH, "depth": DEPTH, "input_dim": WIDTH, "classes": CLASSES,
                    "batch": BATCH, "activation": "relu", "loss": "ce", "optimizer": "adam"},
        "steps_timed": args.steps, "repeats": args.repeats, "threads": args.threads, "torch": torch_note,
        "target": "driftproof >= 0.8x PyTorch steps/s", "results": cases,
        "full_loop_float32_numba_steps_per_s": loop,
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({d: {k: round(v["steps_per_s_median"], 1) for k, v in e.items()} for d, e in cases.items()}))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
