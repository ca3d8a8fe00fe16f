"""Monte Carlo of E[delta | p] in pre-norm residual blocks (R6), numpy-drawn and batched.

The network is :class:`driftproof.theory.normalized.Residual` (``ResMLP`` at init by default:
LayerNorm, eps = 1e-5, gains 1, biases 0). The forward and backward are written out here,
per sample with its own weights (batched matrix products), and checked against finite
differences in the tests. ``conditional`` fixes the stream up to block l (input, embedding,
blocks < l and W1^l, drawn from the seed's context stream) and resamples W2^l, the later
blocks, V and the labels; ``marginal`` resamples everything and pools delta^l over p^l > 0.
Every chunk of samples draws from its own stream keyed by (seed, purpose, chunk, matrix), so
results depend on the seed and the sample budget alone, not on the batch schedule.
"""

from __future__ import annotations


import numpy as np

from ..errors import InputError
from ..theory.normalized import Residual
from .outcomes import ConditionalResult, MarginalResult
from .draws import stream
from .sequential import run_conditional, run_marginal
from .signtest import MIN_SAMPLES, schedule

__all__ = ["context", "draw_deltas", "conditional", "marginal", "forward_backward", "METHODS"]

METHODS = ("naive", "cv")
CONTEXT, BATCH = 6000, 6001  # stream purposes, apart from the MLP engine's
_INPUT, _EMBED, _READOUT, _LABELS = 1, 2, 3, 4  # matrix tags; block l uses 10 l + 1 (W1), 10 l + 2 (W2)
_BUDGET_NUMBERS = 1 << 22  # random numbers per batch (32 MB)


def _norm(res: Residual, x: np.ndarray):
    """n(x) row-wise (feature axis 1) and what its backward needs; the identity without a norm."""
    if res.norm == "none":
        return x, None
    centered = x - x.mean(axis=1, keepdims=True) if res.norm == "layernorm" else x
    inv = 1.0 / np.sqrt((centered * centered).mean(axis=1, keepdims=True) + res.eps)
    u = centered * inv
    return u, (u[..., None], inv[..., None])


def _norm_backward(res: Residual, du: np.ndarray, saved) -> np.ndarray:
    """dl/dx from dl/dn, du of shape (S, N, parts): inv (du - mean(du) - u mean(du u)) for LayerNorm."""
    if saved is None:
        return du
    u, inv = saved
    out = du - u * (du * u).mean(axis=1, keepdims=True)
    if res.norm == "layernorm":
        out = out - du.mean(axis=1, keepdims=True)
    return inv * out


def _output_gradient(res: Residual, z: np.ndarray, labels: np.ndarray, split: bool) -> np.ndarray:
    """dl/dz as (S, K, parts): (prediction part, label part) with ``split``, else their sum."""
    loss, classes = res.config.loss_fn, res.config.classes
    full = loss.grad(z, labels)
    if not split:
        return full[..., None]
    label = np.zeros_like(full)
    label[np.arange(len(z)), labels] = -loss.output_scale(classes)
    return np.stack([full - label, label], axis=2)


