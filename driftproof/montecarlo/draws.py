"""Random numbers for the kernels, drawn in numpy from streams keyed by (seed, purpose, batch, ...).

Every batch, layer and chunk of samples has its own stream, so the numbers a run uses depend
on the seed and the batch schedule alone, never on the number of threads (DESIGN.md §4).
Chunks are filled by a small thread pool: numpy's generators release the GIL while filling.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..config import Config

__all__ = ["CHUNK", "stream", "draw_weights", "draw_labels", "draw_inputs", "draw_context"]

CONTEXT, BATCH = 0, 1  # stream purposes
INPUTS, LABELS = 1000, 1001  # stream tags beside the layer numbers 1..L (+ L+1 for V)
CHUNK = 16  # samples per stream: fixed, so results do not depend on the pool size
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
    return _POOL


def _forget_pool() -> None:
    """In a forked child the pool's threads are gone: start a new pool there on first use."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool)


def stream(seed: int, *key: int) -> np.random.Generator:
    """The generator for (seed, *key): independent streams through numpy's SeedSequence."""
    return np.random.default_rng([seed, *key])


def _chunked(seed: int, batch: int, tag: int, samples: int, fill) -> None:
    starts = range(0, samples, CHUNK)
    jobs = [_pool().submit(fill, stream(seed, BATCH, batch, tag, start // CHUNK), start, min(start + CHUNK, samples))
            for start in starts]
    for job in jobs:
        job.result()


def draw_weights(config: Config, seed: int, batch: int, layer: int, samples: int) -> np.ndarray:
    """Weights of ``layer`` (1..L hidden, L+1 = output V) for ``samples`` networks: (S, fan_out, fan_in)."""
    fan_in, fan_out = config.fans[layer - 1]
    std = config.stds[layer - 1]
    init = config.init_dist
    out = np.empty((samples, fan_out, fan_in))

    def fill(rng, start, stop):
        out[start:stop] = init.sample(rng, (stop - start, fan_out, fan_in), std)

    _chunked(seed, batch, layer, samples, fill)
    return out


def draw_labels(config: Config, seed: int, batch: int, samples: int) -> np.ndarray:
    """Uniform class labels, independent of the weights: (S,) int64."""
    return stream(seed, BATCH, batch, LABELS).integers(0, config.classes, samples)


def draw_inputs(config: Config, seed: int, batch: int, samples: int) -> np.ndarray:
    """Inputs x ~ N(0, I_d): (S, d)."""
    return stream(seed, BATCH, batch, INPUTS).standard_normal((samples, config.d_in))


def draw_context(config: Config, layer: int) -> np.ndarray:
    """One input and the weights W^1..W^layer (seed's context stream), forwarded: p^layer (N,)."""
    rng = stream(config.seed, CONTEXT)
    h = rng.standard_normal(config.d_in)
    activation = config.activation
    p = h
    for index in range(layer):
        fan_in, fan_out = config.fans[index]
        W = config.init_dist.sample(rng, (fan_out, fan_in), config.stds[index])
        p = W @ h
        h = activation.numpy(p)
    return p
