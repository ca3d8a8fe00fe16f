"""The mean field's finite-width gap, measured: is it the O(1/N) correction R4 leaves out?

R4 is exact only as the width N → ∞. When Monte Carlo resolves a gap between its estimate
and R4 at width N (|z| > 3), the gap is measured again at width N/2 with the same estimator,
sample count and an independent seed. A 1/N correction doubles when N halves, so

    ratio = gap(N/2) / gap(N)

should be about 2 (exponent log2(ratio) ≈ 1). The ratio's standard error comes from the two
estimates' standard errors by the delta method (first order, independent runs); the
interval is ratio ± 1.96·se at 95%. A ratio whose interval excludes 1 and whose gaps have
one sign says the gap shrinks with N; the measured exponent is reported either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..config import Config
from .compare import Comparison, compare_marginal
from .estimators import marginal

__all__ = ["GapTrend", "gap_trend", "RESOLVED_Z", "MIN_HALF_WIDTH"]

RESOLVED_Z = 3.0  # |z| above which a gap is resolved, not noise
MIN_HALF_WIDTH = 8
Z95 = 1.959963984540054


@dataclass(frozen=True)
class GapTrend:
    """The gap estimate − R4 at widths N and N/2 for one layer, and their ratio (1/N predicts 2)."""

    layer: int
    width: int
    gap: float
    gap_stderr: float
    half_width: int
    half_gap: float
    half_gap_stderr: float
    samples: int
    seed: int

    @property
    def ratio(self) -> float:
        return self.half_gap / self.gap if self.gap != 0 else math.nan

    @property
    def ratio_stderr(self) -> float:
        """Delta method for a ratio of independent estimates."""
        if self.gap == 0:
            return math.nan
        r = self.ratio
        return abs(r) * math.hypot(self.half_gap_stderr / self.half_gap if self.half_gap else math.inf,
                                   self.gap_stderr / self.gap)

    @property
    def exponent(self) -> float:
        """log2(ratio): 1 for a 1/N gap; nan when the gaps differ in sign."""
        return math.log2(self.ratio) if self.ratio > 0 else math.nan

    @property
    def shrinks(self) -> bool:
        """The gap at N/2 is larger than at N at 95% (ratio interval above 1, gaps of one sign)."""
        return self.ratio > 0 and self.ratio - Z95 * self.ratio_stderr > 1.0

    def to_dict(self) -> dict:
        out = {key: value for key, value in self.__dict__.items()}
        out.update(ratio=self.ratio, ratio_stderr=self.ratio_stderr, exponent=self.exponent,
                   confidence=0.95, shrinks=self.shrinks)
        return {key: (None if isinstance(v, float) and not math.isfinite(v) else v) for key, v in out.items()}


def gap_trend(config: Config, comparisons: list[Comparison], *, method: str, samples: int,
              alpha: float, progress=None) -> list[GapTrend]:
    """For each layer whose gap to R4 is resolved at width N, the same gap at N/2 (one extra run)."""
    resolved = [c for c in comparisons if c.max_abs_z is not None and c.max_abs_z > RESOLVED_Z]
    half = config.width // 2
    if not resolved or half < MIN_HALF_WIDTH:
        return []
    half_config = replace(config, width=half, seed=config.seed + 1)
    half_result = marginal(half_config, method=method, samples=samples, alpha=alpha, progress=progress)
    half_comparisons = compare_marginal(half_config, half_result)
    trends = []
    for index, (full, small) in enumerate(zip(comparisons, half_comparisons)):
        if full.max_abs_z is None or full.max_abs_z <= RESOLVED_Z:
            continue
        trends.append(GapTrend(index + 1, config.width, full.estimate - full.prediction, full.stderr, half,
                               small.estimate - small.prediction, small.stderr, samples, half_config.seed))
    return trends
