"""The public Python API: the CLI's operations, the same JSON, results that show themselves."""

from __future__ import annotations

import json
from html.parser import HTMLParser

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
    assert _without(api_mc, "environment", "seconds") == _without(cli_mc, "environment", "seconds")


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


def test_every_public_name_is_documented():
    for name in driftproof.__all__:
        obj = getattr(driftproof, name)
        assert obj.__doc__ and obj.__doc__.strip(), name


def test_sweep_function_and_sweeps_package_do_not_shadow_each_other():
    import importlib
    grid = importlib.import_module("driftproof.sweeps.grid")
    assert callable(driftproof.sweep) and hasattr(grid, "make_grid")
