"""Report figures without a report: robust axes, diverged runs left out, one colour per activation."""

import json
from pathlib import Path

import numpy as np
import pytest

from driftproof.reporting.figures_training import persistence_figure
from driftproof.reporting.style import AXIS_MULTIPLE, color, linestyle, robust_limits
from driftproof.reporting.training_sections import BLOWUP, CLIP_NORM, LR, _diverged_note, blowup_step


class _Ctx:
    def __init__(self):
        self.results = {}

    def record(self, section, key, value):
        self.results.setdefault(section, {})[key] = value


def _run(loss, act, level, steps=30, seeds=3, diverged=()):
    rng = np.random.default_rng(abs(hash((loss, act))) % 2**32)
    curves = {}
    for layer in (1, 2):
        for metric in ("sign", "b_mean", "zero_frac", "self", "label"):
            curves[f"L{layer}.{metric}"] = None
    seed_rows = []
    for seed in range(seeds):
        c = {key: (level + 0.01 * rng.standard_normal(steps)).tolist() for key in curves}
        seed_rows.append({"seed": seed, "diverged_at": None, "blowup_at": None, "curves": c})
    return {"loss": loss, "act": act, "step": list(range(steps)), "seeds": seed_rows, "diverged": list(diverged)}


def test_a_series_that_would_blow_the_axis_is_left_out():
    series = {"a": np.linspace(-1, 1, 50), "b": np.linspace(0, 2, 50), "huge": np.array([0.0, 1e21])}
    limits, dropped = robust_limits(series)
    assert dropped == ["huge"]
    assert limits[1] - limits[0] < 4
    # a series within the stated multiple stays
    series["wide"] = np.array([-10.0, 10.0])
    assert "wide" not in robust_limits(series)[1]
    series["too wide"] = np.array([0.0, AXIS_MULTIPLE * 25.0])
    assert "too wide" in robust_limits(series)[1]


def test_persistence_figure_axes_come_from_the_drawn_runs_only(tmp_path):
    ctx = _Ctx()
    runs = [_run("mse", "relu", 0.5), _run("ce", "gelu", 0.4),
            _run("ce", "relu2", 1e21, diverged=[{"seed": 1, "step": 7}])]
    blown = _run("mse", "gelu2", 0.4)
    for seed in blown["seeds"]:  # finite but huge, and not marked diverged: the axis guard must catch it
        seed["curves"]["L1.b_mean"][-1] = 1e19
    runs.append(blown)
    path = persistence_figure(runs, 2, tmp_path / "p", ctx)
    assert path.exists() and path.with_suffix(".png").exists()
    axes = ctx.results["figures"]["p"]["axes"]
    assert all("ce/relu2" not in info["spans"] for info in axes.values())  # diverged: never drawn
    assert "mse/gelu2" in axes["L1.b_mean"]["dropped"]
    lo, hi = axes["L1.b_mean"]["ylim"]
    assert hi - lo < 2
    assert "ce/relu2 (seed 1 at step 7)" in _diverged_note(runs)


def test_blowup_step_finds_the_first_step_out_of_bounds():
    columns = {"step": [0, 5, 10, 15], "L1.w_mean": [0.0, 0.1, 0.2, 0.3],
               "L1.b_mean": [0.0, -1.0, -2 * BLOWUP, float("nan")]}
    assert blowup_step(columns, 1) == 10
    columns["L1.b_mean"] = [0.0, -1.0, -2.0, -3.0]
    assert blowup_step(columns, 1) is None


def test_one_colour_per_activation_and_one_style_per_loss():
    acts = ["relu", "gelu", "silu", "relu2", "clipped_relu2", "gelu2", "tanh"]
    assert len({color(a) for a in acts}) == len(acts)
    assert linestyle("mse") != linestyle("ce")


def test_default_settings_are_the_recorded_stability_check():
    """The report trains with the settings scripts/report_stability.py checked, and none of its runs diverged."""
    record = json.loads((Path(__file__).resolve().parents[2] / "scripts" / "results" / "report_stability.json").read_text())
    assert record["settings"]["lr"] == LR and record["settings"]["clip_norm"] == CLIP_NORM
    assert record["settings"]["blowup"] == BLOWUP
    assert record["default_runs"] and record["all_default_runs_stable"]
    assert all(run["stable"] and run["lr"] == LR and run["clip_norm"] == CLIP_NORM for run in record["default_runs"])


