"""The training rows of ``driftproof verify``: structured numbers, text rendered from them."""

from __future__ import annotations

import json

from driftproof.config import Config
from driftproof.evidence.training import ROW_SIZES, verify_rows
from driftproof.render import row_summary
from driftproof.results import HOLDS, INFO, Estimate, Evidence


def test_verify_rows_noise_and_digits():
    """The verify rows (width 64, 100 SGD steps, 3 seeds, seed 0): on noise the ReLU sign persists;
    on digits it is positive at t = 0 and turns within the run (measured: step 8-17).

    The self/label split: at t = 0 (16 networks) the label part's interval contains 0 on both data
    sets while the self part's lies above 0; on digits the label part overtakes in every seed
    (measured: steps 6-13), its interval within the run."""
    rows = verify_rows(Config(loss="ce", act="relu", width=256, depth=1, classes=10), progress=False)
    assert [(r.kind, r.key.data) for r in rows] == [("training", "noise"), ("training", "digits")]
    noise, digits = rows
    assert noise.verdict == HOLDS and noise.numbers["persisted"]
    assert digits.verdict == INFO and not digits.numbers["persisted"]
    assert 0 < digits.numbers["first_negative_step"] < ROW_SIZES["steps"]
    assert noise.numbers["sizes"]["width"] == ROW_SIZES["width"] and noise.numbers["seeds"] == ROW_SIZES["seeds"]
    assert noise.numbers["first_step_vs_R5"]["L1"]["db_mean"]["relative_error"] < 0.5
    assert all(Estimate.from_dict(e).sign == 1 for e in noise.numbers["sign_t0"].values())
    # Plain JSON, and the same text after a round trip through it.
    again = [Evidence.from_dict(json.loads(json.dumps(r.to_dict(), allow_nan=False))) for r in rows]
    assert [row_summary(r) for r in again] == [row_summary(r) for r in rows]
    assert f"width {ROW_SIZES['width']}" in row_summary(noise)
    for row in rows:
        split = row.numbers["split"]["L1"]
        assert Estimate.from_dict(split["label_t0"]).contains(0.0), (row.key.data, split["label_t0"])
        assert Estimate.from_dict(split["self_t0"]).ci_low > 0
        assert len(split["crossover"]) == ROW_SIZES["seeds"]
    digits_split = digits.numbers["split"]["L1"]
    assert digits_split["never_crossed"] == 0
    assert 0 < Estimate.from_dict(digits_split["crossover_estimate"]).mean < ROW_SIZES["steps"]
    label_end = Estimate.from_dict(digits_split["label_end"])  # 3 seeds: no interval (fewer than 5), every seed < 0
    assert not label_end.defined and label_end.n == ROW_SIZES["seeds"] and all(v < 0 for v in label_end.values)
    assert "Label part of δ overtakes the self part: L1 step" in row_summary(digits)
