"""The paper's GPT shape as an ordinary PyTorch module, written as a user would write it (no driftproof import).

Pre-norm RMSNorm blocks, causal attention with RoPE, an MLP 4x wide whose activation is the paper's
clipped ReLU² called as a *function* (``clipped_relu2`` below: ``clamp`` passes no gradient where the
clip binds), no biases, the attention branch scaled by 1/sqrt(2L), and the readout tied to the token
embedding. Every weight keeps PyTorch's default initialization: ``nn.Linear``'s U(±1/sqrt(fan_in)).
The tied matrix is made by the readout ``lm_head`` (uniform, as in the paper's code) unless
``tied_init="normal"``, where it is made by ``nn.Embedding`` (N(0, 1), PyTorch's embedding default).

Probe it without changing a line::

    driftproof probe --model examples/torch_gpt.py:make_model --data text --inits 256

``make_model`` takes ``vocab_size``, which ``probe`` fills from its data (103 characters for the text).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

CLIP = 50.0  # the clip of the clipped ReLU², as driftproof's clipped_relu2 default (c = 50)


def clipped_relu2(x: torch.Tensor, clip: float = CLIP) -> torch.Tensor:
    """min(relu(x)², clip): zero gradient below 0 and where the clip binds."""
    return torch.clamp(F.relu(x).square(), max=clip)


class RMSNorm(nn.Module):
    def __init__(self, width: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of (B, H, T, hd), the split-half form."""
    T, hd = x.shape[-2], x.shape[-1]
    inv_freq = 10000.0 ** (-torch.arange(0, hd, 2, device=x.device, dtype=x.dtype) / hd)
    angles = torch.outer(torch.arange(T, device=x.device, dtype=x.dtype), inv_freq)
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([x1 * cos + x2 * sin, x2 * cos - x1 * sin], dim=-1)


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(width, 3 * width, bias=False)
        self.c_proj = nn.Linear(width, width, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        y = F.scaled_dot_product_attention(rope(q), rope(k), v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width, bias=False)
        self.c_proj = nn.Linear(4 * width, width, bias=False)

    def forward(self, x):
        return self.c_proj(clipped_relu2(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, depth: int):
        super().__init__()
        self.ln_1, self.ln_2 = RMSNorm(width), RMSNorm(width)
        self.attn, self.mlp = Attention(width, heads), MLP(width)
        self.attn_scale = 1.0 / math.sqrt(2 * depth)

    def forward(self, x):
        x = x + self.attn_scale * self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, width: int = 64, depth: int = 2, heads: int = 4, tied_init: str = "uniform"):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, width)
        self.h = nn.ModuleList(Block(width, heads, depth) for _ in range(depth))
        self.ln_f = RMSNorm(width)
        self.lm_head = nn.Linear(width, vocab_size, bias=False)
        if tied_init == "uniform":  # the paper's: the embedding takes the readout's (Linear) init
            self.wte.weight = self.lm_head.weight
        elif tied_init == "normal":  # the readout takes the embedding's N(0, 1)
            self.lm_head.weight = self.wte.weight
        else:
            raise ValueError(f"tied_init must be 'uniform' or 'normal', got {tied_init!r}")

    def forward(self, ids):
        x = self.wte(ids)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def make_model(vocab_size: int = 103, width: int = 64, depth: int = 2, heads: int = 4) -> GPT:
    """The paper's tied, uniformly initialized GPT (the factory ``probe`` and ``check_init`` call)."""
    return GPT(vocab_size, width, depth, heads, tied_init="uniform")


def make_model_normal_embedding(vocab_size: int = 103, width: int = 64, depth: int = 2, heads: int = 4) -> GPT:
    """The same GPT with the tied matrix drawn N(0, 1), as ``nn.Embedding`` draws it."""
    return GPT(vocab_size, width, depth, heads, tied_init="normal")
