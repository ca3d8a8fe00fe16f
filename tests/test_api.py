"""The public Python API: the CLI's operations, the same JSON, results that show themselves."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pytest
import sympy as sp

import driftproof
from driftproof.cli import main
from driftproof.render import verification_json


def cli_json(capsys, *argv) -> dict:
    code = main([*argv, "--json"])
    assert code in (0, 1, 3)
    return json.loads(capsys.readouterr().out)


def _without(payload: dict, *keys) -> dict:
    """Drop the fields that record the run rather than its result (timings, versions)."""
    return json.loads(json.dumps(payload, default=str),
                      object_hook=lambda d: {k: v for k, v in d.items() if k not in keys})


def test_api_and_cli_give_identical_json(capsys):
    options = dict(loss="mse", act="relu2", depth=2, width=64)
    api_derive = driftproof.derive(**options).to_dict()
    assert _without(api_derive, "environment") == _without(
        cli_json(capsys, "derive", "--loss", "mse", "--act", "relu2", "--depth", "2", "--width", "64"), "environment")
    api_verify = verification_json(driftproof.verify(**options, only="symbolic"))
    assert _without(api_verify, "environment") == _without(
        cli_json(capsys, "verify", "--loss", "mse", "--act", "relu2", "--depth", "2", "--width", "64",
                 "--only", "symbolic"), "environment")
    api_mc = driftproof.mc(loss="ce", act="gelu", width=32, samples=256).to_dict()
    cli_mc = cli_json(capsys, "mc", "--loss", "ce", "--act", "gelu", "--width", "32", "--samples", "256")
    assert _without(api_mc, *TIMING) == _without(cli_mc, *TIMING)


def test_bad_input_raises_the_cli_message(capsys):
    with pytest.raises(driftproof.InputError) as caught:
        driftproof.verify(act="__import__('os')")
    assert main(["verify", "--act", "__import__('os')"]) == 2
    assert str(caught.value) in capsys.readouterr().err
    with pytest.raises(driftproof.InputError):
        driftproof.mc(mode="sideways")
    with pytest.raises(driftproof.InputError):
        driftproof.verify(only=("symbolic", "astrology"))


def test_register_a_custom_activation_by_sympy_expression_or_string():
    x = driftproof.activations.x
    driftproof.register_activation("xtanhx", x * sp.tanh(x))
    assert driftproof.verify(act="xtanhx", only="symbolic").verdict == "holds"  # σσ' > 0 on p > 0
    driftproof.register_activation("dip", "x*(1-2*exp(-(x-1)**2))")
    with pytest.raises(driftproof.InputError):
        driftproof.register_activation("relu", "x")  # a built-in name
    with pytest.raises(driftproof.InputError):
        driftproof.register_activation("twosym", x * sp.Symbol("y"))


class _Nesting(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("make", [
    lambda: driftproof.verify(act="relu", only="symbolic"),
    lambda: driftproof.derive(act="silu"),
    lambda: driftproof.mc(act="relu", width=32, samples=256),
])
def test_results_show_themselves(make):
    result = make()
    parser = _Nesting()
    parser.feed(result._repr_html_())
    assert parser.open == []
    assert repr(result).startswith(type(result).__name__ + "(")
    json.loads(result.to_json() if hasattr(result, "to_json") else json.dumps(result.to_dict()))


def test_mc_plots_itself_with_theory_beside_the_estimates():
    conditional = driftproof.mc(loss="ce", act="gelu", width=32, samples=256, method="antithetic").plot()
    ax, = conditional.axes
    assert ax.get_xlabel().startswith("p_i") and len(ax.lines) >= 2  # theory line (and the zero line)
    marginal = driftproof.mc(loss="ce", act="relu", depth=2, width=32, mode="marginal", samples=64).plot()
    assert marginal.axes[0].get_xlabel() == "hidden layer"


def test_a_verification_draws_what_it_holds_and_computes_nothing(monkeypatch):
    """plot() draws the Monte Carlo row's stored units and the theory's value at each; a figure that
    recomputed anything would call the estimator or the theory, both made to fail here."""
    import driftproof.montecarlo.compare
    import driftproof.montecarlo.estimators

    result = driftproof.verify(loss="mse", act="relu", width=16, only="montecarlo")
    row, = [row for row in result.rows(result="MC") if row.numbers.get("units")]

    def refuse(*args, **kwargs):
        raise AssertionError("drawing computed")

    monkeypatch.setattr(driftproof.montecarlo.estimators, "conditional", refuse)
    monkeypatch.setattr(driftproof.montecarlo.compare, "_predictions", refuse)
    right = result.plot().axes[1]
    theory, = [line for line in right.lines if line.get_label().startswith("theory")]
    assert sorted(theory.get_xdata()) == sorted(row.numbers["units"]["p"])
    assert np.allclose(sorted(theory.get_ydata()), sorted(row.numbers["theory"]["units"]))
    saved = driftproof.Verification.from_dict(json.loads(json.dumps(result.to_dict())))
    assert len(saved.plot().axes[1].lines) == len(right.lines)  # a saved verification draws the same


def test_every_public_name_is_documented():
    for name in driftproof.__all__:
        obj = getattr(driftproof, name)
        assert obj.__doc__ and obj.__doc__.strip(), name


def test_sweep_function_and_sweeps_package_do_not_shadow_each_other():
    import importlib
    grid = importlib.import_module("driftproof.sweeps.grid")
    assert callable(driftproof.sweep) and hasattr(grid, "make_grid")


TIMING = ("environment", "seconds", "load_seconds", "run_folder", "out", "wall_seconds", "elapsed", "executor")
TRAIN = dict(loss="ce", act="relu", width=16, depth=2, steps=6, seeds=1, n_train=128, n_test=64)


def _cli_args(options: dict) -> list[str]:
    return [part for name, value in options.items() for part in (f"--{name.replace('_', '-')}", str(value))]


def test_train_sweep_and_claims_give_the_cli_json(capsys, tmp_path):
    api_train = driftproof.train(**TRAIN, out=tmp_path / "api-run", figures=False).to_dict()
    assert main(["train", *_cli_args(TRAIN), "--out", str(tmp_path / "cli-run"), "--no-figures", "--no-progress",
                 "--json"]) == 0
    cli_train = json.loads(capsys.readouterr().out)
    assert _without(api_train, *TIMING) == _without(cli_train, *TIMING)
    assert cli_train["run_folder"] == str(tmp_path / "cli-run")

    api_sweep = driftproof.sweep("quick", tmp_path / "api-sweep", workers=2).to_dict()
    assert main(["sweep", "--grid", "quick", "--out", str(tmp_path / "cli-sweep"), "--workers", "2", "--json"]) == 0
    cli_sweep = json.loads(capsys.readouterr().out)
    assert _without(api_sweep, *TIMING) == _without(cli_sweep, *TIMING)
    assert cli_sweep["sweep"]["ran"] == 15 and cli_sweep["grid"] == "quick"

    api_claims = driftproof.claims(tmp_path / "cli-sweep").to_dict()
    assert main(["claims", "--out", str(tmp_path / "cli-sweep"), "--json"]) == 0
    assert _without(api_claims, "environment") == _without(json.loads(capsys.readouterr().out), "environment")


@pytest.mark.parametrize("call, argv", [
    (lambda: driftproof.train(out=""), ["train", "--out", ""]),
    (lambda: driftproof.train(steps=0), ["train", "--steps", "0"]),
    (lambda: driftproof.sweep("huge"), ["sweep", "--grid", "huge"]),
    (lambda: driftproof.sweep("quick", workers=10**6), ["sweep", "--grid", "quick", "--workers", "1000000"]),
    (lambda: driftproof.claims("/nonexistent/sweep"), ["claims", "--out", "/nonexistent/sweep"]),
    (lambda: driftproof.report(pairs=(("ce", "__import__('os')"),)), ["report", "--pairs", "ce:__import__('os')"]),
    (lambda: driftproof.report("/proc/x"), ["report", "--out", "/proc/x"]),
])
def test_train_sweep_claims_report_refuse_as_the_cli_does(capsys, call, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    try:
        call()
    except driftproof.InputError as error:
        assert str(error) in err
    else:
        pytest.fail("no InputError")


def test_an_interrupted_train_writes_nothing(tmp_path, monkeypatch):
    from driftproof.api import training
    from driftproof.training import runfolder

    def save_then_interrupt(result, folder, **options):
        runfolder.save_run(result, folder, **options)  # a whole run folder in the scratch place...
        raise KeyboardInterrupt  # ...and Ctrl-C before it is renamed into place

    monkeypatch.setattr(training, "save_run", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        driftproof.train(**TRAIN, out=tmp_path / "run", figures=False)
    assert list(tmp_path.iterdir()) == []  # no run folder, no scratch folder
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "notes.txt").write_text("mine")
    with pytest.raises(driftproof.InputError, match="not a driftproof run folder.*--force"):
        driftproof.train(**TRAIN, out=tmp_path / "kept", figures=False)  # another's folder: refused unless forced
    with pytest.raises(KeyboardInterrupt):
        driftproof.train(**TRAIN, out=tmp_path / "kept", figures=False, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"] and [p.name for p in (tmp_path / "kept").iterdir()] == [
        "notes.txt"]
    monkeypatch.undo()
    run = driftproof.train(**TRAIN, out=tmp_path / "kept", figures=False, force=True)
    assert (tmp_path / "kept" / "run.json").is_file() and (tmp_path / "kept" / "notes.txt").is_file()
    assert driftproof.load(tmp_path / "kept").to_dict()["summary"] == json.loads(run.to_json())["summary"]


def _series(ax):
    return [line for line in ax.lines if len(line.get_xdata()) > 2]


def test_plots_have_their_axes_and_no_diverged_or_nonfinite_series(tmp_path):
    sign_map = driftproof.derive(act="gelu").plot()
    ax, = sign_map.axes
    assert ax.get_xlabel() == "p" and "σ'" in ax.get_ylabel() and len(ax.patches) >= 2  # + and − shaded
    verification = driftproof.verify(act="gelu", width=32, only="montecarlo").plot()
    left, right = verification.axes
    assert left.get_xlabel() == "p" and right.get_xlabel().startswith("p_i") and right.get_ylabel() == "E[δ_i | p]"
    assert any("theory" in text.get_text() for text in right.get_legend().get_texts())
    for ax in verification.axes:
        for line in _series(ax):
            assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all()

    # ReLU² at lr 10 diverges (the tanh control does not): the training plot leaves those runs out, says so
    run = driftproof.train(**{**TRAIN, "act": "relu2", "seeds": 2, "steps": 40}, lr=10.0)
    assert run.diverged and len(run.diverged) < len(run.result.logs)
    figure = run.plot()
    stopped = {(d.role, d.seed) for d in run.diverged}
    drawn = sum(len(_series(ax)) for ax in figure.axes[:2])  # sign panels of the two layers
    assert drawn == 2 * (len(run.result.logs) - len(stopped)) and "diverged" in figure._suptitle.get_text()


def test_claims_plot_leaves_diverged_configurations_out(tmp_path):
    from driftproof.render.plots import claims_figure

    driftproof.sweep("quick", tmp_path, workers=2)
    results = driftproof.sweeps.SweepStore(tmp_path).load()
    results[0] = {**results[0], "diverged": True, "test_loss": float("inf")}
    figure = claims_figure(results, "quick")
    losses = [point for line in figure.axes[0].lines for point in line.get_ydata()]
    assert len(losses) == sum(1 for r in results[1:] if r["job"]["block"] == "acts" and not r["diverged"])
    assert np.isfinite(losses).all()
    assert results[0]["label"] in figure._suptitle.get_text()
    assert [ax.get_xlabel() for ax in figure.axes] == ["activation", "sparsity at init (mean over layers)",
                                                       "forced sparsity (quantile)"]
    assert driftproof.claims(tmp_path).plot().axes[0].get_ylabel() == "held-out loss"


def test_packages_load_their_modules_on_first_use():
    """The command line's parsers and `verify` import neither the sweep machinery nor the reports; every
    public name of driftproof.api and driftproof.sweeps still resolves (and is listed by dir())."""
    import subprocess
    import sys

    probe = ("import sys, driftproof.cli, driftproof.api as api, driftproof.sweeps as sweeps;"
             "print(sorted(m for m in sys.modules if m.startswith(('driftproof.sweeps.', 'driftproof.reporting'))));"
             "assert all(hasattr(api, n) for n in api.__all__) and set(api.__all__) <= set(dir(api));"
             "assert all(hasattr(sweeps, n) for n in sweeps.__all__) and set(sweeps.__all__) <= set(dir(sweeps))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
