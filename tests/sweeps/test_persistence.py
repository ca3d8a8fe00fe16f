"""The persistence study: per-seed measures by hand, sign tests and Holm on planted runs, divergence left out and
named, a tiny real run, and the shipped results judged again from their own per-seed values."""

import json
import math

import numpy as np
import pytest

from driftproof.sweeps.persistence import (CALL_FIELDS, STORED, STORED_WIDE, STUDY, Cell, CellResult, answers,
                                           families, judge, load_stored, run_cell, seed_measures)
from driftproof.training.seed import RunLog

STEPS = 40


def _columns(sign: float, b_slope: float, rng, depth: int = 2) -> dict:
    """Logged columns of a planted run: a sign statistic around ``sign``, biases drifting at ``b_slope``."""
    step = np.arange(STEPS + 1, dtype=float)
    out = {"step": step, "test_acc": np.full(STEPS + 1, 0.5)}
    for layer in range(1, depth + 1):
        noise = 0.1 * abs(sign) * rng.standard_normal(STEPS + 1)
        out[f"L{layer}.sign"] = sign + noise
        out[f"L{layer}.self"] = 2 * sign + noise
        out[f"L{layer}.label"] = -sign + 0 * noise
        out[f"L{layer}.b_mean"] = b_slope * step
        out[f"L{layer}.w_mean"] = 0.5 * b_slope * step
    return out


def _planted(sign: float, b_slope: float, diverge=()):
    """A ``train`` function that plants the run of every seed (seeds in ``diverge`` diverge at step 3)."""
    def train(config, spec, seed, data):
        rng = np.random.default_rng(seed)
        return RunLog("main", config.act, seed, _columns(sign, b_slope, rng), 3 if seed in diverge else None)
    return train


def test_seed_measures_by_hand():
    step = np.arange(8, dtype=float)
    sign = np.array([1.0, 0.5, -2.0, -1.0, 0.2, -0.4, -0.6, -0.8])  # running mean: 1, .75, -.17 -> step 2
    columns = {"step": step, "L1.sign": sign, "L1.self": sign + 1, "L1.label": -np.ones(8),
               "L1.b_mean": 0.1 * step, "L1.w_mean": -0.2 * step}
    m = seed_measures(columns, 1)["L1"]
    assert m["sign_t0"] == 1.0 and m["first_negative"] == 2
    assert m["sign_late"] == pytest.approx(-0.7)  # the last quarter: 2 of 8 logged steps
    assert m["self_late"] == pytest.approx(0.3) and m["label_late"] == -1.0
    assert m["positive_fraction"] == pytest.approx(3 / 8)
    assert m["b_drift"] == pytest.approx(0.7) and m["w_drift"] == pytest.approx(-1.4)


def _study(seeds):
    return {**STUDY, "seeds": seeds, "width": 4, "steps": STEPS}


def test_planted_signs_called_under_holm_and_divergence_named():
    study = _study(12)
    plants = {Cell("ce", "noise", "sgd", None, "relu"): _planted(+1e-2, -1e-3),  # persists, drifts negative
              Cell("ce", "digits", "sgd", None, "relu"): _planted(-1e-2, +1e-3, diverge=(0, 5)),  # reverses
              Cell("ce", "digits", "sgd", None, "gelu"): _planted(+1e-2, -1e-3, diverge=range(7)),  # most diverge
              Cell("ce", "digits", "sgd", None, "tanh"): _planted(+1e-2, 0.0)}  # a control: its own family
    results = judge([run_cell(cell, study, train=train) for cell, train in plants.items()])
    persist, reverse, gone, control = results
    verdict = CALL_FIELDS.index("verdict")
    for layer in ("L1", "L2"):
        assert persist.calls[layer]["sign"][verdict] == "persists"
        assert persist.calls[layer]["b_drift"][verdict] == "negative"
        assert reverse.calls[layer]["sign"][verdict] == "reverses"
        assert reverse.calls[layer]["b_drift"][verdict] == "positive"
        assert reverse.calls[layer]["sign"][:2] == [0, 10]  # the two diverged seeds are not counted
    assert reverse.seeds == tuple(s for s in range(12) if s not in (0, 5))
    assert reverse.divergence.text() == "2 of 12 seeds diverged at step 3"
    assert not gone.measured and gone.calls == {}  # most seeds diverged: not measured, in no family
    assert families(results) == {"sign/paper": 4, "sign/controls": 2, "b_drift/paper": 4, "b_drift/controls": 2,
                                 "w_drift/paper": 4, "w_drift/controls": 2}
    assert control.calls["L1"]["b_drift"][verdict] == "unresolved"  # zero drift: no sign to call
    (answer,) = [a for a in answers(results) if a["data"] == "digits"]
    assert answer["not_measured"] == ["gelu"] and answer["counts"]["sign"]["reverses"] == 2
    assert "tanh" in answer["controls"] and answer["cases"] == 2


def test_holm_needs_enough_seeds():
    """Five agreeing seeds give p = 2^-4 = 0.0625: never a call, however clear each seed is."""
    results = judge([run_cell(Cell("mse", "noise", "sgd", None, "relu"), _study(5), train=_planted(1.0, -1.0))])
    assert results[0].calls["L1"]["sign"][CALL_FIELDS.index("verdict")] == "unresolved"


