"""The mean field's finite-width gap (issue 11, item 5): measured at N and N/2, it shrinks with N."""

import math

import numpy as np

from driftproof import mc
from driftproof.montecarlo.gap import GapTrend


def test_resolved_gaps_shrink_when_the_width_doubles():
    """ce/gelu, width 64, depth 3, cv, 4000 samples, seed 0 (and seed 1 at width 32): every layer
    whose gap to R4 is resolved (|z| > 3) has a gap at N/2 larger at 95% than at N."""
    check = mc("ce", "gelu", width=64, depth=3, mode="marginal", samples=4000, seed=0)
    resolved = [c for c in check.comparison if c.max_abs_z > 3]
    assert resolved, "at width 64 the gap is resolved in the deeper layers"
    assert len(check.trend) == len(resolved)
    for t in check.trend:
        assert t.width == 64 and t.half_width == 32 and t.samples == 4000
        assert np.sign(t.gap) == np.sign(t.half_gap)
        assert t.shrinks, t.to_dict()
    text = check.text()
    assert "1/N predicts 2" in text and "finite-width gap" in text
    assert check.to_dict()["finite_width_trend"][0]["confidence"] == 0.95


def test_no_trend_when_nothing_is_resolved():
    check = mc("ce", "relu", width=16, depth=2, mode="marginal", samples=200, seed=0)
    if all(c.max_abs_z <= 3 for c in check.comparison):
        assert check.trend == ()


def test_ratio_stderr_matches_simulated_ratio_spread():
    """Delta-method standard error of gap(N/2)/gap(N) against 200,000 simulated independent
    normal pairs (seed 3); tolerance 5% relative (the delta method is first order: small CV here)."""
    trend = GapTrend(2, 64, -0.0013, 0.00005, 32, -0.0055, 0.0002, 4000, 1)
    rng = np.random.default_rng(3)
    full = rng.normal(trend.gap, trend.gap_stderr, 200_000)
    half = rng.normal(trend.half_gap, trend.half_gap_stderr, 200_000)
    spread = float(np.std(half / full))
    assert math.isclose(trend.ratio_stderr, spread, rel_tol=0.05)
    assert math.isclose(trend.exponent, math.log2(0.0055 / 0.0013))
