"""The sensitivity check of C2's knot and C3's spike ratio: its text from planted results, the claims' records
that carry it, a tiny real run of the script's two halves, and the shipped file's shape."""

import importlib.util
from pathlib import Path

import pytest

from driftproof import paper
from driftproof.sweeps import sensitivity
from driftproof.sweeps.sensitivity import load_sensitivity, sensitivity_text

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sensitivity.py"


def _estimate(mean, low, high, n=5):
    return {"mean": mean, "ci_low": low, "ci_high": high, "n": n}


def _planted(knot_width_32=(0.74, 0.66, 0.78)):
    return {"base": {"width": 128, "steps": 500, "lr": 1e-3}, "levels": [0.1, 0.5, 0.9], "seeds": {"c2": 2, "c3": 5},
            "paper": {"c2_knot": 0.70, "c3_ratio": 25.0},
            "c2": [{"setting": "base", "knot": _estimate(0.93, 0.91, 0.94)},
                   {"setting": "width 32", "knot": _estimate(*knot_width_32)}],
            "c3": [{"setting": "base", "ratio_by_layer": {"digits resmlp": [_estimate(6.0, 5.0, 7.0)] * 3}},
                   {"setting": "width 64", "ratio_by_layer": {"digits resmlp": [None, _estimate(4.0, 3.5, 4.5, 3),
                                                                                None]}}]}


def test_text_names_every_setting_and_where_the_papers_value_falls():
    text = sensitivity_text("C2", _planted())
    assert "knot 0.93 [0.91, 0.94] at base" in text and "knot 0.74 [0.66, 0.78] at width 32" in text
    assert text.endswith("the paper's ~0.7 lies inside the interval at width 32")
    assert sensitivity_text("C2", _planted((0.85, 0.80, 0.90))).endswith("inside none of them")
    c3 = sensitivity_text("C3", _planted())
    assert "6.0x [5.0, 7.0] at base" in c3 and "4.0x [3.5, 4.5] at width 64" in c3
    assert c3.endswith("the paper's ~25 lies inside none of them")
    assert sensitivity_text("C5", _planted()) is None


def test_the_claims_record_carries_the_sensitivity_line(monkeypatch):
    monkeypatch.setattr(sensitivity, "load_sensitivity", lambda: _planted())
    note = paper._with_sensitivity("C2", "hinge knot over 44 runs")
    assert note.startswith("hinge knot over 44 runs. sensitivity (") and "at width 32" in note
    monkeypatch.setattr(sensitivity, "load_sensitivity", lambda: None)
    assert paper._with_sensitivity("C2", "hinge knot") == "hinge knot"


def _script():
    spec = importlib.util.spec_from_file_location("sensitivity_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_real_run_of_both_halves():
    script = _script()
    tiny = {"width": 8, "steps": 8, "n_train": 128, "n_test": 64, "batch": 16}
    c2 = script.run_c2("tiny", tiny, seeds=2, levels=(0.2, 0.5, 0.7, 0.9))
    assert c2["runs"] == 10 and c2["knobs"]["width"] == 8
    assert c2["knot"] is None or 0.0 <= c2["knot"].mean <= 1.0
    c3 = script.run_c3("tiny", tiny, seeds=2)
    assert c3["runs"] == 4 and set(c3["ratio_by_layer"]) <= {"digits resmlp"}


def test_the_shipped_check_has_every_setting():
    data = load_sensitivity()
    if data is None:
        pytest.skip("driftproof/stored/sensitivity.json is not shipped in this checkout")
    script = _script()
    assert [s["setting"] for s in data["c2"]] == list(script.C2_SETTINGS)
    assert [s["setting"] for s in data["c3"]] == list(script.C3_SETTINGS)
    assert all(s["runs"] == data["seeds"]["c2"] * (len(data["levels"]) + 1) for s in data["c2"])
    for claim in ("C2", "C3"):
        assert "sensitivity (scripts/sensitivity.py" in sensitivity_text(claim, data)
