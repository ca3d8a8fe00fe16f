"""PyTorch ports of driftproof's numpy networks, loaded with a numpy network's weights.

``TorchMLP`` mirrors :class:`driftproof.nets.MLP` and ``TorchGPT`` mirrors
:class:`driftproof.transformer.GPT` (pre-norm RMSNorm with a gain, causal attention with split-half
RoPE, attention branch scaled by 1/√(2L), MLP 4×, no biases, tied head), operation for operation, so
that in float64 the two give the same loss and the same δ at every MLP pre-activation up to rounding
(the tests check 1e-10). The activation is the numpy network's own SymPy expression, printed to torch
(:func:`torch_activation`), so its gradient is autograd's of the same formula (0 where a clip binds).
"""

from __future__ import annotations

import math

import sympy as sp
import torch
import torch.nn.functional as F

from ..activations import Activation, x as SYMBOL
from ..transformer.layers import RMS_EPS

__all__ = ["torch_activation", "TorchMLP", "TorchGPT"]


def torch_activation(activation: Activation):
    """σ as a torch function of a tensor, from the activation's SymPy expression (constants as floats)."""
    expr = activation.normalized.replace(lambda e: e.is_number and not e.is_Atom, lambda e: sp.Float(e.evalf(30), 30))
    return sp.lambdify(SYMBOL, expr, modules="torch")


def _tensor(array) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.from_numpy(array.copy()))


class TorchMLP(torch.nn.Module):
    """``p^l = W^l h^{l-1} + b^l``, ``h^l = σ(p^l)``, ``z = V h^L + c``; the hidden layers are ``hidden.0``..."""

    def __init__(self, net):
        super().__init__()
        self.sigma = torch_activation(net.activation)
        self.hidden = torch.nn.ModuleList()
        for layer in range(1, net.depth + 1):
            weight = net.params[f"W{layer}"]
            linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
            linear.weight, linear.bias = _tensor(weight), _tensor(net.params[f"b{layer}"])
            self.hidden.append(linear)
        self.readout = torch.nn.Linear(net.params["V"].shape[1], net.params["V"].shape[0], dtype=torch.float64)
        self.readout.weight, self.readout.bias = _tensor(net.params["V"]), _tensor(net.params["c"])

    def forward(self, x):
        h = x
        for linear in self.hidden:
            h = self.sigma(linear(h))
        return self.readout(h)


class RMSNorm(torch.nn.Module):
    def __init__(self, gain):
        super().__init__()
        self.g = _tensor(gain)

    def forward(self, x):
        return x / torch.sqrt(torch.mean(x * x, dim=-1, keepdim=True) + RMS_EPS) * self.g


def _rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos + x2 * sin, x2 * cos - x1 * sin], dim=-1)


class _MLP(torch.nn.Module):
    def __init__(self, up, down, sigma):
        super().__init__()
        self.c_fc = torch.nn.Linear(up.shape[1], up.shape[0], bias=False, dtype=torch.float64)
        self.c_proj = torch.nn.Linear(down.shape[1], down.shape[0], bias=False, dtype=torch.float64)
        self.c_fc.weight, self.c_proj.weight = _tensor(up), _tensor(down)
        self.sigma = sigma

    def forward(self, x):
        return self.c_proj(self.sigma(self.c_fc(x)))


class _Block(torch.nn.Module):
    def __init__(self, net, layer: int, sigma):
        super().__init__()
        P, key = net.params, f"L{layer}"
        self.heads, self.scale = net.heads, net.attn_scale
        self.norm1, self.norm2 = RMSNorm(P[f"{key}.norm1.g"]), RMSNorm(P[f"{key}.norm2.g"])
        self.attn = torch.nn.ParameterDict({w: _tensor(P[f"{key}.{w}"]) for w in ("Wq", "Wk", "Wv", "Wo")})
        self.mlp = _MLP(P[f"{key}.Wup"], P[f"{key}.Wdown"], sigma)

    def attention(self, u):
        B, T, C = u.shape
        H = self.heads
        q, k, v = (F.linear(u, self.attn[w]).reshape(B, T, H, C // H).transpose(1, 2) for w in ("Wq", "Wk", "Wv"))
        hd = C // H
        inv_freq = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        angles = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
        q, k = _rope(q, angles.cos(), angles.sin()), _rope(k, angles.cos(), angles.sin())
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        weights = torch.softmax(scores.masked_fill(mask, -math.inf), dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(B, T, C)
        return F.linear(y, self.attn["Wo"])

    def forward(self, x):
        x = x + self.scale * self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TorchGPT(torch.nn.Module):
    """The numpy GPT (tied readout) on token ids (B, T); MLPs at ``blocks.{i}.mlp.c_fc``/``c_proj``."""

    def __init__(self, net):
        super().__init__()
        if getattr(net, "readout", "tied") != "tied":
            raise ValueError("TorchGPT ports the tied readout only")
        sigma = torch_activation(net.activation)
        self.wte = _tensor(net.params["wte"])
        self.blocks = torch.nn.ModuleList(_Block(net, layer, sigma) for layer in range(1, net.depth + 1))
        self.normf = RMSNorm(net.params["normf.g"])

    def forward(self, ids):
        x = self.wte[ids]
        for block in self.blocks:
            x = block(x)
        return F.linear(self.normf(x), self.wte)
