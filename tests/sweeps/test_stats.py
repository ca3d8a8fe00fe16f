"""Spike statistics on hand-made arrays; the changepoint fit on planted cliffs."""

import math

import numpy as np
import pytest

from driftproof.sweeps.stats import HingeFit, fit_changepoint, fit_hinge, geometric_ratio, spike_stats


def test_spike_stats_by_hand():
    h = np.array([[0.0, 0.0, 1.0], [2.0, 1.0, 10.0]])  # active |h|: 1, 2, 1, 10 -> median 1.5
    s = spike_stats(h)
    assert s["max_abs"] == 10.0 and s["median_active"] == 1.5
    assert s["max_over_median"] == pytest.approx(10 / 1.5, rel=1e-15)
    assert s["active_frac"] == pytest.approx(4 / 6)
    values = h.ravel()
    c = values - values.mean()
    assert s["kurtosis"] == pytest.approx(np.mean(c**4) / np.mean(c**2) ** 2, rel=1e-12)


def test_kurtosis_known_values():
    assert spike_stats(np.array([1.0, -1.0, 1.0, -1.0]))["kurtosis"] == pytest.approx(1.0)  # two-point: 1
    rng = np.random.default_rng(0)
    assert spike_stats(rng.standard_normal(200_000))["kurtosis"] == pytest.approx(3.0, abs=0.05)  # Gaussian: 3
    # one spike among many equal values raises the kurtosis far above the Gaussian's
    spiky = np.ones(1000)
    spiky[0] = 100.0
    assert spike_stats(spiky)["kurtosis"] > 500
    assert spike_stats(-spiky)["max_over_median"] == pytest.approx(100.0)  # |h|, sign-blind


def test_spike_stats_undefined_is_nan():
    zero = spike_stats(np.zeros((4, 3)))
    assert math.isnan(zero["max_over_median"]) and math.isnan(zero["kurtosis"]) and zero["active_frac"] == 0


def _cliff(n, s0, seed, noise=0.01):
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.1, 0.97, n)
    y = 0.95 - 0.03 * s - 3.0 * np.maximum(s - s0, 0) + noise * rng.standard_normal(n)
    return s, y


@pytest.mark.parametrize("s0,seed", [(0.7, 1), (0.5, 2), (0.85, 3)])
def test_changepoint_recovers_planted_cliff(s0, seed):
    # 60 points, noise sd 0.01, seed as given: knot within 0.03, inside its bootstrap interval
    s, y = _cliff(60, s0, seed)
    fit = fit_changepoint(s, y, n_boot=300, seed=0)
    assert abs(fit.knot.mean - s0) < 0.03
    lo, hi = fit.knot.ci_low, fit.knot.ci_high
    assert lo <= s0 <= hi and hi - lo < 0.1
    assert fit.knot.method == "bootstrap" and fit.knot.seed == 0 and fit.knot.n == 60  # points, not resamples
    assert fit.slope_after.mean == pytest.approx(-3.03, abs=0.4)
    assert fit.delta_bic > 20
    assert HingeFit.from_dict(fit.to_dict()) == fit


def test_changepoint_on_a_line_sees_no_cliff():
    rng = np.random.default_rng(4)
    s = rng.uniform(0.1, 0.95, 60)
    y = 0.9 - 0.2 * s + 0.01 * rng.standard_normal(60)
    fit = fit_changepoint(s, y, n_boot=200, seed=0)
    assert fit.delta_bic < 6  # the extra knot does not pay for itself
    assert fit.slope_after.mean > -0.6


def test_hinge_is_exact_on_noiseless_data():
    s = np.linspace(0, 1, 41)
    y = 1.0 - np.maximum(s - 0.6, 0) * 2
    fit = fit_hinge(s, y, np.arange(0.1, 0.9, 0.025))
    assert fit["s0"] == pytest.approx(0.6) and fit["rss"] < 1e-18  # ridge 1e-12 in the normal equations
    assert fit["slope_before"] == pytest.approx(0.0, abs=1e-9) and fit["slope_after"] == pytest.approx(-2.0)


def test_changepoint_refuses_too_few_points():
    with pytest.raises(ValueError, match="at least 7 points"):
        fit_changepoint([0.1, 0.2, 0.3], [1, 1, 0])


def test_geometric_ratio():
    r = geometric_ratio([4.0, 9.0, 16.0, 25.0, 36.0], [1.0] * 5)
    assert r.mean == pytest.approx((4 * 9 * 16 * 25 * 36) ** (1 / 5)) and r.ci_low < r.mean < r.ci_high
    assert r.values == (4.0, 9.0, 16.0, 25.0, 36.0) and r.n == 5
    three = geometric_ratio([4.0, 9.0, 16.0], [1.0, 1.0, 1.0])  # fewer than 5 pairs: no interval
    assert three.mean == pytest.approx((4 * 9 * 16) ** (1 / 3)) and not three.defined and three.n == 3
    assert "no interval (n = 3 < 5)" in three.method
    one = geometric_ratio([2.0, None, math.nan], [1.0, 1.0, 1.0])
    assert one.n == 1 and one.mean == 2.0 and not one.defined
