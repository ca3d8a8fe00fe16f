"""When a training run has diverged: one rule, stated once, applied by every sweep, summary and claim.

**The rule.** A run has diverged when

1. any loss it recorded (a training batch, the final training-set or held-out evaluation) is not
   finite; or
2. its training loss, or its held-out loss on data whose labels can be learned, exceeds
   ``MULTIPLE`` (= 4) times the loss of the *reference predictor*: the best constant prediction
   that ignores the input. Cross-entropy over K classes: the uniform distribution, ln K nats
   (ln 10 = 2.303 on the digits; the threshold is 9.21 nats). MSE: the predictor of the mean
   target, whose loss is computed from the targets themselves (:func:`reference_loss`).

Why 4: a network that predicts the uniform distribution already scores 1x; an honestly trained or
even overfit classifier stays near or below it on its own training data. 4 x ln 10 = 9.2 nats is a
geometric-mean probability of 1e-4 on the true class, which no network that still learns reaches;
the runs this rule was written for (ReLU^2 and GELU^2 plain MLPs at He init on the digits) sit at
1.7e4 to 1.2e9 nats, three orders of magnitude above it, so the multiple is not a fine line.
The held-out loss counts only where labels can be learned (not for ``noise``: random labels, where a
network that memorizes its training set is confidently wrong on fresh samples by design and its
held-out loss may legitimately be many nats).

**The step.** The first step whose batch loss is not finite; else the first step of the final
stretch of steps whose batch loss stays above the threshold until the end; else (the end-of-run
evaluation alone crossed it) the last step. Diverged runs are named with that step, counted, and
left out of every statistic, figure and claim; a configuration where most seeds diverged is *not
measured* (:func:`divergence_summary`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MULTIPLE", "NOT_LEARNABLE", "reference_loss", "threshold", "divergence_step", "DivergenceCount",
           "divergence_summary", "RULE"]

MULTIPLE = 4.0
NOT_LEARNABLE = ("noise",)  # data sets with random labels: the held-out loss does not count
RULE = (f"diverged: a non-finite loss, or a training (or, on learnable labels, held-out) loss above "
        f"{MULTIPLE:g}x the constant predictor's (cross-entropy over K classes: {MULTIPLE:g} ln K; MSE: "
        f"{MULTIPLE:g}x the mean target's loss)")


def reference_loss(family: str, classes: int, y: np.ndarray | None = None, scale: float = 1.0) -> float:
    """The loss of the best input-free prediction: ln K for cross-entropy, the mean target's for MSE.

    Args:
        family: ``ce`` or ``mse``.
        classes: K, the number of outputs.
        y: the targets (MSE only): integer labels (n,) or real targets (n, K).
        scale: MSE's output scale (1 for the sum over outputs, 1/K for the mean), as ``Loss.output_scale``.
    """
    if family == "ce":
        return math.log(classes)
    if family != "mse":
        raise ValueError(f"no reference loss for the loss family {family!r}")
    if y is None:
        raise ValueError("the MSE reference loss needs the targets y")
    y = np.asarray(y)
    targets = np.eye(classes)[y] if y.ndim == 1 else y.astype(float)
    # loss 1/2 scale |z - y|^2 at the constant z = mean(y): half the scaled total variance of the targets
    return float(0.5 * scale * np.sum(np.var(targets, axis=0)))


def threshold(reference: float) -> float:
    return MULTIPLE * reference


def _too_high(value, limit: float) -> bool:
    return value is None or not math.isfinite(value) or value > limit


def divergence_step(batch_losses, reference: float, *, final_train: float | None = None,
                    final_test: float | None = None, learnable: bool = True, steps: int | None = None) -> int | None:
    """The step at which a run diverged under the rule of this module, or None if it did not.

    Args:
        batch_losses: the mean loss of each step's batch, steps 0, 1, ... (a run stopped early is shorter).
        reference: :func:`reference_loss` of the run's loss and data.
        final_train, final_test: the end-of-run evaluations (None: not finite, or not evaluated when
            ``batch_losses`` itself already diverged).
        learnable: False for random labels (the held-out loss then does not count).
        steps: the run's last step (default: the last batch's).
    """
    limit = threshold(reference)
    losses = np.asarray(batch_losses, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(losses))
    if len(bad):
        return int(bad[0])
    above = losses > limit
    last = (len(losses) - 1) if steps is None else steps
    if len(above) and above[-1]:
        below = np.flatnonzero(~above)
        return int(below[-1] + 1) if len(below) else 0
    if _too_high(final_train, limit) or (learnable and _too_high(final_test, limit)):
        return int(last)
    return None


@dataclass(frozen=True)
class DivergenceCount:
    """The seeds of one configuration: how many diverged, which, at which steps; measured or not."""

    n: int
    diverged_seeds: tuple[int, ...]
    steps: tuple[int, ...]

    @property
    def diverged(self) -> int:
        return len(self.diverged_seeds)

    @property
    def measured(self) -> bool:
        """False where most seeds diverged (or none ran): the configuration yields no number."""
        return self.n > 0 and 2 * self.diverged <= self.n

    def text(self) -> str:
        """``3 of 10 seeds diverged at steps 4-9`` (``0 of 10 seeds diverged``)."""
        if not self.diverged:
            return f"0 of {self.n} seeds diverged"
        low, high = min(self.steps), max(self.steps)
        at = f"step {low}" if low == high else f"steps {low}-{high}"
        return f"{self.diverged} of {self.n} seed{'s' if self.n != 1 else ''} diverged at {at}"

    def to_dict(self) -> dict:
        return {"n": self.n, "diverged": self.diverged, "diverged_seeds": list(self.diverged_seeds),
                "steps": list(self.steps), "measured": self.measured, "text": self.text()}

    @classmethod
    def from_dict(cls, data: dict) -> DivergenceCount:
        return cls(int(data["n"]), tuple(data["diverged_seeds"]), tuple(data["steps"]))


def divergence_summary(runs) -> DivergenceCount:
    """The count over ``runs`` (sweep results with ``job.seed``, ``diverged`` and ``diverged_at``)."""
    gone = sorted((r["job"]["seed"], r["diverged_at"]) for r in runs if r.get("diverged"))
    return DivergenceCount(len(runs), tuple(seed for seed, _ in gone),
                           tuple(step for _, step in gone if step is not None))
