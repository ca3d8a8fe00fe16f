"""Optimizers (SGD, momentum, Adam, AdamW) and learning-rate schedules, in place on numpy arrays.

Weight decay acts on weight matrices only (ndim >= 2), not on biases or LayerNorm gains, as
is usual in practice: a decayed bias would confound the bias drift this package measures.
``sgd``, ``momentum`` and ``adam`` add it to the gradient (L2); ``adamw`` decouples it
(Loshchilov & Hutter): ``theta -= lr * wd * theta`` beside the Adam step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError

__all__ = ["OPTIMIZERS", "SCHEDULES", "Schedule", "Optimizer", "make_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
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
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        if kind not in OPTIMIZERS:
            raise InputError(f"opt must be one of {', '.join(OPTIMIZERS)}, got {kind!r}")
        if not (math.isfinite(wd) and wd >= 0):
            raise InputError(f"wd must be a non-negative number, got {wd!r}")
        if not 0 <= momentum < 1:
            raise InputError(f"momentum must be in [0, 1), got {momentum!r}")
        self.kind, self.schedule, self.wd, self.momentum = kind, schedule, wd, momentum
        self.betas, self.eps = betas, eps
        self.t = 0
        self.state: dict[str, list[np.ndarray]] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> float:
        """One update at the current step; returns the learning rate used."""
        lr = self.schedule(self.t)
        self.t += 1
        for name, theta in params.items():
            grad = grads[name]
            decay = self.wd if theta.ndim >= 2 else 0.0
            if self.kind != "adamw" and decay:
                grad = grad + decay * theta
            if self.kind == "sgd":
                theta -= lr * grad
            elif self.kind == "momentum":
                (buf,) = self._buffers(name, theta, 1)
                buf *= self.momentum
                buf += grad
                theta -= lr * buf
            else:
                m, v = self._buffers(name, theta, 2)
                b1, b2 = self.betas
                m *= b1
                m += (1 - b1) * grad
                v *= b2
                v += (1 - b2) * (grad * grad)
                step_size = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
                if self.kind == "adamw" and decay:
                    theta *= 1 - lr * decay
                # eps scaled as in the bias-corrected form m_hat / (sqrt(v_hat) + eps)
                theta -= step_size * m / (np.sqrt(v) + self.eps * math.sqrt(1 - b2**self.t))
        return lr

    def _buffers(self, name: str, theta: np.ndarray, count: int) -> list[np.ndarray]:
        if name not in self.state:
            self.state[name] = [np.zeros_like(theta) for _ in range(count)]
        return self.state[name]


def make_optimizer(kind: str, lr: float, *, steps: int, schedule: str = "constant", warmup: int = 0,
                   wd: float = 0.0, momentum: float = 0.9) -> Optimizer:
    """An optimizer with its schedule, validated (InputError on bad values)."""
    return Optimizer(kind, Schedule(lr, schedule, steps, warmup), wd=wd, momentum=momentum)
