"""Running moments and the sequential sign test (DESIGN.md §4): Holm across units, Bonferroni across looks.

A look after each batch tests every unit's mean against 0. The error rate α is split evenly
over the looks the budget allows (the batch schedule is fixed in advance), and within one
look Holm's step-down procedure controls the family-wise error over the tested units. A unit
whose sign is not established when the budget is spent stays *unresolved*: it is counted,
never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import HOLDS, INCONCLUSIVE, VIOLATED, ZERO

__all__ = ["Moments", "SignTest", "holm", "schedule", "MIN_SAMPLES"]

MIN_SAMPLES = 32  # no look before this many samples: the normal approximation needs some


class Moments:
    """Per-column running mean and sum of squared deviations, merged batch by batch (Chan et al.)."""

    def __init__(self, columns: int):
        self.n = 0
        self.mean = np.zeros(columns)
        self.m2 = np.zeros(columns)

    def add(self, rows: np.ndarray) -> None:
        count = rows.shape[0]
        if count == 0:
            return
        mean = rows.mean(axis=0)
        m2 = ((rows - mean) ** 2).sum(axis=0)
        total = self.n + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * count / total)
        self.n = total

    @property
    def variance(self) -> np.ndarray:
        """Per-sample variance of each column."""
        return self.m2 / max(self.n - 1, 1)

    @property
    def stderr(self) -> np.ndarray:
        return np.sqrt(self.variance / max(self.n, 1))


def schedule(budget: int, first: int, largest: int) -> list[int]:
    """Batch sizes: doubling from ``first`` up to ``largest``, summing to ``budget``."""
    sizes, size, total = [], max(1, min(first, largest)), 0
    while total < budget:
        take = min(size, budget - total)
        sizes.append(take)
        total += take
        size = min(2 * size, largest)
    return sizes


def holm(pvalues: np.ndarray, alpha: float) -> np.ndarray:
    """Boolean mask of the hypotheses Holm's step-down procedure rejects at family-wise level α."""
    m = len(pvalues)
    order = np.argsort(pvalues, kind="stable")
    thresholds = alpha / (m - np.arange(m))
    passed = pvalues[order] <= thresholds
    stop = m if passed.all() else int(np.argmin(passed))
    rejected = np.zeros(m, dtype=bool)
    rejected[order[:stop]] = True
    return rejected


def signs(mean: np.ndarray, stderr: np.ndarray, alpha: float) -> np.ndarray:
    """+1 / -1 for the units whose mean differs from 0 under Holm at level α, 0 for the rest."""
    if len(mean) == 0:
        return np.zeros(0, dtype=int)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(stderr > 0, np.abs(mean) / stderr, np.where(mean != 0, np.inf, 0.0))
    from scipy.special import ndtr  # here, not at import: scipy.special costs ~0.2-0.5 s (scipy.stats ~0.7 s)

    pvalues = 2.0 * ndtr(-score)  # two-sided normal tail
    return np.where(holm(pvalues, alpha), np.sign(mean), 0).astype(int)


@dataclass(frozen=True)
class SignTest:
    """The outcome of a sequential sign test over ``tested`` units (or layers)."""

    alpha: float
    tested: int
    positive: int
    negative: int
    unresolved: int
    looks: int
    samples: int
    budget: int
    negative_units: tuple[int, ...] = ()
    unresolved_units: tuple[int, ...] = ()
    zero: int = 0  # units whose every sample was exactly 0 (e.g. sigma'(p_i) = 0 beyond a clip): E = 0, proved
    zero_units: tuple[int, ...] = ()

    @classmethod
    def from_signs(cls, sign: np.ndarray, index: np.ndarray, alpha: float, looks: int, samples: int,
                   budget: int, zero: np.ndarray | None = None) -> "SignTest":
        """``zero`` marks the units whose every sample was exactly 0: their own category, not unresolved."""
        zero = np.zeros(len(sign), dtype=bool) if zero is None else zero & (sign == 0)
        open_ = (sign == 0) & ~zero
        return cls(alpha, int(len(sign)), int((sign > 0).sum()), int((sign < 0).sum()), int(open_.sum()),
                   looks, samples, budget, tuple(int(i) for i in index[sign < 0]),
                   tuple(int(i) for i in index[open_]), int(zero.sum()), tuple(int(i) for i in index[zero]))

    @property
    def verdict(self) -> str:
        """violated if any tested unit is resolved negative; holds if every unit is positive or exactly
        zero (and at least one is positive: non-strictly if some are zero); zero if every unit is exactly
        zero; else inconclusive."""
        if self.negative:
            return VIOLATED
        if self.tested and self.zero == self.tested:
            return ZERO
        if self.tested and self.positive + self.zero == self.tested:
            return HOLDS
        return INCONCLUSIVE

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "tested": self.tested, "positive": self.positive, "negative": self.negative,
                "unresolved": self.unresolved, "looks": self.looks, "samples": self.samples, "budget": self.budget,
                "verdict": str(self.verdict), "negative_units": list(self.negative_units),
                "unresolved_units": list(self.unresolved_units), "zero": self.zero,
                "zero_units": list(self.zero_units)}
