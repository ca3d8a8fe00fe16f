"""Benchmark: training steps per second of driftproof's numpy GPT against the same GPT in PyTorch.

The default transformer of ``driftproof train --arch gpt``: 4 layers, 4 heads, width 128,
context 64, batch 16 sequences, vocabulary 103 (the pydoc text), ReLU MLP 4x, RMSNorm, RoPE,
tied embedding, no biases, float32, AdamW. A step is forward + backward + AdamW update on a
pre-drawn batch of text windows. Both sides run in one process with the same number of
BLAS / intra-op threads, interleaved over several repeats; the median is reported, so a busy
neighbour on a shared machine hurts both alike. PyTorch is not a dependency of driftproof:
without it (or with ``--no-torch``) only the numpy side runs, and the JSON says so.

Writes scripts/results/bench_transformer.json. Usage:
    PYTHONPATH=. python scripts/bench_transformer.py [--steps 30] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from driftproof.config import Config
from driftproof.data import make_dataset
from driftproof.nets import build_net
from driftproof.optim import make_optimizer

LAYERS, HEADS, WIDTH, CONTEXT, BATCH = 4, 4, 128, 64, 16
OUT = Path(__file__).parent / "results" / "bench_transformer.json"


def _batches(steps: int):
    data = make_dataset("text", input_dim=CONTEXT, classes=2, n_train=2, n_test=1, rng=None)
    rng = np.random.default_rng(0)
    index = rng.integers(0, len(data.x_train), (steps, BATCH))
    return data.x_train[index].astype(np.int64), data.y_train[index].astype(np.int64), data.classes


def driftproof_rate(steps: int, kernel: str) -> float:
    xs, ys, vocab = _batches(steps + 3)
    config = Config(act="relu", width=WIDTH, depth=LAYERS, classes=vocab, input_dim=CONTEXT)
    net = build_net("gpt", config, rng=np.random.default_rng(0), dtype="float32", kernel=kernel, heads=HEADS,
                    context=CONTEXT)
    opt = make_optimizer("adamw", 1e-3, steps=steps + 3)
    for i in range(3):  # warm-up (and the Numba compile)
        _, _, back = net.loss_and_backward(xs[i], ys[i], config.loss_fn)
        opt.step(net.params, back.grads)
    start = time.perf_counter()
    for i in range(3, steps + 3):
        _, _, back = net.loss_and_backward(xs[i], ys[i], config.loss_fn)
        opt.step(net.params, back.grads)
    return steps / (time.perf_counter() - start)


def _torch_gpt(torch, vocab: int):
    """The same GPT in PyTorch (written for this benchmark): pre-norm RMSNorm, RoPE, causal SDPA, ReLU MLP."""
    nn, F = torch.nn, torch.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.g = nn.Parameter(torch.ones(WIDTH))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.g

    half = WIDTH // HEADS // 2
    angles = torch.outer(torch.arange(CONTEXT).float(), 10000.0 ** (-torch.arange(0, 2 * half, 2).float() / (2 * half)))
    cos, sin = angles.cos(), angles.sin()

    def rope(x):  # (B, H, T, hd)
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos + x2 * sin, x2 * cos - x1 * sin], -1)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(), RMSNorm()
            self.qkv = nn.Linear(WIDTH, 3 * WIDTH, bias=False)
            self.wo = nn.Linear(WIDTH, WIDTH, bias=False)
            self.up = nn.Linear(WIDTH, 4 * WIDTH, bias=False)
            self.down = nn.Linear(4 * WIDTH, WIDTH, bias=False)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.n1(x)).view(b, t, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(rope(q), rope(k), v, is_causal=True)
            x = x + self.wo(y.transpose(1, 2).reshape(b, t, c)) / math.sqrt(2 * LAYERS)
            return x + self.down(F.relu(self.up(self.n2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, WIDTH)
            self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
            self.norm = RMSNorm()

        def forward(self, ids, targets):
            x = self.wte(ids)
            for block in self.blocks:
                x = block(x)
            logits = self.norm(x) @ self.wte.weight.T
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    return GPT()


def torch_rate(torch, steps: int) -> float:
    xs, ys, vocab = _batches(steps + 3)
    torch.manual_seed(0)
    model = _torch_gpt(torch, vocab)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    xs, ys = torch.from_numpy(xs), torch.from_numpy(ys)

    def step(i):
        opt.zero_grad(set_to_none=True)
        model(xs[i], ys[i]).backward()
        opt.step()

    for i in range(3):
        step(i)
    start = time.perf_counter()
    for i in range(3, steps + 3):
        step(i)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--kernel", default="numba", choices=("numpy", "numba"))
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
    ours, theirs = [], []
    with threadpool_limits(limits=args.threads):
        for _ in range(args.repeats):
            ours.append(driftproof_rate(args.steps, args.kernel))
            if torch is not None:
                theirs.append(torch_rate(torch, args.steps))
    result = {"shape": {"layers": LAYERS, "heads": HEADS, "width": WIDTH, "context": CONTEXT, "batch": BATCH,
                        "dtype": "float32", "act": "relu", "opt": "adamw"},
              "threads": args.threads, "steps": args.steps, "repeats": args.repeats, "kernel": args.kernel,
              "driftproof_steps_per_s": statistics.median(ours), "driftproof_all": ours,
              "torch_version": None if torch is None else torch.__version__,
              "torch_steps_per_s": statistics.median(theirs) if theirs else None, "torch_all": theirs,
              "ratio": statistics.median(ours) / statistics.median(theirs) if theirs else None,
              "note": None if torch is not None else "PyTorch not installed (or --no-torch): numpy side only",
              "machine": {"processor": platform.processor() or platform.machine(), "python": platform.python_version()}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("threads", "driftproof_steps_per_s", "torch_steps_per_s", "ratio",
                                             "note")}, indent=2))


if __name__ == "__main__":
    main()