def test_two_blown_up_series_cannot_vouch_for_each_other():
    """C5 in the stored default sweep: held-out CE ~1e8 for GELU² and ReLU² beside ~2 for the others
    once set the axis (each huge series was judged against the other). Both are left out and named."""
    import numpy as np

    from driftproof.reporting.style import AXIS_MULTIPLE, robust_limits

    series = {"gelu2": np.array([0.0, 4e8]), "gelu": np.array([1.5, 1.9]), "relu": np.array([1.2, 2.0]),
              "relu2": np.array([0.0, 9e8]), "clipped_relu2": np.array([3.0, 6.0])}
    (lo, hi), dropped = robust_limits(series)
    assert sorted(dropped) == ["gelu2", "relu2"]
    assert hi - lo <= AXIS_MULTIPLE * (6.0 - 1.2) and lo <= 1.2 and hi >= 6.0
    ordinary = {"a": np.array([0.0, 1.0]), "b": np.array([0.5, 1.5]), "c": np.array([0.0, 3.0])}
    assert robust_limits(ordinary)[1] == []


def _split_run(loss, act, depth=2, steps=40, seeds=3, crossover=(12, None, 30)):
    """A split run as split_runs gives it: per-seed self/label curves and a summary with crossover steps."""
    from driftproof.results import Estimate
    from driftproof.training.summary import LayerSummary, RoleSummary

    rng = np.random.default_rng(7)
    t = np.arange(steps)
    seed_rows = []
    for seed in range(seeds):
        curves = {}
        for layer in range(1, depth + 1):
            curves[f"L{layer}.self"] = (1.0 + 0.05 * rng.standard_normal(steps)).tolist()
            # a label part 30x smaller than the self part in layer 1 (teacher MSE): it must not push the self part off
            slope, noise = (0.001, 0.001) if layer == 1 else (0.05, 0.05)
            curves[f"L{layer}.label"] = (-slope * t + noise * rng.standard_normal(steps)).tolist()
        seed_rows.append({"seed": seed, "diverged_at": None, "blowup_at": None, "curves": curves})
    e = Estimate.student_t([0.1, 0.2, 0.3])
    entry = LayerSummary(e, (0.1,) * seeds, e, e, (None,) * seeds, e, e, e, e, e, (0,) * seeds, e, e,
                         self_t0=e, label_t0=e, self_end=e, label_end=e, crossover=tuple(crossover))
    summary = RoleSummary(act, tuple(range(seeds)), {f"L{l}": entry for l in range(1, depth + 1)}, {}, {})
    return {"loss": loss, "act": act, "depth": depth, "step": t.tolist(), "seeds": seed_rows, "summary": summary,
            "diverged": []}


def test_split_figure_has_both_parts_per_layer_and_every_seeds_crossover(tmp_path):
    from driftproof.reporting.figures_training import split_figure

    ctx = _Ctx()
    runs = [_split_run("mse", "relu"), _split_run("ce", "gelu", crossover=(None, None, None))]
    path = split_figure(runs, tmp_path / "split_x", ctx, predicted={"mse/relu": 25.0, "ce/gelu": 900.0})
    assert path.exists() and path.with_suffix(".png").exists()
    meta = ctx.results["figures"]["split_x"]
    assert set(meta["axes"]) == {f"{r}.L{l}" for r in ("mse/relu", "ce/gelu") for l in (1, 2)}
    for axis in meta["axes"].values():  # both parts drawn in full on every panel, none dropped
        assert set(axis["spans"]) == {"self", "label"} and not axis["dropped"] and axis["all_kept"]
        lo, hi = axis["ylim"]
        assert all(lo <= a and b <= hi for a, b in axis["spans"].values())
    assert meta["crossovers"]["mse/relu.L2"] == [12, None, 30]
    assert meta["crossovers"]["ce/gelu.L1"] == [None, None, None]
    # layer 2's label part falls to -0.05 * 39 (about -2 self parts): the axis reaches it
    assert meta["axes"]["mse/relu.L2"]["ylim"][0] < -1.5
    assert not meta["axes"]["mse/relu.L1"]["symlog"]


def test_a_collapsing_self_part_gets_a_symmetric_log_axis(tmp_path):
    """MSE: the readout fits the mean target and the self part falls to ~1% of its start within a few steps;
    on a linear axis the rest of the run would be a flat line."""
    from driftproof.reporting.figures_training import split_figure

    ctx = _Ctx()
    run = _split_run("mse", "relu")
    for seed in run["seeds"]:
        for layer in (1, 2):
            self_part = np.asarray(seed["curves"][f"L{layer}.self"])
            seed["curves"][f"L{layer}.self"] = np.where(np.arange(40) < 5, self_part, 0.01 * self_part).tolist()
    split_figure([run, _split_run("ce", "gelu")], tmp_path / "split_y", ctx)
    axes = ctx.results["figures"]["split_y"]["axes"]
    assert axes["mse/relu.L1"]["symlog"] and axes["mse/relu.L2"]["symlog"]
    assert not axes["ce/gelu.L1"]["symlog"]


