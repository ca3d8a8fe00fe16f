"""Optimizers (SGD, momentum, Adam, AdamW, Muon) and learning-rate schedules, in place on numpy arrays.

Weight decay acts on weight matrices only (ndim >= 2), not on biases or LayerNorm gains, as
is usual in practice: a decayed bias would confound the bias drift this package measures.
``sgd``, ``momentum`` and ``adam`` add it to the gradient (L2); ``adamw`` decouples it
(Loshchilov & Hutter): ``theta -= lr * wd * theta`` beside the Adam step.

``muon`` follows the paper's code (Keller Jordan's Muon as in modded-nanogpt): on the matrices
the network names as hidden (a transformer's block matrices; every matrix of an MLP), Nesterov
momentum 0.95 (``buf = 0.95 buf + g``, update ``g + 0.95 buf``), orthogonalized by 5 quintic
Newton-Schulz iterations (:func:`newton_schulz`), scaled by sqrt(max(rows, cols)), at
``MUON_LR_RATIO`` = 0.1 times the learning rate; every other parameter (embeddings, head,
gains) takes AdamW with betas (0.9, 0.95) at the full learning rate and the weight decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .errors import InputError

__all__ = ["OPTIMIZERS", "SCHEDULES", "Schedule", "Optimizer", "make_optimizer", "newton_schulz", "MUON_LR_RATIO"]

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "muon")
MUON_MOMENTUM = 0.95
MUON_LR_RATIO = 0.1  # the paper: Muon's learning rate is 0.1x AdamW's
MUON_ADAM_BETAS = (0.9, 0.95)
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # the quintic of Muon's Newton-Schulz iteration
NS_STEPS = 5
SCHEDULES = ("constant", "warmup_cosine")


@dataclass(frozen=True)
class Schedule:
    """lr(t): ``constant``, or linear warmup over ``warmup`` steps then cosine decay to ``floor``*lr."""

    lr: float
    kind: str = "constant"
    total: int = 1
    warmup: int = 0
    floor: float = 0.0

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise InputError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.kind!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr must be positive and finite, got {self.lr!r}")
        if self.warmup < 0 or self.warmup > self.total:
            raise InputError(f"warmup must be between 0 and the number of steps ({self.total}), got {self.warmup}")

    def __call__(self, step: int) -> float:
        if self.kind == "constant":
            return self.lr
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        return self.lr * (self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class Optimizer:
    """Updates a dict of parameter arrays in place from a dict of gradients."""

    def __init__(self, kind: str, schedule: Schedule, *, wd: float = 0.0, momentum: float = 0.9,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 hidden_matrices: Iterable[str] | None = None, clip_norm: float | None = None, fused: bool = True):
        if kind not in OPTIMIZERS:
            raise InputError(f"opt must be one of {', '.join(OPTIMIZERS)}, got {kind!r}")
        if not (math.isfinite(wd) and wd >= 0):
            raise InputError(f"wd must be a non-negative number, got {wd!r}")
        if not 0 <= momentum < 1:
            raise InputError(f"momentum must be in [0, 1), got {momentum!r}")
        if clip_norm is not None and not (isinstance(clip_norm, (int, float)) and math.isfinite(clip_norm)
                                          and clip_norm > 0):
            raise InputError(f"clip_norm must be a positive number, got {clip_norm!r}")
        self.clip_norm = clip_norm
        self.fused = fused  # Adam's update in one compiled pass (False: the numpy reference, for tests and benchmarks)
        self.kind, self.schedule, self.wd, self.momentum = kind, schedule, wd, momentum
        self.betas, self.eps = (MUON_ADAM_BETAS if kind == "muon" else betas), eps
        # muon: the names Muon updates (None: every 2-D parameter)
        self.hidden = None if hidden_matrices is None else frozenset(hidden_matrices)
        self.t = 0
        self.state: dict[str, list[np.ndarray]] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> float:
        """One update at the current step; returns the learning rate used.

        With ``clip_norm``, gradients whose global norm exceeds it are scaled down to it first (the
        direction is kept, so the sign of every component, and of the drift, is unchanged).
        """
        lr = self.schedule(self.t)
        self.t += 1
        grads = clip_global_norm(grads, self.clip_norm) if self.clip_norm is not None else grads
        for name, theta in params.items():
            grad = grads[name]
            decay = self.wd if theta.ndim >= 2 else 0.0
            if self.kind == "muon":
                if self._is_hidden(name, theta):
                    self._muon(name, theta, grad, lr * MUON_LR_RATIO)
                    continue
            elif self.kind != "adamw" and decay:
                grad = grad + decay * theta
            if self.kind == "sgd":
                theta -= lr * grad
            elif self.kind == "momentum":
                (buf,) = self._buffers(name, theta, 1)
                buf *= self.momentum
                buf += grad
                theta -= lr * buf
            else:
                (self._adam if self.fused else self._adam_reference)(name, theta, grad, lr, decay)
        return lr

    def _adam_reference(self, name: str, theta: np.ndarray, grad: np.ndarray, lr: float, decay: float) -> None:
        """Adam / AdamW as written in the papers, one numpy expression per line (temporaries for each)."""
        m, v = self._buffers(name, theta, 2)
        b1, b2 = self.betas
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * (grad * grad)
        step_size = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        if self.kind in ("adamw", "muon") and decay:
            theta *= 1 - lr * decay
        # eps scaled as in the bias-corrected form m_hat / (sqrt(v_hat) + eps)
        theta -= step_size * m / (np.sqrt(v) + self.eps * math.sqrt(1 - b2**self.t))

    def _adam(self, name: str, theta: np.ndarray, grad: np.ndarray, lr: float, decay: float) -> None:
        """:meth:`_adam_reference` in one compiled pass (:mod:`driftproof.fused_adam`): the same operations in the
        same order and precision, so the same bits; contiguous parameters only (else the reference)."""
        if not theta.flags.c_contiguous:
            return self._adam_reference(name, theta, grad, lr, decay)
        from .fused_adam import adam_update  # Numba: only where Adam runs

        m, v = self._buffers(name, theta, 2)
        b2 = self.betas[1]
        step_size = lr * math.sqrt(1 - b2**self.t) / (1 - self.betas[0]**self.t)
        keep = 1 - lr * decay if self.kind in ("adamw", "muon") and decay else None
        adam_update(theta, grad, m, v, self.betas, keep, step_size, self.eps * math.sqrt(1 - b2**self.t))

    def _is_hidden(self, name: str, theta: np.ndarray) -> bool:
        return theta.ndim == 2 and (self.hidden is None or name in self.hidden)

    def _muon(self, name: str, theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Nesterov momentum, orthogonalized (Newton-Schulz), scaled by sqrt(max(rows, cols))."""
        (buf,) = self._buffers(name, theta, 1)
        buf *= MUON_MOMENTUM
        buf += grad
        update = newton_schulz(grad + MUON_MOMENTUM * buf)
        theta -= (lr * math.sqrt(max(theta.shape))) * update.astype(theta.dtype, copy=False)

    def _buffers(self, name: str, theta: np.ndarray, count: int) -> list[np.ndarray]:
        if name not in self.state:
            self.state[name] = [np.zeros_like(theta) for _ in range(count)]
        return self.state[name]


