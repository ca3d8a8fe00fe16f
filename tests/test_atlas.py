"""The atlas: rows that can be checked by hand, sign maps against mpmath far out on both tails, the
command line (table, JSON, HTML) and driftproof.atlas()."""

from __future__ import annotations

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
    """Every certified interval has the sign mpmath gives (200 digits) at points out to ±1e8."""
    act = get_activation(name)
    smap = sign_map(act)
    f = sp.lambdify(x, act.sigma_dsigma, modules="mpmath")
    points = [s * 10.0**k for s in (-1, 1) for k in (-3, -1, 0, 1, 2, 4, 8)] + [-2.5, -0.9, 0.37, 3.3]
    for p in points:
        iv = next((iv for iv in smap.intervals if iv.lo < p < iv.hi), None)
        if iv is None or not iv.certified:
            continue
        with mpmath.workdps(200):
            value = f(mpmath.mpf(p))
        truth = 0 if value == 0 else (1 if value > 0 else -1)
        if truth != 0:
            assert iv.sign == truth, (name, p, smap.describe())


def test_atlas_family_json_and_html(capsys, tmp_path):
    page = tmp_path / "atlas.html"
    code = main(["atlas", "--family", "squared", "--json", "--html", str(page), "--no-progress"])
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
    squared = driftproof.atlas("squared")
    assert len(squared.rows) >= 5 and all(r.family == "squared" for r in squared.rows)
