"""The one training loop: batches in, one optimizer update per batch, observers watch each step.

Every training in the package runs through :func:`run_loop` (or the generator under it,
:func:`training_steps`): ``train`` (one seed of a ``driftproof train`` run), the t = 0 sign of
the verify rows, and the jobs of a sweep. What is measured is not the loop's business: an
observer (an object with ``observe(step, net)``) is called at every step, after the
forward and backward on the step's batch and before the update, and keeps what it wants.

At step t (t = 0..steps) the loop draws a batch, computes the loss and its gradients at the
current parameters, shows the :class:`Step` to the observers and then, unless t == steps,
updates the parameters. Step ``steps`` is evaluated but not followed by an update, so a run
of ``steps`` updates is observed at ``steps + 1`` points.

The network plugs in through :class:`Network`, a small interface that the MLP and the
residual MLP implement and a transformer can implement without a loop of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

import numpy as np

from ..nets import Backward

__all__ = ["Network", "Observer", "Step", "LoopOutcome", "shuffled_batches", "fixed_batch", "training_steps",
           "run_loop"]


class Network(Protocol):
    """What the loop and the measurements need from a network.

    - ``params``: name -> array; the optimizer updates these arrays in place.
    - ``forward(x)``: the logits (n, K) of a batch x (n, d); fills ``cache``.
    - ``loss_and_backward(x, y, loss)``: (per-sample losses (n,), logits, :class:`~driftproof.nets.Backward`):
      the gradients of the batch-mean loss keyed like ``params``, and ``deltas[l-1]`` = dl_n/dp^l per
      sample for every layer l = 1..depth with a pointwise activation.
    - ``cache``: after a forward, ``cache["p"][l-1]`` and ``cache["h"][l-1]`` are the pre-activations
      p^l and activations h^l = sigma(p^l) of layer l (rows are samples); the per-layer view the
      measurements read.
    - ``depth``: the number of layers with a pointwise activation.
    - ``layer_params(l)``: the names of the weight and bias that produce p^l (measurements only).
    - ``backward(dz)``: the :class:`~driftproof.nets.Backward` of the last forward for an output
      gradient dz (n, K); the self/label split of δ (measurements only) calls it once per part.

    The loop itself calls only ``loss_and_backward`` and ``params``.
    """

    params: dict[str, np.ndarray]
    cache: dict
    depth: int

    def forward(self, x: np.ndarray) -> np.ndarray: ...

    def backward(self, dz: np.ndarray): ...

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray, loss) -> tuple[np.ndarray, np.ndarray, Backward]: ...

    def layer_params(self, layer: int) -> tuple[str, str]: ...


@dataclass(frozen=True)
class Step:
    """One step of the loop: the batch, and the loss and gradients at the parameters before update t."""

    t: int
    last: bool  # t == steps: observed, not followed by an update
    x: np.ndarray
    y: np.ndarray
    values: np.ndarray  # per-sample losses
    z: np.ndarray  # logits
    back: Backward
    lr: float  # the learning rate of update t (NaN without an optimizer)

    @property
    def loss(self) -> float:
        """The batch-mean loss (numpy's mean: this sum and division, without its per-call overhead)."""
        return float(np.add.reduce(self.values, axis=None) / self.values.size)


class Observer(Protocol):
    """Anything that watches the loop; called at every step, before the update."""

    def observe(self, step: Step, net: Network) -> None: ...


@dataclass(frozen=True)
class LoopOutcome:
    """How a loop ended: updates made, and the first step with a non-finite batch loss (None: never)."""

    updates: int
    diverged_at: int | None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def shuffled_batches(x: np.ndarray, y: np.ndarray, batch: int, rng: np.random.Generator
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Successive batches of a permutation of (x, y); a fresh permutation when fewer than ``batch`` remain."""
    n = len(x)
    order, cursor = rng.permutation(n), 0
    while True:
        if cursor + batch > n:
            order, cursor = rng.permutation(n), 0
        index = order[cursor:cursor + batch]
        cursor += batch
        yield x[index], y[index]


def fixed_batch(x: np.ndarray, y: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The same batch at every step (e.g. the measurement at t = 0 on chosen samples)."""
    while True:
        yield x, y


def training_steps(net: Network, optimizer, batches: Iterator[tuple[np.ndarray, np.ndarray]], loss,
                   steps: int) -> Iterator[Step]:
    """Yield steps t = 0..``steps``; the update of step t happens when the consumer asks for the next one.

    A consumer that stops early (``break``) leaves the parameters as they were at the last step
    it saw. ``optimizer`` may be None only when ``steps`` is 0 (nothing to update).
    """
    if steps < 0 or (optimizer is None and steps > 0):
        raise ValueError(f"steps must be >= 0 (and 0 without an optimizer), got {steps}")
    for t in range(steps + 1):
        x, y = next(batches)
        values, z, back = net.loss_and_backward(x, y, loss)
        lr = optimizer.schedule(t) if optimizer is not None else math.nan
        yield Step(t, t == steps, x, y, values, z, back, lr)
        if t < steps:
            optimizer.step(net.params, back.grads)


def run_loop(net: Network, optimizer, batches: Iterator[tuple[np.ndarray, np.ndarray]], loss, steps: int,
             observers: Iterable[Observer] = (), *, stop_on_divergence: bool = False) -> LoopOutcome:
    """Train ``net`` for ``steps`` updates, showing every step to ``observers`` in order.

    Args:
        stop_on_divergence: end the run (before its update) at the first step whose batch loss
            is not finite; otherwise the run goes on and the observers see the non-finite values.
    Returns:
        the number of updates made and the first step with a non-finite batch loss.
    """
    observers = tuple(observers)
    diverged_at, updates = None, steps
    for step in training_steps(net, optimizer, batches, loss, steps):
        for observer in observers:
            observer.observe(step, net)
        if diverged_at is None and not math.isfinite(step.loss):
            diverged_at = step.t
            if stop_on_divergence:
                updates = step.t
                break
    return LoopOutcome(updates, diverged_at)
