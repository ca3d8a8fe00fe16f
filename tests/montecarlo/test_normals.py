"""The weights' normals (montecarlo/normals.py): Philox4x32-10 against Random123's known answers and a
plain-Python reference, the vectorized pass against the scalar one, the 1024-strip ziggurat's tables,
and the rows' distribution at stated seeds, sizes and tolerances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit, prange
from scipy import stats
from scipy.special import erfc

from driftproof.montecarlo.normals import CHUNK, _words, normal_row, philox4x32
from driftproof.montecarlo.philox import NARROW_R, NARROW_V, NARROW_X

U = np.uint64
MASK = 2**32 - 1

# Random123's kat_vectors for philox4x32 with 10 rounds: counter (4 words), key (2 words) -> output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK,) * 4, (MASK, MASK), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def reference_philox4x32(counter, key, rounds=10):
    """Philox4x32 from Salmon et al. (SC'11), in Python integers: the oracle for the Numba version."""
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for _ in range(rounds):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK, (p0 >> 32) ^ c3 ^ k1, p0 & MASK
        k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
    return c0, c1, c2, c3


@njit(cache=True)
def _philox4x32(k0, k1, c0, c1, c2, c3):
    return philox4x32(k0, k1, c0, c1, c2, c3)


@njit(cache=True)
def _row_words(k0, k1, first, c1, c2, c3, blocks, bits):
    _words(k0, k1, first, c1, c2, c3, blocks, bits)


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_philox4x32_known_answers(counter, key, expected):
    assert reference_philox4x32(counter, key) == expected
    assert tuple(int(w) for w in _philox4x32(*(U(k) for k in key), *(U(c) for c in counter))) == expected


@given(st.lists(st.integers(0, MASK), min_size=6, max_size=6))
def test_philox4x32_matches_the_reference(words):
    k0, k1, c0, c1, c2, c3 = words
    got = _philox4x32(U(k0), U(k1), U(c0), U(c1), U(c2), U(c3))
    assert tuple(int(w) for w in got) == reference_philox4x32((c0, c1, c2, c3), (k0, k1))


@pytest.mark.parametrize("blocks", [64, 5])
def test_vectorized_words_are_the_stream(blocks):
    """bits[4b + m] is word m of counter (first + b, c1, c2, c3): the row is Philox4x32-10's own stream."""
    bits = np.zeros(CHUNK, np.uint32)
    key, first, rest = (0x12345678, 0x9ABCDEF0), 2**32 - 3, (7, 0x1_0005, 99)  # the block counter wraps
    _row_words(U(key[0]), U(key[1]), first, *(U(c) for c in rest), blocks, bits)
    for b in range(blocks):
        expected = reference_philox4x32((((first + b) & MASK),) + rest, key)
        assert tuple(int(w) for w in bits[4 * b:4 * b + 4]) == expected


def _closing(r: float, layers: int) -> float:
    """v / x[N-1] + f(x[N-1]) - 1 for the strips built from r (0 when the top strip has area v)."""
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    v = r * f(r) + math.sqrt(math.pi / 2) * erfc(r / math.sqrt(2))
    x = r
    for _ in range(1, layers - 1):
        y = v / x + f(x)
        if y >= 1.0:
            return 1.0
        x = math.sqrt(-2.0 * math.log(y))
    return v / x + f(x) - 1.0


def test_narrow_ziggurat_tables_close():
    """r by bisection on the closing condition (the 1024th strip's area is v) agrees with NARROW_R to 1e-12,
    v is r f(r) + the tail, and 0.43% of words fall outside their rectangle."""
    lo, hi = 3.0, 5.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _closing(mid, 1024) > 0 else (lo, mid)
    assert abs(lo - NARROW_R) < 1e-12
    assert abs(_closing(NARROW_R, 1024)) < 1e-12
    assert NARROW_V == pytest.approx(NARROW_R * math.exp(-0.5 * NARROW_R**2)
                                     + math.sqrt(math.pi / 2) * erfc(NARROW_R / math.sqrt(2)), rel=1e-14)
    assert NARROW_X[-1] == 0.0 and NARROW_X[1] == NARROW_R
    outside = 1 - np.mean(NARROW_X[1:] / NARROW_X[:-1])
    assert 0.004 < outside < 0.0045


@njit(cache=True, parallel=True)
def _rows(seed, out):
    for j in prange(out.shape[0]):
        bits = np.empty(CHUNK, np.uint32)
        normal_row(seed, 16 + 0, 3, j, 1.0, 0.0, out[j], bits)


N_DRAWS = 1 << 21


@pytest.mark.parametrize("width", [256, 300, 7])
def test_rows_are_standard_normal(width):
    """Seed 20250103, 2^21 draws in rows of ``width`` (whole chunks, a partial one, a short row): mean within
    5 se of 0, variance of 1 within 1%, excess kurtosis within 0.1, mass beyond 3 and beyond the tail's
    r = 4.039 within 5 se of the normal's, KS p > 1e-4 on 200,000 draws."""
    rows = np.empty((N_DRAWS // width + 1, width))
    _rows(20250103, rows)
    out = rows.reshape(-1)[:N_DRAWS]
    assert abs(out.mean()) < 5 / np.sqrt(N_DRAWS)
    assert abs(out.var() - 1) < 0.01
    assert abs(stats.kurtosis(out)) < 0.1
    for edge in (3.0, NARROW_R):
        expected = 2 * stats.norm.sf(edge)
        assert abs(np.mean(np.abs(out) > edge) - expected) < 5 * np.sqrt(expected / N_DRAWS)
    assert stats.kstest(out[:200_000], stats.norm.cdf).pvalue > 1e-4


def test_entries_do_not_depend_on_the_row_length():
    """Entry i of a row is the same number in rows of 700, 300 and 10 entries (seed 4)."""
    bits = np.empty(CHUNK, np.uint32)
    rows = {}
    for n in (700, 300, 10):
        rows[n] = np.empty(n)
        normal_row(4, 17, 2**33 + 5, 9, 1.0, 0.0, rows[n], bits)
    assert np.array_equal(rows[700][:300], rows[300]) and np.array_equal(rows[300][:10], rows[10])


def test_scale_and_shift_are_applied_to_redrawn_entries_too():
    """std * N + shift for every entry, the fast path's and the redrawn ones' (seed 8, 20,000 entries)."""
    bits = np.empty(CHUNK, np.uint32)
    unit, scaled = np.empty(20_000), np.empty(20_000)
    normal_row(8, 16, 0, 1, 1.0, 0.0, unit, bits)
    normal_row(8, 16, 0, 1, 0.5, 2.0, scaled, bits)
    assert np.allclose(scaled, 0.5 * unit + 2.0, rtol=0, atol=1e-15)