def forward_backward(res: Residual, x0: np.ndarray, blocks: list, V: np.ndarray, labels: np.ndarray,
                     split: bool = False, p_first: np.ndarray | None = None):
    """Deltas of every block for a batch of networks, each with its own weights.

    Args:
        x0: the stream entering the first given block, (S, N).
        blocks: [(W1, W2)] per block, each (S, N, N); W1 of the first may be None when ``p_first``
            (its pre-activations, (S, N) or (N,)) is given (conditional mode).
        V: (S, K, N); labels: (S,) ints.
    Returns:
        (deltas, ps, z): deltas[b] is (S, parts, N) for the b-th given block, ps[b] its p (S, N).
    """
    act = res.config.activation
    x, cache = x0, []
    for index, (W1, W2) in enumerate(blocks):
        u, saved = _norm(res, x)
        if W1 is None:
            p = np.broadcast_to(p_first, x.shape)
        else:
            p = np.matmul(W1, u[..., None])[..., 0]
        h, d = act.numpy(p), act.numpy_derivative(p)
        x = x + np.matmul(W2, h[..., None])[..., 0]
        cache.append((saved, p, d))
    uf, saved_f = _norm(res, x)
    z = np.matmul(V, uf[..., None])[..., 0]
    gz = _output_gradient(res, z, labels, split)
    dx = _norm_backward(res, np.matmul(np.swapaxes(V, 1, 2), gz), saved_f)
    deltas = [None] * len(blocks)
    for index in reversed(range(len(blocks))):
        W1, W2 = blocks[index]
        saved, p, d = cache[index]
        delta = np.matmul(np.swapaxes(W2, 1, 2), dx) * d[..., None]
        deltas[index] = np.swapaxes(delta, 1, 2)
        if W1 is not None and index > 0:
            dx = dx + _norm_backward(res, np.matmul(np.swapaxes(W1, 1, 2), delta), saved)
    return deltas, [c[1] for c in cache], z


