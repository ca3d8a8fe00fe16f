"""Estimates as text for a reader: the formats the CLI, the verify rows, the claims and the report print.

Each takes an :class:`~driftproof.results.Estimate` or its JSON form."""

from __future__ import annotations

import math

from ..results import Estimate

__all__ = ["interval_text", "percent_text", "ratio_text", "as_estimate", "confidence_text", "error_text"]


def as_estimate(value: Estimate | dict) -> Estimate:
    """An Estimate from itself or from its ``to_dict()`` form."""
    return value if isinstance(value, Estimate) else Estimate.from_dict(value)


def interval_text(estimate: Estimate | dict, fmt: str = "{:+.3g}") -> str:
    """``mean [low, high]``; only the mean without an interval; ``n/a`` without a value."""
    estimate = as_estimate(estimate)
    if math.isnan(estimate.mean):
        return "n/a"
    if not estimate.defined:
        return fmt.format(estimate.mean)
    return f"{fmt.format(estimate.mean)} [{fmt.format(estimate.ci_low)}, {fmt.format(estimate.ci_high)}]"


def percent_text(estimate: Estimate | dict) -> str:
    """A fraction as ``42% [30, 55]``, the interval clipped to [0, 100]."""
    estimate = as_estimate(estimate)
    if math.isnan(estimate.mean):
        return "n/a"
    text = f"{100 * estimate.mean:.0f}%"
    if not estimate.defined:
        return text
    return f"{text} [{100 * max(0.0, estimate.ci_low):.0f}, {100 * min(1.0, estimate.ci_high):.0f}]"


def ratio_text(estimate: Estimate | dict) -> str:
    """A ratio as ``2.5x [1.9, 3.2]``, three significant digits (``0.0001x`` is not ``0.00x``)."""
    estimate = as_estimate(estimate)
    if math.isnan(estimate.mean):
        return "n/a"
    if not estimate.defined:
        return f"{estimate.mean:.3g}x"
    return f"{estimate.mean:.3g}x [{estimate.ci_low:.3g}, {estimate.ci_high:.3g}]"  # a ratio may span decades


def confidence_text(confidence: float) -> str:
    """95% for an ordinary level, 1 − 1e-06 for the sign test's family-wise levels."""
    if confidence >= 0.999:
        return f"1 − {1 - confidence:.0e}"
    return f"{100 * confidence:g}%"


def error_text(estimate: float, stderr: float, prediction: float) -> str:
    """The disagreement between an estimate and a prediction: relative where the prediction stands
    clear of the noise (|prediction| > 3 standard errors), else absolute, beside the prediction's size
    (a relative error against a near-zero prediction reads as millions of percent and means nothing)."""
    if prediction is None or estimate is None:
        return "n/a"
    difference = abs(estimate - prediction)
    if abs(prediction) > 3 * (stderr or 0.0) and prediction != 0:
        return f"rel. error {difference / abs(prediction):.1%}"
    return f"abs. error {difference:.2g} (prediction {prediction:.2g}, within 3 s.e. {3 * (stderr or 0.0):.2g} of 0)"
