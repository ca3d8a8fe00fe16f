"""The atlas: rows that can be checked by hand, sign maps against mpmath far out on both tails, the
command line (table, JSON, HTML) and driftproof.atlas()."""

from __future__ import annotations

import functools
import json
import math

import mpmath
import pytest
import sympy as sp

import driftproof
from driftproof.activation_atlas import row_for
from driftproof.activations import get_activation, x
from driftproof.cli import main
from driftproof.theory.signmap import sign_map


def test_rows_that_can_be_checked_by_hand():
    relu = row_for("relu")
    assert relu.drift_relative_to_relu == 1.0 and relu.growth == "linear" and relu.zero_set == "(-inf, 0)"
    assert relu.certification == "exact" and relu.verdict == "holds" and relu.strict
    # E[σσ'] for ReLU at p ~ N(0, 2): E[p 1{p>0}] = sqrt(2/(2 pi)) = 1/sqrt(pi)
    assert math.isclose(relu.drift, 1 / math.sqrt(math.pi), rel_tol=1e-12)
    assert row_for("relu2").growth == "polynomial, degree 2" and row_for("exponential").growth == "exponential"
    assert row_for("tanh").growth == "bounded" and row_for("tanh").drift == 0.0


def test_a_jump_is_stated_with_its_point_mass():
    """Hardshrink jumps at ±0.5 (0 -> 0.5 at p = 0.5): σ' has a point mass there and σσ' = (σ²/2)' carries
    (0.25 - 0)/2 δ(p - 0.5); the sign map is of σσ' almost everywhere, and the note says so."""
    row = row_for("hardshrink")
    assert [round(t, 6) for t, _, _ in row.jumps] == [-0.5, 0.5]
    assert "point mass 0.125·δ(p - 0.5) (positive)" in row.note and "almost everywhere" in row.note


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "logish", "serf", "tanhexp", "smish", "bsilu", "xielu",
                                  "squareplus", "elish", "isrlu", "dsilu", "phish"])
def test_a_certified_sign_is_right_far_out_on_both_tails(name):
    """Every certified interval has the sign mpmath gives (_oracle_sign: two precisions agree) at points out to
    ±1e3. (At 200 digits alone, dSiLU's σσ' at 1e4 cancels to a value of the wrong sign.)"""
    act = get_activation(name)
    smap = sign_map(act)
    points = [s * 10.0**k for s in (-1, 1) for k in (-3, -1, 0, 1, 2, 3)] + [-2.5, -0.9, 0.37, 3.3]
    for p in points:
        iv = next((iv for iv in smap.intervals if iv.lo < p < iv.hi), None)
        if iv is None or not iv.certified:
            continue
        truth = _oracle_sign(act.sigma_dsigma, p)
        if truth != 0:
            assert iv.sign == truth, (name, p, smap.describe())


def test_atlas_family_json_and_html(capsys, tmp_path):
    page = tmp_path / "atlas.html"
    code = main(["atlas", "--family", "squared", "--json", "--html", str(page), "--no-progress", "--no-training"])
    payload = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in payload["rows"]]
    assert code == 0 and {"relu2", "gelu2", "clipped_relu2", "relu3", "xielu"} <= set(names)
    assert all(r["certification"] in ("exact", "certified", "inconclusive") for r in payload["rows"])
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script>" in text and "relu3" in text and "http" not in text