def _chunk(res: Residual) -> int:
    """Samples per random stream: 16, fewer for wide networks (a stream's draws stay under ~1M numbers)."""
    return int(max(1, min(16, (1 << 20) // (res.width * res.width))))


def _draw(res: Residual, purpose: int, start: int, size: int, tag: int, shape: tuple, std: float) -> np.ndarray:
    """(size, *shape) weights for samples start..start+size, chunk by chunk from their own streams."""
    chunk, init = _chunk(res), res.config.init_dist
    out = np.empty((size, *shape))
    first = start // chunk
    for index in range(first, (start + size - 1) // chunk + 1):
        lo, hi = max(start, index * chunk), min(start + size, (index + 1) * chunk)
        rng = stream(res.config.seed, purpose, index, tag)
        block = init.sample(rng, (chunk, *shape), std) if std is not None else rng.standard_normal((chunk, *shape))
        out[lo - start:hi - start] = block[lo - index * chunk:hi - index * chunk]
    return out


def _labels(res: Residual, purpose: int, start: int, size: int) -> np.ndarray:
    chunk = _chunk(res)
    out = np.empty(size, dtype=np.int64)
    for index in range(start // chunk, (start + size - 1) // chunk + 1):
        lo, hi = max(start, index * chunk), min(start + size, (index + 1) * chunk)
        draws = stream(res.config.seed, purpose, index, _LABELS).integers(0, res.config.classes, chunk)
        out[lo - start:hi - start] = draws[lo - index * chunk:hi - index * chunk]
    return out


def context(res: Residual, block: int) -> tuple[np.ndarray, np.ndarray]:
    """One draw of the stream entering ``block`` and its pre-activations: (x_{block-1}, p^block), each (N,)."""
    config, stds = res.config, res.stds
    n = res.width
    x = stream(config.seed, CONTEXT, _INPUT).standard_normal((1, config.d_in))
    E = config.init_dist.sample(stream(config.seed, CONTEXT, _EMBED), (n, config.d_in), stds["E"])
    stream_x = x @ E.T
    act = config.activation
    for layer in range(1, block + 1):
        W1 = config.init_dist.sample(stream(config.seed, CONTEXT, 10 * layer + 1), (n, n), stds["W1"])
        p = _norm(res, stream_x)[0] @ W1.T
        if layer == block:
            return stream_x[0], p[0]
        W2 = config.init_dist.sample(stream(config.seed, CONTEXT, 10 * layer + 2), (n, n), stds["W2"])
        stream_x = stream_x + act.numpy(p) @ W2.T
    raise AssertionError(block)


def draw_deltas(res: Residual, start: int, size: int, *, block: int | None = None, x_prev=None, p=None,
                split: bool = False):
    """Per-sample deltas for samples start..start+size: conditional on (x_prev, p) at ``block``, or marginal.

    Returns (deltas, ps) as :func:`forward_backward`; conditional mode returns blocks block..L.
    """
    config, stds, n = res.config, res.stds, res.width
    first = 1 if block is None else block
    blocks = []
    for layer in range(first, config.depth + 1):
        W1 = None if layer == block else _draw(res, BATCH, start, size, 10 * layer + 1, (n, n), stds["W1"])
        blocks.append((W1, _draw(res, BATCH, start, size, 10 * layer + 2, (n, n), stds["W2"])))
    V = _draw(res, BATCH, start, size, _READOUT, (config.classes, n), stds["V"])
    labels = _labels(res, BATCH, start, size)
    if block is None:
        x = _draw(res, BATCH, start, size, _INPUT, (config.d_in,), None)
        E = _draw(res, BATCH, start, size, _EMBED, (n, config.d_in), stds["E"])
        x0 = np.matmul(E, x[..., None])[..., 0]
    else:
        x0 = np.tile(x_prev, (size, 1))
    deltas, ps, _ = forward_backward(res, x0, blocks, V, labels, split, p_first=p)
    return deltas, ps


def _largest(res: Residual, blocks: int) -> int:
    per_sample = 2 * blocks * res.width**2 + res.width * (res.config.classes + res.config.d_in)
    chunk = _chunk(res)
    return max(chunk, (_BUDGET_NUMBERS // per_sample) // chunk * chunk)


def _check(samples, alpha, method) -> None:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < MIN_SAMPLES:
        raise InputError(f"samples must be an integer >= {MIN_SAMPLES}, got {samples!r}")
    if not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def conditional(res: Residual, *, block: int | None = None, method: str = "cv", samples: int = 4096,
                alpha: float = 1e-6, first_batch: int = 64, stop_early: bool = True,
                progress=None) -> ConditionalResult:
    """E[delta^block_i | p^block] for every unit of ``block`` (default the last), given one context draw.

    ``cv`` drops the label part of dl/dz (zero mean: the label is independent of the weights);
    ``naive`` keeps it. The sign test is the engine's: Holm over units with p_i > 0, Bonferroni
    over looks, stopping early once every sign is resolved.
    """
    config = res.config
    block = config.depth if block is None else block
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or not 1 <= block <= config.depth:
        raise InputError(f"block must be an integer in 1..{config.depth}, got {block!r}")
    _check(samples, alpha, method)
    x_prev, p = context(res, block)

    def draw(batch, start, size):
        deltas, _ = draw_deltas(res, start, size, block=block, x_prev=x_prev, p=p, split=method == "cv")
        parts = deltas[0]
        return parts[:, 0], (parts.sum(axis=1) if method == "cv" else None)

    sizes = schedule(samples, max(first_batch, _chunk(res)), _largest(res, config.depth - block + 1))
    return run_conditional(draw, sizes, config=_describe(res), layer=block, method=f"r6 {method}", p=p, alpha=alpha,
                           budget=samples, seed=config.seed, stop_early=stop_early, progress=progress)


def _describe(res: Residual) -> dict:
    return {**res.config.to_dict(), "arch": "resmlp", "norm": res.norm, "eps": res.eps}


def marginal(res: Residual, *, method: str = "cv", samples: int = 1024, alpha: float = 1e-6,
             first_batch: int = 32, stop_early: bool = False, progress=None) -> MarginalResult:
    """E[delta^l_i | p^l_i > 0], E[delta^l_i] and P(p^l_i > 0) for every block, everything resampled."""
    config = res.config
    _check(samples, alpha, method)

    def draw(batch, start, size):
        return draw_deltas(res, start, size, split=method == "cv")

    sizes = schedule(samples, max(first_batch, _chunk(res)), _largest(res, config.depth))
    return run_marginal(draw, sizes, config=_describe(res), depth=config.depth, width=res.width,
                        method=f"r6 {method}", alpha=alpha, budget=samples, seed=config.seed, stop_early=stop_early,
                        progress=progress)
