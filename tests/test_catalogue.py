"""The catalogue: at least 60 named activations, each formula checked against an independent mpmath
implementation written from its paper or framework (σ at 50 digits, σ' by mpmath's numerical
differentiation, never SymPy's), at points away from kinks; and every entry has a family and source."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from driftproof.activations import builtin_names, get_activation
from driftproof.catalogue import CATALOGUE

sig = lambda v: 1 / (1 + mp.exp(-v))  # noqa: E731
sp_ = lambda v: mp.log(1 + mp.exp(v))  # noqa: E731
relu = lambda v: max(v, 0)  # noqa: E731
gelu = lambda v: v * mp.ncdf(v)  # noqa: E731
clip = lambda v, lo, hi: min(max(v, lo), hi)  # noqa: E731
SELU_A, SELU_S = mp.mpf("1.6732632423543772"), mp.mpf("1.0507009873554805")

REFERENCE = {
    "relu": relu, "leaky_relu": lambda v: v if v >= 0 else 0.01 * v,
    "elu": lambda v: v if v >= 0 else mp.expm1(v), "gelu": gelu,
    "gelu_tanh": lambda v: v / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (v + 0.044715 * v**3))),
    "silu": lambda v: v * sig(v), "softplus": sp_, "mish": lambda v: v * mp.tanh(sp_(v)),
    "relu2": lambda v: relu(v) ** 2, "clipped_relu2": lambda v: min(relu(v) ** 2, 50), "gelu2": lambda v: gelu(v) ** 2,
    "tanh": mp.tanh, "identity": lambda v: v,
    "relu6": lambda v: clip(v, 0, 6), "selu": lambda v: SELU_S * (v if v >= 0 else SELU_A * mp.expm1(v)),
    "celu": lambda v: v if v >= 0 else mp.expm1(v), "prelu": lambda v: v if v >= 0 else 0.25 * v,
    "rrelu": lambda v: v if v >= 0 else v * (mp.mpf(1) / 8 + mp.mpf(1) / 3) / 2,
    "hardtanh": lambda v: clip(v, -1, 1), "hard_sigmoid": lambda v: clip(v / 6 + mp.mpf(1) / 2, 0, 1),
    "hardswish": lambda v: v * clip(v + 3, 0, 6) / 6, "logsigmoid": lambda v: mp.log(sig(v)),
    "sigmoid": sig, "softsign": lambda v: v / (1 + abs(v)), "tanhshrink": lambda v: v - mp.tanh(v),
    "softshrink": lambda v: v - 0.5 if v > 0.5 else (v + 0.5 if v < -0.5 else 0),
    "hardshrink": lambda v: v if abs(v) > 0.5 else 0, "threshold": lambda v: v if v > 1 else 0,
    "exponential": mp.exp, "softplus_beta": lambda v: mp.log(1 + mp.exp(2 * v)) / 2,
    "squareplus": lambda v: (v + mp.sqrt(v * v + 4)) / 2,
    "sparse_plus": lambda v: 0 if v <= -1 else (v if v >= 1 else (v + 1) ** 2 / 4),
    "sparse_sigmoid": lambda v: clip((v + 1) / 2, 0, 1), "quick_gelu": lambda v: v * sig(1.702 * v),
    "swish": lambda v: v * sig(v), "lisht": lambda v: v * mp.tanh(v), "logish": lambda v: v * mp.log(1 + sig(v)),
    "serf": lambda v: v * mp.erf(sp_(v)), "tanhexp": lambda v: v * mp.tanh(mp.exp(v)),
    "smish": lambda v: v * mp.tanh(mp.log(1 + sig(v))), "phish": lambda v: v * mp.tanh(gelu(v)),
    "dsilu": lambda v: sig(v) * (1 + v * (1 - sig(v))),
    "elish": lambda v: v * sig(v) if v >= 0 else mp.expm1(v) * sig(v),
    "hard_elish": lambda v: (v if v >= 0 else mp.expm1(v)) * clip((v + 1) / 2, 0, 1),
    "bent_identity": lambda v: (mp.sqrt(v * v + 1) - 1) / 2 + v, "isru": lambda v: v / mp.sqrt(1 + v * v),
    "isrlu": lambda v: v if v >= 0 else v / mp.sqrt(1 + v * v),
    "penalized_tanh": lambda v: mp.tanh(v) if v > 0 else 0.25 * mp.tanh(v), "gaussian": lambda v: mp.exp(-v * v),
    "erf": mp.erf, "arctan": mp.atan, "asinh": mp.asinh, "sine": mp.sin, "cosine": mp.cos,
    "gcu": lambda v: v * mp.cos(v), "snake": lambda v: v + mp.sin(v) ** 2,
    "sqnl": lambda v: 1 if v > 2 else (v - v * v / 4 if v >= 0 else (v + v * v / 4 if v >= -2 else -1)),
    "relu3": lambda v: relu(v) ** 3, "star_relu": lambda v: 0.8944 * relu(v) ** 2 - 0.4472,
    "bsilu": lambda v: (v + 1.67) * sig(v) - 1.67 / 2,
    "xielu": lambda v: 0.8 * v * v + 0.5 * v if v > 0 else 0.8 * (mp.expm1(v) - v) + 0.5 * v,
}
POINTS = (-7.3, -3.7, -2.4, -1.3, -0.77, -0.2, 0.15, 0.6, 1.4, 2.3, 4.1, 8.2)


def test_the_catalogue_has_at_least_60_activations_each_with_family_and_source():
    names = builtin_names()
    assert len(names) >= 60 and set(names) == set(CATALOGUE)
    assert all(CATALOGUE[n].family and CATALOGUE[n].source for n in names)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_formula_matches_an_independent_mpmath_implementation(name):
    act = get_activation(name)
    points = np.array(POINTS)
    with mp.workdps(50):
        want = np.array([float(REFERENCE[name](mp.mpf(v))) for v in POINTS])
        want_d = np.array([float(mp.diff(REFERENCE[name], mp.mpf(v))) for v in POINTS])
    assert np.allclose(act.numpy(points), want, rtol=1e-11, atol=1e-13), name
    assert np.allclose(act.numpy_derivative(points), want_d, rtol=1e-9, atol=1e-11), name


def test_every_catalogue_name_has_a_reference():
    assert set(REFERENCE) == set(CATALOGUE)
