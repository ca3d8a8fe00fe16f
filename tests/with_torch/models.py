"""Small user-style PyTorch models for the tests: functional activations, gated FFNs, odd names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TwoLayer(nn.Module):
    """An MLP classifier with a functional activation: ``fc2(act(fc1(x)))``."""

    def __init__(self, d_in: int = 12, width: int = 48, classes: int = 5, act=F.relu):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(d_in, width), nn.Linear(width, classes), act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Gated(nn.Module):
    """A LLaMA-style gated FFN between an input and an output projection."""

    def __init__(self, d_in: int = 12, width: int = 32, hidden: int = 64, classes: int = 5):
        super().__init__()
        self.inp = nn.Linear(d_in, width, bias=False)
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(width, hidden, bias=False)
        self.mlp.up_proj = nn.Linear(width, hidden, bias=False)
        self.mlp.down_proj = nn.Linear(hidden, width, bias=False)
        self.out = nn.Linear(width, classes, bias=False)

    def forward(self, x):
        u = self.inp(x)
        h = F.silu(self.mlp.gate_proj(u)) * self.mlp.up_proj(u)
        return self.out(self.mlp.down_proj(h))


class Unnamed(nn.Module):
    """No layer named like an up-projection: found only with ``where``."""

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(12, 40), nn.Linear(40, 5)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def batch(n: int = 24, d_in: int = 12, classes: int = 5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d_in, generator=g), torch.randint(0, classes, (n,), generator=g)
