"""The sequential sign test's parts: Holm, the batch schedule, running moments, verdicts, budgets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import family_error_rates, pvalue_lists, row_blocks, seeds

from driftproof.config import Config
from driftproof.montecarlo import conditional
from driftproof.montecarlo.signtest import Moments, SignTest, holm, schedule, signs
from driftproof.results import HOLDS, INCONCLUSIVE, VIOLATED



@given(pvalue_lists, family_error_rates)
def test_holm_is_between_bonferroni_and_unadjusted(pvalues, alpha):
    p = np.array(pvalues)
    rejected = holm(p, alpha)
    assert np.all(rejected[p <= alpha / len(p)])  # Bonferroni rejections are Holm rejections
    assert not np.any(rejected[p > alpha])  # never rejects beyond the unadjusted level
    if rejected.any():  # step-down: every smaller p-value is rejected too
        assert np.all(rejected[p < p[rejected].max()])


def test_holm_example():
    # m = 3, α = 0.05: thresholds 0.0167, 0.025, 0.05 -> 0.01 and 0.02 rejected, then 0.04 < 0.05 too.
    assert holm(np.array([0.04, 0.01, 0.02]), 0.05).tolist() == [True, True, True]
    assert holm(np.array([0.03, 0.01, 0.2]), 0.05).tolist() == [False, True, False]


@given(st.integers(1, 10**6), st.integers(1, 5000), st.integers(1, 5000))
def test_schedule_spends_exactly_the_budget(budget, first, largest):
    sizes = schedule(budget, first, largest)
    assert sum(sizes) == budget and all(0 < s <= max(1, largest) for s in sizes)


@given(row_blocks, seeds)
def test_moments_match_numpy(blocks, seed):
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal((n, 3)) * 10 + 1e3 for n in blocks]
    moments = Moments(3)
    for block in data:
        moments.add(block)
    whole = np.concatenate(data)
    assert moments.n == len(whole)
    np.testing.assert_allclose(moments.mean, whole.mean(0), rtol=1e-12)
    if len(whole) > 1:
        np.testing.assert_allclose(moments.variance, whole.var(0, ddof=1), rtol=1e-8)


def test_signs_and_verdicts():
    mean, stderr = np.array([1.0, -1.0, 1e-3, 0.0]), np.array([0.1, 0.1, 1.0, 0.0])
    sign = signs(mean, stderr, 1e-6)
    assert sign.tolist() == [1, -1, 0, 0]
    test = SignTest.from_signs(sign, np.arange(4), 1e-6, 1, 100, 100)
    assert (test.positive, test.negative, test.unresolved, test.verdict) == (1, 1, 2, VIOLATED)
    assert test.negative_units == (1,) and test.unresolved_units == (2, 3)
    assert SignTest.from_signs(np.array([1, 1]), np.arange(2), 1e-6, 1, 9, 9).verdict == HOLDS
    assert SignTest.from_signs(np.array([1, 0]), np.arange(2), 1e-6, 1, 9, 9).verdict == INCONCLUSIVE


def test_small_budget_is_inconclusive_not_a_guess():
    # seed 0, width 256, CE, naive, budget 64: units with p_i near 0 cannot resolve -> inconclusive,
    # and every tested unit is counted.
    result = conditional(Config(loss="ce", act="gelu", seed=0), method="naive", samples=64)
    test = result.sign_test
    assert test.verdict == INCONCLUSIVE and test.unresolved > 0 and test.negative == 0
    assert test.positive + test.negative + test.unresolved == test.tested == len(result.tested)
    assert len(test.unresolved_units) == test.unresolved


def test_stops_early_once_resolved():
    # Antithetic, seed 1, width 32: every sign resolves at the first look (1024 samples of 20000).
    result = conditional(Config(loss="mse", act="relu", width=32, classes=4, seed=1), method="antithetic",
                         samples=20000)
    assert result.verdict == HOLDS and result.sign_test.samples == 1024 and result.sign_test.looks == 1


@pytest.mark.parametrize("alpha", [1e-2, 1e-9])
def test_alpha_is_recorded(alpha):
    result = conditional(Config(loss="mse", act="relu", width=16, classes=3), method="cv", samples=256,
                         alpha=alpha)
    assert result.sign_test.alpha == pytest.approx(alpha) and result.pooled.confidence == 1 - alpha


def test_exactly_zero_units_are_their_own_category():
    """δ_i = 0 in every sample (σ'(p_i) = 0) is a proved zero, not an unresolved unit."""
    from driftproof.results import ZERO

    zero = np.array([False, False, True, True])
    test = SignTest.from_signs(np.array([1, 1, 0, 0]), np.arange(4), 1e-6, 1, 100, 100, zero=zero)
    assert (test.positive, test.zero, test.unresolved, test.verdict) == (2, 2, 0, HOLDS)
    assert test.zero_units == (2, 3) and test.unresolved_units == ()
    assert SignTest.from_signs(np.zeros(3, int), np.arange(3), 1e-6, 1, 9, 9, zero=np.ones(3, bool)).verdict == ZERO
    # a unit that is resolved cannot also be called zero
    assert SignTest.from_signs(np.array([-1]), np.arange(1), 1e-6, 1, 9, 9, zero=np.array([True])).verdict == VIOLATED


def test_clipped_units_beyond_the_clip_resolve_as_zero():
    """clipped_relu2(c=1), CE, width 64, seed 0, antithetic: units with p_i > 1 have σ' = 0, so δ_i = 0."""
    config = Config(loss="ce", act="clipped_relu2(c=1)", width=64)
    result = conditional(config, method="antithetic", samples=512, alpha=1e-6)
    beyond = {i for i in result.tested if result.p[i] > 1}
    assert beyond and set(result.sign_test.zero_units) == beyond
    assert result.verdict == HOLDS and result.sign_test.unresolved == 0
