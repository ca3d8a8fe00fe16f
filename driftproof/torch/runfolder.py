"""A watched run as ``driftproof train``'s result (:class:`~driftproof.training.run.TrainResult`), so that
its run folder, ``driftproof.load`` and ``.plot()`` read it unchanged.

One run (role ``main``, seed 0 unless the user's): the layer columns ``L{l}.sign``, ``sign_se``, ``w_mean``,
``b_mean``, ``zero_frac``, ``nonpos_frac`` keep their meaning; what ``driftproof train`` measures and a
watched loop cannot (held-out loss and accuracy, the weight gradients' means) is NaN, and the summaries
leave it out. Extra columns: ``L{l}.near_zero_frac``, ``in:<linear>.max|min|max_med`` and
``W:<matrix>.mean|neg_frac|drift``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from ..config import environment
from ..training.run import TrainResult
from ..training.seed import RunLog
from ..training.summary import summarize

__all__ = ["run_result", "layer_columns", "watch_folder_conflict"]

_BASE = ("step", "lr", "loss", "acc", "train_loss", "train_acc", "test_loss", "test_acc")
_LAYER = ("sign", "sign_se", "w_mean", "b_mean", "w_grad", "b_grad", "zero_frac", "nonpos_frac", "near_zero_frac")


def layer_columns(depth: int) -> list[str]:
    """The columns every watched run has (the layer names as ``driftproof train``'s MLP runs)."""
    return list(_BASE) + [f"L{l}.{k}" for l in range(1, depth + 1) for k in _LAYER] + \
        ["out.w_mean", "out.b_mean", "out.w_grad", "out.b_grad"]


def run_result(w) -> TrainResult:
    """The TrainResult of a closed :class:`~.monitor.Watch`."""
    depth = len(w.layers)
    names = layer_columns(depth)
    names += sorted({k for record in w.records for k in record} - set(names))
    columns = {name: np.array([record.get(name, math.nan) for record in w.records], float) for name in names}
    log = RunLog("main", w.name, 0, columns, w.diverged_at)
    width = [int(getattr(layer.up, "out_features", layer.up.weight.shape[0])) for layer in w.layers]
    lrs = columns["lr"][np.isfinite(columns["lr"])]
    config = {"arch": "torch", "model": w.name, "loss": "user's", "act": w.name, "init": "model's own",
              "scale": "model's own", "width": max(width) if width else 0, "depth": depth, "classes": None,
              "seed": 0, "layers": [layer.name for layer in w.layers],
              "down": [layer.down_name for layer in w.layers], "gated": [layer.gated for layer in w.layers],
              "delta_units": "per row of the loss: rows · ∂L/∂p, the column rows giving the factor", "near_zero": w.near_zero}
    spec = {"arch": "torch", "data": "user's", "opt": type(w.optimizer).__name__ if w.optimizer else "user's",
            "lr": float(lrs[0]) if len(lrs) else None, "batch": None, "steps": w.t, "seeds": 1,
            "every": w.every, "log_every": w.every}
    notes = ("watched with driftproof.torch.watch: a user's own training loop; held-out metrics and weight "
             "gradients are not measured (NaN)",)
    env = {**environment(), "torch": torch.__version__}
    return TrainResult(config, spec, (0,), {"name": "user's"}, (log,), summarize([log], depth), None, notes, env,
                       "torch", time.perf_counter() - w._began, None)


def watch_folder_conflict(folder: Path, name: str, layers: list[str]) -> str | None:
    """None when the non-empty ``folder`` holds a watched run of the model ``name`` with these ``layers`` (a rerun
    replaces it); otherwise why ``watch(out=folder)`` may not write there (``driftproof train``'s rule)."""
    meta_path = Path(folder) / "run.json"
    if not meta_path.is_file():
        return "is not empty and is not a driftproof run folder (it has no run.json)"
    try:
        config = dict(json.loads(meta_path.read_text())["config"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        return "holds a run.json that driftproof did not write"
    if config.get("arch") != "torch":
        return f"holds a driftproof train run (arch {config.get('arch')!r}), not a watched one"
    if config.get("model") != name or config.get("layers") != layers:
        return (f"holds a watched run of another model ({config.get('model')!r}, layers "
                f"{', '.join(map(str, config.get('layers') or [])) or 'none'})")
    return None
