"""Result value objects shared by theory, Monte Carlo, training, verify, CLI and report.

All are frozen dataclasses that serialize to plain JSON (``to_dict``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from scipy.special import ndtri

__all__ = ["json_default", "Estimate", "Evidence", "Verdict", "HOLDS", "VIOLATED", "INCONCLUSIVE", "INFO", "combine", "EXIT_CODES"]

def json_default(value):
    """``json.dumps(default=...)`` for numpy scalars and arrays, used by every JSON writer."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serializable: {type(value).__name__}")


HOLDS, VIOLATED, INCONCLUSIVE, INFO = "holds", "violated", "inconclusive", "info"
EXIT_CODES = {HOLDS: 0, VIOLATED: 1, INCONCLUSIVE: 3}


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo (or quadrature) estimate: never a bare number."""

    mean: float
    stderr: float
    n: int
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    seed: int | None = None

    @classmethod
    def from_moments(cls, mean: float, stderr: float, n: int, confidence: float, method: str,
                     seed: int | None = None) -> "Estimate":
        """A normal-approximation interval mean ± z_{(1+c)/2} · stderr."""
        half = float(ndtri(0.5 + confidence / 2)) * stderr
        return cls(float(mean), float(stderr), int(n), float(mean - half), float(mean + half), confidence, method, seed)

    @property
    def sign(self) -> int:
        """+1 / -1 if the interval excludes 0, else 0 (unresolved)."""
        if self.ci_low > 0:
            return 1
        if self.ci_high < 0:
            return -1
        return 0

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high

    def to_dict(self) -> dict:
        return {key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in asdict(self).items()}


@dataclass(frozen=True)
class Evidence:
    """One row of the verify table: a kind of evidence, its verdict and its numbers."""

    kind: str  # "symbolic", "mean-field", "montecarlo", "training"
    name: str
    verdict: str  # holds / violated / inconclusive / info
    summary: str
    numbers: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "verdict": self.verdict, "summary": self.summary,
                **{"numbers": self.numbers}}


def combine(verdicts: list[str]) -> str:
    """violated if any row is violated; holds if every deciding row holds; else inconclusive."""
    deciding = [v for v in verdicts if v != INFO]
    if VIOLATED in deciding:
        return VIOLATED
    if deciding and all(v == HOLDS for v in deciding):
        return HOLDS
    return INCONCLUSIVE


@dataclass(frozen=True)
class Verdict:
    """The answer of ``driftproof verify``: one verdict, the evidence rows, and how it was made."""

    verdict: str
    headline: str
    evidence: tuple[Evidence, ...]
    config: dict
    environment: dict

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "headline": self.headline,
                "evidence": [row.to_dict() for row in self.evidence],
                "config": self.config, "environment": self.environment}