def test_tiny_real_run_round_trips():
    study = {**STUDY, "seeds": 2, "width": 4, "steps": 6, "n_train": 64, "n_test": 32, "batch": 8}
    (result,) = judge([run_cell(Cell("ce", "digits", "adamw", 1.0, "relu"), study)])
    assert set(result.layers) == {"L1", "L2"} and result.seeds == (0, 1)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    again = CellResult.from_dict(data)
    assert again.cell == result.cell and again.calls == result.calls
    assert data["layers"]["L1"]["estimates"]["sign_t0"][1] is None  # n = 2: no interval


def test_bad_input_exits_2(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "persistence.py"
    spec = importlib.util.spec_from_file_location("persistence_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--seeds", "0"])
    assert exit_info.value.code == 2 and "--seeds must be a positive integer" in capsys.readouterr().err


@pytest.fixture(scope="module", params=[STORED, STORED_WIDE])
def stored(request):
    data = load_stored(request.param)
    if data is None:
        pytest.skip(f"driftproof/{request.param} is not shipped in this checkout")
    return data


def test_stored_calls_regenerate_from_stored_values(stored):
    """Judging the stored per-seed values again gives every stored call (sign tests and Holm, recomputed)."""
    again = judge(stored["cells"])
    assert [r.calls for r in again] == [r.calls for r in stored["cells"]]
    assert families(again) == stored["design"]["holm_families"]


def test_stored_study_is_powered_and_excludes_diverged(stored):
    assert not stored["quick"] and stored["scale"]["seeds"] >= 10
    for cell in stored["cells"]:
        assert cell.divergence.n == stored["scale"]["seeds"]
        assert not set(cell.seeds) & set(cell.divergence.diverged_seeds)
        for layer in cell.layers.values():
            assert all(len(values) == len(cell.seeds) for values in layer.values())
        if cell.measured:
            assert len(cell.seeds) >= math.ceil(stored["scale"]["seeds"] / 2)


def test_markdown_table_counts_and_reference_numbers():
    from driftproof.render.persistence import answer_rows, markdown_table

    study = _study(12)
    results = judge([run_cell(Cell("ce", "digits", "sgd", None, act), study, train=_planted(sign, slope))
                     for act, sign, slope in (("relu", -1e-2, 1e-3), ("gelu", -1e-2, 1e-3), ("tanh", 1e-2, 0.0))])
    stored = {"cells": results, "design": {"alpha": 0.05}, "scale": {"seeds": 12, "width": 4}}
    (row,) = answer_rows(stored)
    assert row["counts_text"]["sign"] == "0/4/0" and row["counts_text"]["b_drift"] == "0/4/0"
    assert row["reference"]["b_drift"].mean == pytest.approx(STEPS * 1e-3) and row["reference_seeds"] == 12
    table = markdown_table(stored)
    assert "| ce | digits | sgd | none | 0/4/0 | 0/4/0 | 0/4/0 | +0.04" in table
    from driftproof.render.persistence import summary_text

    assert summary_text(stored).endswith("CE on digits: bias drift negative in 0, positive in 4 of 4 cases")
    assert summary_text(stored, scale=False) == "CE on digits: bias drift negative in 0, positive in 4 of 4 cases"


def test_report_table_reads_the_shipped_study(stored):
    from types import SimpleNamespace

    from driftproof.reporting.latex import Numbers
    from driftproof.reporting.persistence_study import persistence_study_section, persistence_study_table

    tex = persistence_study_section(SimpleNamespace(numbers=Numbers()))
    groups = {r.cell.group for r in stored["cells"]}
    study = persistence_study_table(SimpleNamespace(numbers=Numbers()))  # the appendix's long table
    assert r"\ref{tab:persistence-study}" in tex and r"\label{tab:persistence-study}" in study
    # one row per (loss, data, optimizer, clip), two header rows (the first page's and the continued pages')
    assert study.count(r" \\") - 2 == len(groups)
    if load_stored(STORED_WIDE) is not None:  # the two widths side by side: a row per (loss, data)
        from driftproof.render.persistence import bias_drift_totals

        widths = tex[tex.index(r"\label{tab:persistence-widths}"):]
        widths = widths[:widths.index(r"\end{tabular}")]
        totals = bias_drift_totals(load_stored())
        assert widths.count(r" \\") - 1 == len(totals)
        for (loss, data), t in totals.items():
            assert f"{loss.upper()} & {data} & {t['negative']} / {t['positive']} of {t['cases']} &" in widths
    assert stored["command"].split("python ")[1].split(" ")[0] in tex


def test_report_says_why_cross_entropy_reverses_from_the_shipped_study():
    from types import SimpleNamespace

    from driftproof.reporting.latex import Numbers
    from driftproof.reporting.persistence_study import _direction, ce_reversal_section, ce_reversal_table
    from driftproof.sweeps.persistence import load_ce_reversal

    stored = load_ce_reversal()
    if stored is None:
        pytest.skip("driftproof/stored/ce_reversal.json is not shipped in this checkout")
    tex = ce_reversal_section(SimpleNamespace(numbers=Numbers()))
    rows = ce_reversal_table(SimpleNamespace(numbers=Numbers()))  # the appendix's long table
    directions = [_direction(cell["layers"]) for values in stored["cells"].values() for cell in values.values()]
    assert rows.count(r" \\") - 2 == len(directions)  # a row per (factor, value), two header rows
    # the sentence lists each (factor, value) under the direction its sign tests called
    assert "Negative (the paper's sign) in every layer: data noise (random labels)" in tex.replace("\n", " ")
    planted = {"L1": {"b_drift_test": {"call": 1}}, "L2": {"b_drift_test": {"call": 0}}}
    assert _direction(planted) == "mixed" and _direction({"L1": {"b_drift_test": {"call": -1}}}) == "negative"
