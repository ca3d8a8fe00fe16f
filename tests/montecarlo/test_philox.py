"""The counter-based generator: Philox4x64-10 bit for bit against numpy.random.Philox, and the
distributions drawn from it (moments, Kolmogorov–Smirnov against scipy) at stated seeds and sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from numba import njit, prange
from scipy import stats

from driftproof.montecarlo.philox import KIND_CODES, STREAM, philox, unit_draw
from driftproof.montecarlo.normals import CHUNK
from driftproof.montecarlo.streams import weight_row
from strategies import philox_words

U = np.uint64


@njit(cache=True)
def _philox(k0, k1, c0, c1, c2, c3):
    return philox(k0, k1, c0, c1, c2, c3)


@given(philox_words())
def test_philox_matches_numpy_bit_for_bit(words):
    """numpy's Philox(key, counter).random_raw(4) is philox(key, counter + 1): numpy increments first."""
    k0, k1, c0, c1, c2, c3 = words
    generator = np.random.Philox(key=np.array([k0, k1], dtype=np.uint64),
                                 counter=np.array([c0, c1, c2, c3], dtype=np.uint64))
    expected = generator.random_raw(8)
    counter = (c0 + (c1 << 64) + (c2 << 128) + (c3 << 192)) % 2**256
    for block in range(2):
        n = (counter + 1 + block) % 2**256
        got = _philox(U(k0), U(k1), *(U((n >> (64 * i)) & (2**64 - 1)) for i in range(4)))
        assert list(got) == [int(v) for v in expected[4 * block:4 * block + 4]]


@njit(cache=True, parallel=True)
def _fill(kind, param, seed, out):
    k0 = U(seed)
    for b in prange(out.size // 4):
        words = philox(k0, STREAM, U(b), U(5), U(0), U(0))
        for lane in range(4):
            out[4 * b + lane] = unit_draw(kind, param, words[lane], k0, STREAM, U(4 * b + lane), U(5), U(0))


_T = np.sqrt  # scale of a unit-variance t(ν): sqrt((ν - 2) / ν)
REFERENCE = {
    ("normal", None): (stats.norm(), 0.0),
    ("uniform", None): (stats.uniform(-np.sqrt(3), 2 * np.sqrt(3)), -1.2),
    ("truncated_normal", None): (stats.truncnorm(-2, 2, scale=1 / 0.8796256610342398), None),
    ("laplace", None): (stats.laplace(scale=1 / np.sqrt(2)), 3.0),
    ("student_t", 5.0): (stats.t(5, scale=_T(3 / 5)), 6.0),
    ("student_t", 3.0): (stats.t(3, scale=_T(1 / 3)), None),
    ("student_t", 2.5): (stats.t(2.5, scale=_T(0.5 / 2.5)), None),
}
N_MOMENTS = 1 << 21  # seed 20250101; standard errors: mean 7e-4, variance ~1.5e-3 (normal)
N_KS = 200_000


@pytest.mark.parametrize("kind,nu", list(REFERENCE))
def test_generated_distributions(kind, nu):
    """Mean within 5 standard errors of 0, variance of 1 within 1% (t: heavy tails, 5%), kurtosis
    where finite within 0.1, and KS p > 1e-4 against scipy on the first 200,000 draws."""
    out = np.empty(N_MOMENTS)
    _fill(KIND_CODES[kind], nu or 0.0, 20250101, out)
    distribution, excess = REFERENCE[(kind, nu)]
    assert abs(out.mean()) < 5 / np.sqrt(N_MOMENTS) * (2.0 if kind == "student_t" else 1.0)
    assert abs(out.var() - 1) < (0.05 if kind == "student_t" else 0.01)
    if excess is not None and not (kind == "student_t" and nu <= 5):
        assert abs(stats.kurtosis(out) - excess) < 0.1
    assert stats.kstest(out[:N_KS], distribution.cdf).pvalue > 1e-4


def test_rademacher_is_balanced_signs():
    out = np.empty(N_MOMENTS)
    _fill(KIND_CODES["rademacher"], 0.0, 3, out)
    assert set(np.unique(out)) == {-1.0, 1.0}
    assert abs(out.mean()) < 5 / np.sqrt(N_MOMENTS)


def test_normal_tail_is_reached():
    """The ziggurat's tail (|z| > 3.654, probability 2.6e-4) and wedges are sampled: tail mass within 5 se."""
    out = np.empty(N_MOMENTS)
    _fill(KIND_CODES["normal"], 0.0, 99, out)
    expected = 2 * stats.norm.sf(3.6541528853610088)
    observed = np.mean(np.abs(out) > 3.6541528853610088)
    assert abs(observed - expected) < 5 * np.sqrt(expected / N_MOMENTS)


def test_centered_rows_sum_to_zero_and_keep_the_variance():
    row, bits = np.empty(64), np.empty(CHUNK, np.uint32)
    rows = np.empty((4000, 64))
    for j in range(4000):
        weight_row(0, 0.0, 0.5, 0.0, True, 1, 2, 3, j, row, bits)
        rows[j] = row
    assert np.allclose(rows.sum(axis=1), 0.0, atol=1e-12)
    assert abs(rows.var() * 64 / 63 * 63 / 64 - 0.25) < 0.01


def test_shifted_rows_have_the_shift():
    row = np.empty(100_000)
    weight_row(0, 0.0, 1.0, 0.1, False, 5, 1, 0, 0, row, np.empty(CHUNK, np.uint32))
    assert abs(row.mean() - 0.1) < 5 / np.sqrt(row.size)


@njit(cache=True, parallel=True)
def _normal_rows(seed, width, out):
    for j in prange(out.shape[0]):
        bits = np.empty(CHUNK, np.uint32)
        weight_row(0, 0.0, 1.0, 0.0, False, seed, 1, 0, j, out[j, :width], bits)


@pytest.mark.parametrize("width", [256, 13])
def test_weight_rows_are_standard_normal(width):
    """The weights' normals (32 bits each, 8 per Philox block, a partial block at the row's end when
    width = 13), seed 20250102, 2^21 draws: mean within 5 se of 0, variance of 1 within 1%, excess
    kurtosis within 0.1, tail mass beyond the ziggurat's r within 5 se, KS p > 1e-4 on 200,000 draws."""
    rows = np.empty((N_MOMENTS // width + 1, width))
    _normal_rows(20250102, width, rows)
    out = rows.reshape(-1)[:N_MOMENTS]
    assert abs(out.mean()) < 5 / np.sqrt(N_MOMENTS)
    assert abs(out.var() - 1) < 0.01
    assert abs(stats.kurtosis(out)) < 0.1
    expected = 2 * stats.norm.sf(3.6541528853610088)
    assert abs(np.mean(np.abs(out) > 3.6541528853610088) - expected) < 5 * np.sqrt(expected / N_MOMENTS)
    assert stats.kstest(out[:N_KS], stats.norm.cdf).pvalue > 1e-4


def test_neighbouring_weights_are_uncorrelated():
    """Seed 7, 4096 rows of 256: the two halves of one Philox word (entries 2m, 2m+1) and neighbouring
    words are uncorrelated: |r| < 5 / sqrt(n) for lags 1, 2 and 8."""
    rows = np.empty((4096, 256))
    _normal_rows(7, 256, rows)
    for lag in (1, 2, 8):
        a, b = rows[:, :-lag].reshape(-1), rows[:, lag:].reshape(-1)
        assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(a.size)