def test_sparsity_of_relu_is_drawn_beside_activations_without_zeros(tmp_path):
    """The persistence figure's sparsity row: GELU's and tanh's sparsity is a constant 0, and ReLU's ~0.5 must
    not be taken for an off-scale series (it was left out of the report's figure)."""
    ctx = _Ctx()
    runs = [_run("mse", "relu", 0.5), _run("ce", "gelu", 0.0), _run("ce", "tanh", 0.0)]
    for run in runs[1:]:
        for seed in run["seeds"]:
            for layer in (1, 2):
                seed["curves"][f"L{layer}.zero_frac"] = [0.0] * len(run["step"])
    persistence_figure(runs, 2, tmp_path / "p", ctx)
    axis = ctx.results["figures"]["p"]["axes"]["L1.zero_frac"]
    assert axis["dropped"] == [] and "mse/relu" in axis["spans"]
    assert axis["ylim"][1] > 0.45


def test_no_band_from_fewer_than_five_seeds():
    """A t-band needs at least 5 seeds at that step (DESIGN.md §3): 4 seeds draw the mean alone, 5 a band."""
    from driftproof.reporting.figures_training import band
    from driftproof.training.split_figure import _band

    rng = np.random.default_rng(3)
    four, five = rng.standard_normal((4, 12)), rng.standard_normal((5, 12))
    mean, low, high = band(four)
    assert np.array_equal(low, mean) and np.array_equal(high, mean)
    assert np.all(_band(list(four))[1] == 0)
    _, low, high = band(five)
    assert np.all(high - low > 0) and np.all(_band(list(five))[1] > 0)
    five[:2, 3] = np.nan  # a step where only 3 seeds have a value: no band there, a band elsewhere
    _, low, high = band(five)
    assert low[3] == high[3] and np.all(np.delete(high - low, 3) > 0)


def test_headline_draws_two_losses_at_alternate_units_so_no_marker_hides_another(tmp_path):
    """The headline figure's MSE and CE points come from the same draw of units (same p): drawn at the same
    units, the second loss's markers covered the first's. Each loss takes every other unit of the thinned grid."""
    import matplotlib.pyplot as plt

    from driftproof.reporting.figures_theory import _thin, headline_figure

    p = np.linspace(-3, 3, 128)
    mse, ce = _thin(p, 28, shift=0.0), _thin(p, 28, shift=0.5)
    assert len(mse) >= 27 and len(ce) >= 27 and not set(mse) & set(ce)
    units = {"p": p, "mc": np.maximum(p, 0), "se": np.full_like(p, 1e-3), "theory": np.maximum(p, 0)}
    figure = headline_figure([{"act": "relu", "losses": {"mse": units, "ce": units}}], tmp_path / "h", _Ctx())
    assert figure.exists()
    plt.close("all")


@pytest.mark.parametrize("pairs", ["default", "quick", "one loss, many"])
def test_persistence_figures_draw_at_most_six_runs_a_panel_and_every_run_once(pairs):
    from types import SimpleNamespace

    from driftproof.reporting.context import DEFAULT_PAIRS, QUICK_PAIRS
    from driftproof.reporting.training_sections import MAX_SERIES, _facets

    chosen = {"default": DEFAULT_PAIRS, "quick": QUICK_PAIRS,
              "one loss, many": tuple(("ce", a) for a in ("relu", "gelu", "silu", "tanh", "elu", "selu", "mish",
                                                           "relu2", "gelu2"))}[pairs]
    drawn = []
    for loss, group in _facets(SimpleNamespace(pairs=chosen)):
        panel = [(l, a) for l, a in chosen if (loss is None or l == loss) and (group is None or a in group)]
        assert 0 < len(panel) <= MAX_SERIES, (loss, group)
        drawn += panel
    assert sorted(drawn) == sorted(chosen)
    if pairs == "default":  # 7 activations a loss: the squared ones (ReLU², clipped ReLU², GELU²) apart
        assert ("mse", ("relu2", "clipped_relu2", "gelu2")) in _facets(SimpleNamespace(pairs=chosen))