def test_atlas_refuses_a_bad_family_and_an_unwritable_page(capsys, tmp_path):
    assert main(["atlas", "--family", "nope"]) == 2
    assert main(["atlas", "--html", str(tmp_path / "missing" / "a.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_api_exposes_the_atlas():
    squared = driftproof.atlas("squared", training=False)
    assert len(squared.rows) >= 5 and all(r.family == "squared" for r in squared.rows)


@functools.lru_cache(maxsize=None)
def _oracle(expr, left: bool):
    """σσ' as an mpmath callable: erf through erfc on the side where 1 ± erf cancels, and tanh(a) as
    (E - 1)/(E + 1) with E = exp(2a), cancelled as a rational function of E (1 + tanh(-960) needs 835 digits
    as written, and none as 2E/(E + 1))."""
    expr = expr.replace(sp.erf, lambda a: sp.erfc(-a, evaluate=False) - 1 if left else 1 - sp.erfc(a, evaluate=False))
    powers = {}
    expr = expr.replace(sp.tanh, lambda a: (powers.setdefault(a, sp.Dummy()) - 1) / (powers[a] + 1))
    if powers:
        expr = sp.cancel(expr).subs({e: sp.exp(2 * a) for a, e in powers.items()})
    return sp.lambdify(x, expr, modules="mpmath")


def _oracle_sign(expr, p: float) -> int:
    """sign of σσ'(p) by mpmath (erf through erfc on the side where 1 ± erf cancels): the first value that two
    successive precisions agree on to 1e-6 relative (one precision alone can cancel to a wrong sign); 0 when
    none do. The precisions start at 40 + |p| digits: 1 - tanh(p)**2 ~ 4 exp(-2|p|) needs about 0.87 |p|."""
    f = _oracle(expr, p < 0)
    previous = None
    base = 40 + int(abs(p))
    for dps in (base, 2 * base, 4 * base, 8 * base, 16 * base):
        with mpmath.workdps(dps):
            value = f(mpmath.mpf(p))
            if previous is not None and value != 0 and abs(value - previous) <= 1e-6 * abs(value):
                return 1 if value > 0 else -1
        previous = value
    return 0


@pytest.mark.parametrize("name", sorted(__import__("driftproof.catalogue", fromlist=["CATALOGUE"]).CATALOGUE))
def test_every_proved_sign_map_agrees_with_a_dense_high_precision_scan(name):
    """Each exact or certified map of the catalogue has the sign mpmath gives (_oracle_sign) at 300 seeded points
    (seed 7) in [-30, 30], a dense grid of 200 on [-1e-3, 1e-3] (roots near 0) and 24 far points out to ±1e3
    (periodic tails through their period; farther out the oracle's precision costs too much). Points within
    1e-7 of a root or a breakpoint are skipped; an inconclusive map is skipped (it claims nothing where it
    says 'sign not proved')."""
    act = get_activation(name)
    smap = sign_map(act)
    if not smap.proved:
        pytest.skip(f"{name}: inconclusive ({smap.reason})")
    _agrees_with_the_oracle(act, smap)


# One expression per new proof rule: a square root's conjugate on a tail, a period, a sum of exponentials
# divided by its dominant power, a stiff logistic normalized to one fraction.
RULES = ("x/2 + sqrt(x**2 + 9)/2 - 1", "x - sqrt(x**2 + 1) + 2", "sin(x) + 0.5",
         "(x*(1 - 1/(1 + exp(-2*x))) + 1)/(1 + exp(-2*x))", "sigmoid(100*x)*x")


@pytest.mark.parametrize("spec", RULES)
def test_each_new_proof_rule_proves_a_map_that_mpmath_confirms(spec):
    act = get_activation(spec)
    smap = sign_map(act)
    assert smap.proved, smap.reason
    _agrees_with_the_oracle(act, smap)


def _agrees_with_the_oracle(act, smap):
    import numpy as np

    rng = np.random.default_rng(7)
    far = np.geomspace(40, 1e3, 12)
    points = np.concatenate([rng.uniform(-30, 30, 300), np.linspace(-1e-3, 1e-3, 200), far, -far])
    near = [r.value for r in smap.roots] + list(act.breakpoints)
    period = next((iv.period for iv in smap.intervals if iv.period is not None), None)
    checked = 0
    for p in map(float, points):
        at = p if period is None else smap.intervals[1].lo + math.fmod(p - smap.intervals[1].lo, period) % period
        if any(abs(at - r) < 1e-7 * max(1.0, abs(r)) for r in near if math.isfinite(r)):
            continue
        got = smap.sign_at(p)
        if got is None:
            continue
        truth = _oracle_sign(act.sigma_dsigma, p)
        assert got == truth, (act.name, p, smap.describe()[:300])
        checked += 1
    assert checked >= 400, checked


# --- the training summary, the figure, the appendix (a shorter setup: the numbers' plumbing, not their values)

@pytest.fixture
def short_training(monkeypatch, tmp_path):
    from driftproof import atlas_training

    monkeypatch.setenv("DRIFTPROOF_CACHE", str(tmp_path))
    monkeypatch.setitem(atlas_training.SETUP, "steps", 40)
    return atlas_training


def test_training_summary_relu_gelu_and_the_refused(short_training):
    """ReLU: a unit is exactly 0 iff p <= 0, so both sparsity changes agree seed by seed; tanh is never exactly 0;
    exp(x) diverges or is refused; every interval is over 5 seeds and contains its mean."""
    relu = short_training.training_summary("relu")
    assert relu["seeds"] == [0, 1, 2, 3, 4] and relu["diverged"] == [] and not relu["all_diverged"]
    assert relu["zero_frac_change"]["values"] == relu["nonpos_frac_change"]["values"]
    for key in ("zero_frac_change", "nonpos_frac_change", "positive_fraction"):
        e = relu[key]
        assert e["n"] == 5 and e["ci_low"] <= e["mean"] <= e["ci_high"]
    assert 0.0 <= relu["positive_fraction"]["ci_low"] and relu["positive_fraction"]["ci_high"] <= 1.0
    # tanh is exactly 0 only at p = 0 (GELU is not a control here: x Φ(x) underflows to 0 below p ≈ -38)
    tanh = short_training.training_summary("tanh")
    assert tanh["zero_frac_start"]["mean"] == 0.0 and tanh["zero_frac_change"]["values"] == [0.0] * 5
    # exp(x): at LeCun scale every run diverges at step 0 (named, summarized over the steps before it);
    # at He scale it is refused before any work (logits of sd 1e45)
    exponential = short_training.training_summary("exponential")
    assert exponential["all_diverged"] and [d["seed"] for d in exponential["diverged"]] == [0, 1, 2, 3, 4]
    short_training.SETUP["scale"] = "he"
    assert "sd 3.65e+45" in short_training.training_summary("exponential")["refused"]
    short_training.SETUP["scale"] = "lecun"
    # cached: the same numbers come back without training
    assert short_training.cached_summary("relu") == relu


def test_the_figure_draws_every_trained_activation_and_names_the_rest(short_training):
    from driftproof.activation_atlas import atlas
    from driftproof.render.atlas_figure import left_out

    result = atlas("squared")  # relu2, relu3 (every run diverges at He scale), gelu2, ...
    gone = left_out(result)
    assert "relu3" in gone["every run diverged"]
    figure = result.plot()
    labels = {name for ax in figure.axes for t in ax.texts for name in t.get_text().split(", ")}  # grouped labels
    drawn = {r.name for r in result.rows} - {n for names in gone.values() for n in names}
    assert drawn and drawn <= labels and not (labels & set(gone["every run diverged"]))
    assert "relu3" in figure._suptitle.get_text()


def test_atlas_refuses_figure_without_training_and_bad_workers(capsys, tmp_path):
    assert main(["atlas", "--figure", str(tmp_path / "a.png"), "--no-training"]) == 2
    assert main(["atlas", "--workers", "0", "--no-training"]) == 2
    assert main(["atlas", "--figure", str(tmp_path / "a.txt")]) == 2
    assert not list(tmp_path.iterdir())
