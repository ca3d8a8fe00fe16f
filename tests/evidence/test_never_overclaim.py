"""The MLP's verdict never claims more than was proved (issue: a proof engine that never overclaims).

For the MLP with a zero-mean independent init the claim is exactly the sign map of σσ' on p > 0
(R3): an unproved map makes the verdict inconclusive whatever Monte Carlo saw.
"""

from __future__ import annotations

from driftproof.config import Config
from driftproof.verification import decide
from driftproof.evidence.symbolic import symbolic_rows
from driftproof.render import headline
from driftproof.results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, RowKey, Verification


def _rows(r3_verdict, mc_verdict, hypotheses=True):
    return [Evidence("symbolic", RowKey("R3", init="normal"), r3_verdict, {"hypotheses_hold": hypotheses}),
            Evidence("montecarlo", RowKey("MC", 1, init="normal"), mc_verdict, {})]


def test_an_unproved_sign_map_is_inconclusive_whatever_sampling_saw():
    config = Config(loss="mse", act="gelu", depth=1, width=16)
    assert decide(_rows(INCONCLUSIVE, HOLDS), config) == INCONCLUSIVE
    assert decide(_rows(INCONCLUSIVE, VIOLATED), config) == VIOLATED  # a sampled violation is a counterexample
    assert decide(_rows(HOLDS, HOLDS), config) == HOLDS
    # no theorem (a control init): sampling decides, and the line says so
    assert decide(_rows(INCONCLUSIVE, HOLDS, hypotheses=False), config) == HOLDS


def test_the_inconclusive_line_says_what_sampling_saw():
    config = Config(loss="mse", act="gelu", depth=1, width=16)
    rows = _rows(INCONCLUSIVE, HOLDS)
    text = headline(Verification(decide(rows, config), tuple(rows), {**config.to_dict(), "arch": "mlp"}, {}))
    assert "is inconclusive" in text and "Monte Carlo at the sampled p saw: normal holds" in text


def test_a_touching_zero_on_p_positive_makes_the_claim_non_strict():
    """x**3/3 - x**2 + x: σσ' = (x**3/3 - x**2 + x)(x - 1)**2 vanishes at p = 1 without changing sign."""
    config = Config(loss="ce", act="x**3/3 - x**2 + x", depth=1, width=16)
    r3 = symbolic_rows(config)[0]
    assert r3.verdict == HOLDS and r3.numbers["zero_somewhere"] and r3.numbers["zeros_on_positive"] == [1.0]
    result = Verification(HOLDS, (r3,), {**config.to_dict(), "arch": "mlp"}, {})
    assert not result.strict and "non-strictly" in headline(result)


VIOLATORS = ("x - 1.0000001*tanh(x)", "x*tanh(1000000-x)", "x*tanh(20000-x)", "x*(1-exp(x-1000000))",
             "x*(1-exp(x-100000))")


def test_the_five_provable_violations_are_proved():
    """Each is negative somewhere on p > 0 (far out, or on (3.2e-4, 5.5e-4)): the sign map certifies it."""
    from driftproof.activations import get_activation
    from driftproof.evidence.symbolic import sign_map_verdict
    from driftproof.theory.signmap import sign_map

    for spec in VIOLATORS:
        smap = sign_map(get_activation(spec))
        assert sign_map_verdict(smap) == VIOLATED, (spec, smap.describe())


def test_a_violation_never_exits_0_under_either_loss(capsys):
    """All five, under MSE and CE: exit 1 (violated), from the certified sign map (work budgets, not time)."""
    from driftproof.cli import main

    for spec in VIOLATORS:
        for loss in ("mse", "ce"):
            code = main(["verify", "--loss", loss, "--act", spec, "--only", "symbolic", "--width", "16"])
            capsys.readouterr()
            assert code == 1, (spec, loss)


def test_stiff_logistic_activations_are_verified_not_refused(capsys):
    """x - 0.01*sigmoid((x-40)*10000) dips below 0 slope at 40 (σ' = 1 - 100 s(1-s) = -24 there): violated;
    sigmoid(1000*x)*x is proved (its σ' normalized to one fraction): holds. Neither is refused as bad input."""
    from driftproof.cli import main

    for spec, expected in (("x - 0.01*sigmoid((x-40)*10000)", 1), ("sigmoid(1000*x)*x", 0)):
        for loss in ("mse", "ce"):
            code = main(["verify", "--loss", loss, "--act", spec, "--only", "symbolic", "--width", "16"])
            captured = capsys.readouterr()
            assert code == expected, (spec, loss, captured.out[-600:], captured.err)
