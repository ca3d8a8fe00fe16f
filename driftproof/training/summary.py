"""Summaries over seeds, with intervals (DESIGN.md §3), and the first step against R5.

Every interval is a Student-t interval over seeds (the network realization is the unit of
replication: the theory's expectation is over the random weights, and one network has one
draw of them). With a single seed the interval is undefined and reported as null.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import stdtrit  # Student t quantile; scipy.stats costs ~0.5 s at import

from .seed import RunLog

__all__ = ["interval", "summarize", "first_step_vs_theory", "CONFIDENCE"]

CONFIDENCE = 0.95


def _clean(value) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def interval(values, confidence: float = CONFIDENCE) -> dict:
    """Mean and Student-t interval over seeds of ``values`` (NaNs dropped)."""
    data = np.array([v for v in values if v is not None and math.isfinite(v)], float)
    n = len(data)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0, "values": []}
    mean = float(data.mean())
    if n < 2:
        low = high = None
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # huge values of a diverging run: no interval
            half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * float(data.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
    return {"mean": mean, "low": _clean(low), "high": _clean(high), "n": n,
            "values": [float(v) for v in data]}


def excludes_zero(iv: dict) -> int:
    """+1 / -1 when the interval lies above / below 0, else 0."""
    if iv.get("low") is not None and iv["low"] > 0:
        return 1
    if iv.get("high") is not None and iv["high"] < 0:
        return -1
    return 0


def first_negative_running_mean(steps: np.ndarray, sign: np.ndarray) -> int | None:
    """The first logged step at which the running mean of the sign statistic is below 0."""
    finite = np.isfinite(sign)
    running = np.cumsum(np.where(finite, sign, 0.0)) / np.maximum(1, np.cumsum(finite))
    below = np.flatnonzero(finite & (running < 0))
    return int(steps[below[0]]) if len(below) else None


def _role_summary(logs: list[RunLog], depth: int) -> dict:
    layers = {}
    for layer in range(1, depth + 1):
        key = f"L{layer}"
        firsts, fractions, t0, t0_se = [], [], [], []
        for log in logs:
            sign = log.columns[f"{key}.sign"]
            finite = sign[np.isfinite(sign)]
            fractions.append(float(np.mean(finite > 0)) if len(finite) else math.nan)
            firsts.append(first_negative_running_mean(log.columns["step"], sign))
            t0.append(sign[0])
            t0_se.append(log.columns[f"{key}.sign_se"][0])
        col = lambda name, i: [log.columns[f"{key}.{name}"][i] for log in logs]  # noqa: E731
        drift = lambda name: [log.columns[f"{key}.{name}"][-1] - log.columns[f"{key}.{name}"][0]  # noqa: E731
                              for log in logs]
        turned = [f for f in firsts if f is not None]
        entry = {
            "sign_t0": interval(t0),
            "sign_t0_batch_se": [_clean(v) for v in t0_se],
            "sign_mean_over_run": interval([np.nanmean(log.columns[f"{key}.sign"]) for log in logs]),
            "positive_fraction": interval(fractions),
            "first_negative_running_mean": firsts,
            "never_negative": len(firsts) - len(turned),
            "first_negative_median": float(np.median(turned)) if turned else None,
            "w_drift": interval(drift("w_mean")),
            "b_drift": interval(drift("b_mean")),
            "zero_frac_start": interval(col("zero_frac", 0)),
            "zero_frac_end": interval(col("zero_frac", -1)),
            "zero_frac_max": interval([np.nanmax(log.columns[f"{key}.zero_frac"]) for log in logs]),
            "zero_frac_argmax_step": [int(log.columns["step"][int(np.nanargmax(log.columns[f"{key}.zero_frac"]))])
                                      for log in logs],
            "nonpos_frac_start": interval(col("nonpos_frac", 0)),
            "nonpos_frac_end": interval(col("nonpos_frac", -1)),
        }
        if f"{key}.u_mean" in logs[0].columns:
            entry["u_drift"] = interval(drift("u_mean"))
        layers[key] = entry
    out_drift = lambda name: [log.columns[f"out.{name}"][-1] - log.columns[f"out.{name}"][0]  # noqa: E731
                              for log in logs]
    return {
        "act": logs[0].act,
        "seeds": [log.seed for log in logs],
        "layers": layers,
        "output": {"w_drift": interval(out_drift("w_mean")), "b_drift": interval(out_drift("b_mean"))},
        "final": {name: interval([log.columns[name][-1] for log in logs])
                  for name in ("loss", "train_loss", "train_acc", "test_loss", "test_acc")},
    }


def summarize(logs: list[RunLog], depth: int) -> dict:
    """Per role (main, control): per-layer summaries; plus paired main - control drifts."""
    roles = {}
    for role in ("main", "control"):
        chosen = [log for log in logs if log.role == role]
        if chosen:
            roles[role] = _role_summary(chosen, depth)
    result = {"roles": roles}
    if "control" in roles:
        main = {log.seed: log for log in logs if log.role == "main"}
        control = {log.seed: log for log in logs if log.role == "control"}
        seeds = sorted(set(main) & set(control))
        paired = {}
        for layer in range(1, depth + 1):
            entry = {}
            for name in ("w_mean", "b_mean"):
                col = f"L{layer}.{name}"
                diffs = [(main[s].columns[col][-1] - main[s].columns[col][0])
                         - (control[s].columns[col][-1] - control[s].columns[col][0]) for s in seeds]
                entry[name.replace("_mean", "_drift")] = interval(diffs)
            paired[f"L{layer}"] = entry
        result["main_minus_control"] = paired
    return result


def first_step_vs_theory(logs: list[RunLog], prediction, depth: int) -> dict:
    """R5: the measured first SGD step of each layer's mean weight and bias, per unit lr.

    The measurement is ``-mean(grad)`` at step 0 (exactly the first step of plain SGD
    divided by the learning rate), over seeds; ``prediction`` is a MeanField. The relative
    error is |measured - predicted| / |predicted|, reported only where the prediction is
    not zero (for zero-mean inputs the first layer's weight mean has no predicted drift).
    """
    main = [log for log in logs if log.role == "main"]
    rows = {}
    targets = [(f"L{lp.layer}", lp.dW_mean, lp.db_mean, lp.delta_given_positive) for lp in prediction.layers]
    targets.append(("out", prediction.output.dV_mean, prediction.output.dc_mean, None))
    for key, dw, db, given_positive in targets:
        entry = {}
        for what, column, predicted in (("dW_mean", f"{key}.w_grad", dw), ("db_mean", f"{key}.b_grad", db)):
            measured = interval([-log.columns[column][0] for log in main])
            entry[what] = _compare(measured, predicted)
        if given_positive is not None:
            entry["sign_t0"] = _compare(interval([log.columns[f"{key}.sign"][0] for log in main]), given_positive)
        rows[key] = entry
    return rows


def _compare(measured: dict, predicted: float) -> dict:
    predicted = float(predicted)
    mean = measured["mean"]
    rel = None
    if mean is not None and abs(predicted) > 1e-12:
        rel = abs(mean - predicted) / abs(predicted)
    inside = (measured["low"] is not None and measured["low"] <= predicted <= measured["high"])
    return {"measured": measured, "predicted": predicted, "relative_error": rel, "prediction_in_interval": inside}