def clip_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """``grads`` scaled so their global L2 norm is at most ``max_norm`` (unchanged if below, or not finite)."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if not math.isfinite(norm) or norm <= max_norm:
        return grads
    factor = max_norm / norm
    return {name: g * factor for name, g in grads.items()}


def make_optimizer(kind: str, lr: float, *, steps: int, schedule: str = "constant", warmup: int = 0,
                   wd: float = 0.0, momentum: float = 0.9, hidden_matrices: Iterable[str] | None = None,
                   clip_norm: float | None = None) -> Optimizer:
    """An optimizer with its schedule, validated (InputError on bad values).

    Args:
        hidden_matrices: muon only: the parameters Muon updates (None: every 2-D parameter).
    """
    return Optimizer(kind, Schedule(lr, schedule, steps, warmup), wd=wd, momentum=momentum,
                     hidden_matrices=hidden_matrices, clip_norm=clip_norm)


def newton_schulz(g: np.ndarray, steps: int = NS_STEPS, eps: float = 1e-7) -> np.ndarray:
    """Muon's approximate orthogonalization U V^T of G = U S V^T: quintic Newton-Schulz on G / ||G||_F.

    Each step maps every singular value s to a s + b s^3 + c s^5 (NS_COEFFICIENTS), which pushes
    the singular values into roughly [0.7, 1.2] in 5 steps (not exactly 1: that is Muon's design).
    Computed in float32 at most (the paper's code uses bfloat16), on the wide orientation.
    """
    a, b, c = NS_COEFFICIENTS
    x = g.astype(np.promote_types(g.dtype, np.float32), copy=True)
    x /= np.linalg.norm(x) + eps
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x
