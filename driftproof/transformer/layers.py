"""Transformer layers in numpy, each forward beside its hand-written backward (micrograd's way).

Every ``f(...) -> (out, saved)`` has a ``f_backward(dout, ..., saved) -> gradients``. Token
activations are 2-D (rows = tokens, B*T of them); attention works on (B, H, T, hd). Weights
are (fan_out, fan_in) like the rest of driftproof, so a linear layer is ``x @ W.T``.
The finite-difference tests in ``tests/training/test_transformer.py`` check every pair.
"""

from __future__ import annotations

import functools

import numpy as np

from ..norms import LN_EPS, RMS_EPS, layernorm, layernorm_backward, rmsnorm, rmsnorm_backward

__all__ = ["RMS_EPS", "LN_EPS", "linear", "linear_backward", "rmsnorm", "rmsnorm_backward", "layernorm",
           "layernorm_backward", "rope_tables", "rope", "rope_backward", "split_heads", "merge_heads",
           "causal_bias", "attention", "attention_backward", "embed_backward"]



def linear(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y = x W^T, no bias (the paper's GPT has none)."""
    return x @ w.T


def linear_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dW) of y = x W^T."""
    return dy @ w, dy.T @ x


def rope_tables(length: int, head_dim: int, dtype=np.float64, base: float = 10000.0):
    """cos and sin (length, head_dim/2) of the rotary angles t * base^(-2i/head_dim)."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head dimension, got {head_dim}")
    inv_freq = base ** (-np.arange(0, head_dim, 2) / head_dim)
    angles = np.outer(np.arange(length), inv_freq)
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


def rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate the pairs (x_i, x_{i+hd/2}) of x (B, H, T, hd) by each position's angles (split-half RoPE)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos + x2 * sin, x2 * cos - x1 * sin], axis=-1)


def rope_backward(dy: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """The rotation is orthogonal: its backward is the rotation by the opposite angles."""
    return rope(dy, cos, -sin)


def split_heads(x: np.ndarray, batch: int, heads: int) -> np.ndarray:
    """(B*T, C) -> (B, H, T, C/H)."""
    n, c = x.shape
    return x.reshape(batch, n // batch, heads, c // heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(B, H, T, hd) -> (B*T, H*hd), the inverse of :func:`split_heads`."""
    b, h, t, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b * t, h * d)


@functools.lru_cache(maxsize=8)
def causal_bias(length: int, dtype) -> np.ndarray:
    """(T, T): 0 where key <= query, -inf where the key lies in the query's future."""
    bias = np.triu(np.full((length, length), -np.inf, dtype=dtype), 1)
    bias.flags.writeable = False
    return bias


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool):
    """softmax(q k^T / sqrt(hd) [+ causal mask]) v over (B, H, T, hd); returns (y, weights)."""
    scores = q @ k.swapaxes(-1, -2)
    scores *= 1.0 / np.sqrt(q.shape[-1])
    if causal:
        scores += causal_bias(q.shape[-2], scores.dtype)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores, out=scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def attention_backward(dy: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, weights: np.ndarray):
    """(dq, dk, dv) of :func:`attention`; masked entries have weight 0 and so no gradient."""
    dv = weights.swapaxes(-1, -2) @ dy
    dweights = dy @ v.swapaxes(-1, -2)
    # softmax backward, row-wise: ds = w * (dw - sum(dw * w))
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dscores *= 1.0 / np.sqrt(q.shape[-1])
    return dscores @ k, dscores.swapaxes(-1, -2) @ q, dv


def embed_backward(dx: np.ndarray, ids: np.ndarray, vocab: int) -> np.ndarray:
    """dE of x = E[ids] (rows of dx per token): a one-hot matmul, faster than np.add.at here."""
    onehot = np.zeros((ids.size, vocab), dtype=dx.dtype)
    onehot[np.arange(ids.size), ids.reshape(-1)] = 1.0
    return onehot.T @ dx
