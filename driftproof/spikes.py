"""The spike statistic, once: max|h| / median|h| over the active entries (and the kurtosis), read by the
sweep's claims (C3, C4) and logged at every linear layer's input by the transformers' paper metrics."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["spike_stats"]


def spike_stats(h: np.ndarray) -> dict:
    """Spike statistics of one layer's activations ``h`` (any shape; samples x units).

    ``max_over_median`` = max|h| / median|h| over the *active* entries (h != 0): with ReLU
    more than half the entries are often exactly 0, and the median over all of them would be 0.
    ``kurtosis`` is Pearson's (a Gaussian has 3) of all entries of h pooled; ``nan`` where the
    statistic is undefined (no active entry; constant h).
    """
    flat = np.abs(np.asarray(h, dtype=np.float64).ravel())
    active = flat[flat != 0]
    out = {"max_abs": float(flat.max()) if flat.size else math.nan,
           "median_active": float(np.median(active)) if active.size else math.nan,
           "active_frac": float(active.size / flat.size) if flat.size else math.nan}
    out["max_over_median"] = out["max_abs"] / out["median_active"] if active.size else math.nan
    values = np.asarray(h, dtype=np.float64).ravel()
    centered = values - values.mean() if values.size else values
    var = float(np.mean(centered**2)) if values.size else 0.0
    out["kurtosis"] = float(np.mean(centered**4) / var**2) if var > 0 else math.nan
    return out
