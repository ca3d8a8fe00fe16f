"""Monte Carlo results: frozen dataclasses that serialize to JSON (STYLE.md rule 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import Estimate
from .signtest import SignTest

__all__ = ["ConditionalResult", "LayerResult", "MarginalResult"]


@dataclass(frozen=True)
class ConditionalResult:
    """E[δ^l_i | p^l] per unit of one layer, the downstream weights (and labels) resampled.

    ``units`` has one Estimate per unit; ``tested`` are the units with p_i > 0 (the claim's
    domain); ``pooled`` is the mean over the tested units; ``variance_reduction`` is
    Σ Var(naive) / Σ Var(method) over the tested units, from the same samples (cv only).
    """

    config: dict
    layer: int
    method: str
    p: np.ndarray
    units: tuple[Estimate, ...]
    tested: tuple[int, ...]
    pooled: Estimate
    sign_test: SignTest
    variance_reduction: float | None
    seed: int
    seconds: float  # sampling alone
    load_seconds: float = 0.0  # loading (or compiling) the kernels, before the first batch

    @property
    def means(self) -> np.ndarray:
        return np.array([unit.mean for unit in self.units])

    @property
    def stderrs(self) -> np.ndarray:
        return np.array([unit.stderr for unit in self.units])

    @property
    def verdict(self) -> str:
        return self.sign_test.verdict

    def to_dict(self) -> dict:
        return {"mode": "conditional", "config": self.config, "layer": self.layer, "method": self.method,
                "seed": self.seed, "seconds": self.seconds, "load_seconds": self.load_seconds, "p": self.p.tolist(),
                "pooled": self.pooled.to_dict(), "sign_test": self.sign_test.to_dict(), "verdict": self.verdict,
                "variance_reduction": self.variance_reduction, "tested": list(self.tested),
                "units": [{"mean": u.mean, "stderr": u.stderr, "ci_low": u.ci_low, "ci_high": u.ci_high}
                          for u in self.units]}


@dataclass(frozen=True)
class LayerResult:
    """Marginal estimates for one hidden layer, pooled over units and networks.

    ``delta_given_positive`` estimates E[δ^l_i | p^l_i > 0] (a ratio estimator: Σ δ 1{p>0} / Σ 1{p>0});
    ``delta_mean`` estimates E[δ^l_i]; ``fraction_positive`` estimates P(p^l_i > 0).
    """

    layer: int
    delta_given_positive: Estimate
    delta_mean: Estimate
    fraction_positive: Estimate
    variance_reduction: float | None

    def to_dict(self) -> dict:
        return {"layer": self.layer, "delta_given_positive": self.delta_given_positive.to_dict(),
                "delta_mean": self.delta_mean.to_dict(), "fraction_positive": self.fraction_positive.to_dict(),
                "variance_reduction": self.variance_reduction}


@dataclass(frozen=True)
class MarginalResult:
    """Everything resampled (inputs, every weight, labels): one LayerResult per hidden layer."""

    config: dict
    method: str
    layers: tuple[LayerResult, ...]
    sign_test: SignTest  # over the layers' pooled E[δ | p > 0]
    seed: int
    seconds: float  # sampling alone
    load_seconds: float = 0.0  # loading (or compiling) the kernels, before the first batch

    @property
    def verdict(self) -> str:
        return self.sign_test.verdict

    def to_dict(self) -> dict:
        return {"mode": "marginal", "config": self.config, "method": self.method, "seed": self.seed,
                "seconds": self.seconds, "load_seconds": self.load_seconds,
                "layers": [layer.to_dict() for layer in self.layers],
                "sign_test": self.sign_test.to_dict(), "verdict": self.verdict}
