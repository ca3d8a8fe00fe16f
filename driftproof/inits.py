"""The initialization registry: zero-mean distributions, scale rules, and two controls.

Every distribution is rescaled to the requested variance. The controls break one
assumption of the sign argument (R3) each: ``shifted`` is not zero-mean, ``centered``
(rows shifted to sum to zero, as weight standardization does) has dependent entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import InputError
from .specs import format_spec, parse_number, parse_spec, with_defaults

__all__ = ["Init", "Scale", "INITS", "SCALES", "get_init", "get_scale"]



@lru_cache(maxsize=None)
def _truncation() -> tuple[float, float, float]:
    """(Φ(-2), Φ(2), the std of N(0,1) cut at ±2), on first use: scipy.special stays off the import path
    of the commands that never draw a truncated normal (it costs ~0.2-0.5 s at import)."""
    from scipy.special import ndtr

    lo, hi = float(ndtr(-2.0)), float(ndtr(2.0))
    # Var of N(0,1) cut at +-2: 1 - 2*2*phi(2) / (Phi(2) - Phi(-2))
    return lo, hi, float(np.sqrt(1.0 - 4.0 * np.exp(-2.0) / np.sqrt(2 * np.pi) / (hi - lo)))


def _unit(name: str, params: dict, rng: np.random.Generator, shape) -> np.ndarray:
    """Zero-mean, unit-variance draws of the named base distribution."""
    if name in ("normal", "shifted", "centered"):
        return rng.standard_normal(shape)
    if name == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), shape)
    if name == "truncated_normal":
        from scipy.special import ndtri

        lo, hi, std = _truncation()
        return ndtri(rng.uniform(lo, hi, shape)) / std  # inverse-CDF sampling
    if name == "laplace":
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), shape)
    if name == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=shape)
    if name == "student_t":
        nu = params["nu"]
        return rng.standard_t(nu, shape) * np.sqrt((nu - 2.0) / nu)
    raise AssertionError(name)


# name -> (default params, description, kurtosis of the unit distribution or None)
_DISTRIBUTIONS = {
    "normal": ({}, "N(0, s^2)"),
    "uniform": ({}, "U(-a, a), a = s*sqrt(3)"),
    "truncated_normal": ({}, "N(0,1) cut at +-2 sigma, rescaled to variance s^2"),
    "laplace": ({}, "Laplace, variance s^2"),
    "rademacher": ({}, "+-s with probability 1/2"),
    "student_t": ({"nu": 5.0}, "Student t(nu), nu > 2, rescaled to variance s^2"),
    "shifted": ({"mean": 0.1}, "control: N(mean, s^2), not zero-mean"),
    "centered": ({}, "control: N(0, s^2) rows shifted to sum to zero (dependent entries)"),
}


@dataclass(frozen=True)
class Init:
    """A weight distribution D: zero mean (except ``shifted``), variance s^2 per entry."""

    name: str
    params: tuple[tuple[str, float], ...] = ()

    @property
    def kind(self) -> str:
        return self.name.split("(")[0]

    @property
    def mean_shift(self) -> float:
        """E[W_ij] in units of... none: the absolute mean (``shifted`` only)."""
        return dict(self.params).get("mean", 0.0) if self.kind == "shifted" else 0.0

    @property
    def zero_mean(self) -> bool:
        return self.mean_shift == 0.0

    @property
    def independent(self) -> bool:
        return self.kind != "centered"

    @property
    def gaussian(self) -> bool:
        """Stein's lemma applies (R2, R4): normal, shifted and centered are jointly Gaussian."""
        return self.kind in ("normal", "shifted", "centered")

    def covariance(self, std: float, fan_in: int) -> tuple[float, float]:
        """(Var W_ij, Cov(W_ij, W_ik) for j != k) within one row."""
        if self.kind == "centered":
            return std**2, -std**2 / (fan_in - 1)
        return std**2, 0.0

    def sample(self, rng: np.random.Generator, shape: tuple[int, int], std: float) -> np.ndarray:
        """A weight matrix of shape (fan_out, fan_in) with entries of variance std^2."""
        params = dict(self.params)
        draws = _unit(self.kind, params, rng, shape)
        if self.kind == "centered":
            fan_in = shape[-1]
            draws = (draws - draws.mean(axis=-1, keepdims=True)) * np.sqrt(fan_in / (fan_in - 1.0))
        return std * draws + self.mean_shift

    def describe(self) -> str:
        return _DISTRIBUTIONS[self.kind][1]


@dataclass(frozen=True)
class Scale:
    """A scale rule: the per-entry standard deviation of a layer's weights."""

    name: str
    value: float | None = None  # the explicit std for ``std=<float>``

    def std(self, fan_in: int, fan_out: int) -> float:
        if self.name == "he":
            return float(np.sqrt(2.0 / fan_in))
        if self.name == "lecun":
            return float(np.sqrt(1.0 / fan_in))
        if self.name == "glorot":
            return float(np.sqrt(2.0 / (fan_in + fan_out)))
        return float(self.value)


INITS = _DISTRIBUTIONS
SCALES = {"he": "s^2 = 2/fan_in", "lecun": "s^2 = 1/fan_in", "glorot": "s^2 = 2/(fan_in+fan_out)",
          "std=<float>": "an explicit standard deviation"}


def get_init(spec: str) -> Init:
    """The initialization named by ``spec``, e.g. ``normal``, ``student_t(nu=4)``, ``shifted(mean=0.05)``."""
    name, params = parse_spec(spec, "init")
    if name not in _DISTRIBUTIONS:
        raise InputError(f"unknown init {name!r} (choose from {', '.join(_DISTRIBUTIONS)})")
    defaults = _DISTRIBUTIONS[name][0]
    values = with_defaults("init", name, params, defaults)
    if name == "student_t" and values["nu"] <= 2:
        raise InputError(f"student_t needs nu > 2 for a finite variance, got nu={values['nu']:g}")
    return Init(format_spec(name, values) if values else name, tuple(values.items()))


def get_scale(spec: str) -> Scale:
    """The scale rule named by ``spec``: ``he``, ``lecun``, ``glorot`` or ``std=<float>``."""
    text = (spec or "").strip()
    if text in ("he", "lecun", "glorot"):
        return Scale(text)
    if text.startswith("std="):
        value = parse_number(text[4:], "scale std")
        if value <= 0:
            raise InputError(f"scale std must be positive, got {value:g}")
        return Scale(f"std={value:g}", value)
    raise InputError(f"unknown scale {spec!r} (choose from he, lecun, glorot, std=<float>)")
