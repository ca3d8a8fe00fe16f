"""Every printed δ says its units: per token / per sample (probe), of each window's mean token loss (verify --arch gpt).
Rendered from stored numbers, without torch."""

from __future__ import annotations

from driftproof.render import row_summary, verdict_table
from driftproof.results import HOLDS, INCONCLUSIVE, Estimate, Evidence, RowKey, Verification

TEST = {"alpha": 1e-3, "tested": 2, "positive": 1, "negative": 0, "unresolved": 1, "looks": 1, "samples": 8,
        "budget": 8, "verdict": "inconclusive", "negative_units": [], "unresolved_units": [2], "zero": 0,
        "zero_units": []}


def _estimate(mean: float) -> dict:
    return Estimate.student_t([mean - 1e-3, mean, mean + 1e-3]).to_dict()


def test_gpt_rows_say_delta_is_of_the_window_mean_loss():
    numbers = {"readout": "tied", "inits": 8, "seeds": [0, 7], "batch": 8, "context": 16, "width": 32, "depth": 2,
               "heads": 2, "confidence": 0.95, "data": "text", "outcome": "unresolved", "sign_test": TEST,
               "blocks": [{"block": b, "estimate": _estimate(1e-5), "scale": 1e-3, "relative": 0.01} for b in (1, 2)]}
    text = row_summary(Evidence("montecarlo", RowKey("MC", init="pytorch", data="text", arch="gpt"), INCONCLUSIVE,
                                numbers))
    assert "δ of each window's mean token loss (per-token values are 16× these" in text


def test_probe_rows_print_their_units_and_need_no_torch():
    rows = tuple(Evidence("montecarlo", RowKey("MC", layer=i, init="factory", data="text", arch="torch"), verdict,
                          {"module": f"h.{i - 1}.mlp.c_fc", "gated": False, "estimate": _estimate(2e-4), "scale": 0.05,
                           "relative": 0.004, "nonpos_frac": _estimate(0.5), "units": "per token", "inits": 8,
                           "seeds": [0, 7], "confidence": 0.95, "sign_test": TEST})
                 for i, verdict in ((1, HOLDS), (2, INCONCLUSIVE)))
    config = {"arch": "torch", "model": "m:f", "loss": "ce", "split": False, "inits": 8, "seed": 0, "data": "text",
              "batch_shape": [8, 64], "rows": 512, "delta_units": "per token", "layers": ["h.0.mlp.c_fc", "h.1.mlp.c_fc"],
              "dtype": "float32", "device": "cpu", "alpha": 1e-3, "act": "m:f", "init": "factory"}
    result = Verification(INCONCLUSIVE, rows, config, {})
    text = verdict_table(result, width=120)
    assert text.count("per token") >= 3 and "1/2 MLP layers resolved positive" in text
    assert "no self/label split for the loss ce" in text
    html = result._repr_html_()
    assert "driftproof probe — model m:f" in html and html.count("per token") >= 3
    assert str(result) == verdict_table(result) and "m:f" in repr(result)
    figure = result.plot()
    assert len(figure.axes) == 1 and len(figure.axes[0].get_xticklabels()) == 2
