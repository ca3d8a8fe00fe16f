"""The shipped sensitivity check of C2's cliff and C3's spike ratio (scripts/sensitivity.py, issue 22 item 6):
what each knob (width, steps, learning rate, data) does to the number the paper reports, as one line per claim
for the claims' records. Reads driftproof/stored/sensitivity.json; computes nothing."""

from __future__ import annotations

import json
from importlib.resources import files

__all__ = ["STORED", "load_sensitivity", "sensitivity_text"]

STORED = "stored/sensitivity.json"


def load_sensitivity() -> dict | None:
    """The shipped file as a dict, or None when absent (or a smoke run)."""
    path = files("driftproof").joinpath(STORED)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return None if data.get("quick") else data


def _interval(e: dict | None, unit: str = "", digits: int = 2) -> str:
    if not e or e.get("mean") is None:
        return "n/a"
    mean = f"{e['mean']:.{digits}f}{unit}"
    if e.get("ci_low") is None or e.get("ci_high") is None:
        return f"{mean} (n = {e.get('n', 0)}: no interval)"
    return f"{mean} [{e['ci_low']:.{digits}f}, {e['ci_high']:.{digits}f}]"


def _contains(e: dict | None, value: float) -> bool:
    return bool(e) and e.get("ci_low") is not None and e.get("ci_high") is not None \
        and e["ci_low"] <= value <= e["ci_high"]


def _middle(setting: dict) -> dict | None:
    """The middle hidden layer's ReLU^2 / ReLU ratio of a C3 setting (the claim's own choice of layer)."""
    layers = next(iter(setting["ratio_by_layer"].values()), [])
    return layers[len(layers) // 2] if layers else None


def sensitivity_text(claim: str, data: dict | None = None) -> str | None:
    """``sensitivity (...): knot 0.93 [...] at base; 0.80 [...] at width 32; ...; the paper's ~0.70 inside none``
    for ``C2`` or ``C3``; None without a shipped check."""
    data = load_sensitivity() if data is None else data
    if data is None or claim not in ("C2", "C3"):
        return None
    base = data["base"]
    if claim == "C2":
        paper = data["paper"]["c2_knot"]
        values = {s["setting"]: s["knot"] for s in data["c2"]}
        parts = [f"knot {_interval(e)} at {name}" for name, e in values.items()]
        head = (f"sensitivity (scripts/sensitivity.py; ReLU MLP on the digits, width {base['width']}, "
                f"{base['steps']} steps, lr {base['lr']:g} unless named; {data['seeds']['c2']} seeds x "
                f"{len(data['levels'])} forced levels): ")
    else:
        paper = data["paper"]["c3_ratio"]
        values = {s["setting"]: _middle(s) for s in data["c3"]}
        parts = [f"{_interval(e, 'x', 1)} at {name}" for name, e in values.items()]
        head = (f"sensitivity (scripts/sensitivity.py; pre-norm residual MLP, middle layer, ReLU^2 / ReLU paired "
                f"over {data['seeds']['c3']} seeds, width {base['width']}, {base['steps']} steps, lr {base['lr']:g}"
                f" unless named): ")
    inside = [name for name, e in values.items() if _contains(e, paper)]
    tail = (f"; the paper's ~{paper:g} lies inside the interval at {', '.join(inside)}" if inside else
            f"; the paper's ~{paper:g} lies inside none of them")
    return head + "; ".join(parts) + tail
