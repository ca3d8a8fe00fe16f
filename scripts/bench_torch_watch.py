"""Benchmark: the overhead of driftproof.torch.watch in a training loop, against the same loop without it.

The model is the paper's GPT shape of ``examples/torch_gpt.py`` (width 128, 4 blocks, 4 heads; batch 16
windows of 64 characters of the text; AdamW), one training step = forward + backward + update. Both loops
run in this process on the same pre-drawn batches, interleaved block by block (plain, watched, plain, ...)
so that a busy neighbour on a shared machine hurts both alike; per block the wall and CPU seconds per step.
The watched loop logs every ``--every`` steps (0, every, 2 every, ...: the logged steps are inside every
block). Reported: the median over blocks of the per-step time of each, their ratio - 1 (the overhead),
the cost of one logged step alone, and the load average before and after.

Writes scripts/results/bench_torch_watch.json. Usage:
    PYTHONPATH=. python scripts/bench_torch_watch.py [--every 50] [--steps 100] [--blocks 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
from torch_gpt import make_model  # noqa: E402

from driftproof.data import make_dataset  # noqa: E402
from driftproof.torch import watch  # noqa: E402

OUT = ROOT / "scripts" / "results" / "bench_torch_watch.json"
WIDTH, DEPTH, HEADS, BATCH, CONTEXT = 128, 4, 4, 16, 64


def _batches(count: int, device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    data = make_dataset("text", input_dim=CONTEXT, classes=0, n_train=0, n_test=1, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    out = []
    for _ in range(count):
        rows = rng.integers(0, len(data.x_train), BATCH)
        out.append(tuple(torch.from_numpy(np.array(a[rows], np.int64)).to(device) for a in (data.x_train, data.y_train)))
    return out


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _loop(model, opt, batches, w, device) -> tuple[float, float]:
    """Wall and CPU seconds per step over ``batches``."""
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    for x, y in batches:
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if w is not None:
            w.step(loss)
    _sync(device)
    return (time.perf_counter() - wall) / len(batches), (time.process_time() - cpu) / len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--steps", type=int, default=100, help="steps a block (a multiple of --every)")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    load_before = os.getloadavg()
    batches = _batches(args.steps, device)
    torch.manual_seed(0)
    plain, watched = make_model(width=WIDTH, depth=DEPTH, heads=HEADS).to(device), None
    torch.manual_seed(0)
    watched = make_model(width=WIDTH, depth=DEPTH, heads=HEADS).to(device)
    opts = [torch.optim.AdamW(m.parameters(), lr=3e-4) for m in (plain, watched)]
    w = watch(watched, every=args.every)
    _loop(plain, opts[0], batches[:3], None, device)  # warm-up of both (allocator, kernels)
    _loop(watched, opts[1], batches[:3], None, device)
    w.t = 0
    times = {"plain": [], "watched": []}
    for _ in range(args.blocks):
        times["plain"].append(_loop(plain, opts[0], batches, None, device))
        w.t = 0  # every block starts at a logged step: steps // every logged steps a block
        times["watched"].append(_loop(watched, opts[1], batches, w, device))
    # one logged step alone against one plain step (the cost the every-k average spreads out)
    w.t, logged, unlogged = 0, [], []
    for _ in range(5):
        w.t = 0
        logged.append(_loop(watched, opts[1], batches[:1], w, device)[0])
        unlogged.append(_loop(plain, opts[0], batches[:1], None, device)[0])
    w.close()
    median = {k: [statistics.median(v[i] for v in times[k]) for i in (0, 1)] for k in times}
    result = {
        "model": f"examples/torch_gpt.py GPT width {WIDTH}, {DEPTH} blocks, {HEADS} heads, batch {BATCH}x{CONTEXT} tokens",
        "device": str(device), "threads": args.threads, "every": args.every, "steps_per_block": args.steps,
        "blocks": args.blocks, "logged_steps_per_block": -(-args.steps // args.every),
        "seconds_per_step": {"plain": {"wall": median["plain"][0], "cpu": median["plain"][1]},
                             "watched": {"wall": median["watched"][0], "cpu": median["watched"][1]}},
        "overhead": {"wall": median["watched"][0] / median["plain"][0] - 1,
                     "cpu": median["watched"][1] / median["plain"][1] - 1},
        "logged_step_seconds": statistics.median(logged), "plain_step_seconds": statistics.median(unlogged),
        "blocks_raw": times, "load_before": load_before, "load_after": os.getloadavg(),
        "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("device", "every", "seconds_per_step", "overhead", "logged_step_seconds",
                                             "plain_step_seconds", "load_before", "load_after")}, indent=2))


if __name__ == "__main__":
    main()
