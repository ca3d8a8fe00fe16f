"""verify for each architecture: the sources it runs and how zero expectations read."""

from __future__ import annotations


from driftproof.cli import main
from driftproof.config import Config

from driftproof.render import headline, row_summary
from driftproof.results import HOLDS, ZERO, Evidence, RowKey, Verification, combine
from driftproof.theory.normalized import Residual
from driftproof.evidence.residual import symbolic_rows


def test_resmlp_runs_the_r6_rows(capsys):
    """ResMLP (LayerNorm, eps 1e-5), ce/gelu, 2 blocks: derived coefficients ~1e-7 of the plain net's."""
    code = main(["verify", "--arch", "resmlp", "--loss", "ce", "--act", "gelu", "--depth", "2", "--width", "128",
                 "--only", "symbolic", "--json"])
    assert code == 0
    out = capsys.readouterr().out
    assert '"arch": "resmlp"' in out and '"result": "R6"' in out and '"result": "R1"' not in out


def test_a_proved_zero_holds_only_non_strictly():
    """RMSNorm with eps = 0: every block's expectation is exactly zero (R6), so the claim holds non-strictly."""
    config = Config(loss="mse", act="relu", depth=2, width=64)
    rows = symbolic_rows(config, Residual(config, "rmsnorm", 0.0))
    assert [r.verdict for r in rows] == [ZERO, ZERO]
    result = Verification(combine(r.verdict for r in rows), tuple(rows), {**config.to_dict(), "arch": "resmlp"}, {})
    assert result.verdict == HOLDS and not result.strict
    assert "non-strictly" in headline(result) and all("= 0 exactly" in row_summary(r) for r in rows)


def test_a_verdict_from_sampling_alone_says_it_is_not_proved():
    """Only Monte Carlo decided (no symbolic row): the verdict line must not read as a proof."""
    config = Config(loss="ce", act="gelu", depth=1, width=16)
    sampled = Evidence("montecarlo", RowKey("MC", 1, init="normal"), HOLDS)
    result = Verification(HOLDS, (sampled,), {**config.to_dict(), "arch": "mlp"}, {})
    assert "holds by sampling, not proved" in headline(result)
    proved = Verification(HOLDS, (Evidence("symbolic", RowKey("R3"), HOLDS), sampled),
                          {**config.to_dict(), "arch": "mlp"}, {})
    assert "not proved" not in headline(proved)


def test_zero_never_outweighs_a_violation():
    rows = [Evidence("symbolic", RowKey("R6", 1), ZERO), Evidence("symbolic", RowKey("R6", 2), "violated")]
    assert combine(r.verdict for r in rows) == "violated"


def test_a_clip_makes_the_claim_hold_non_strictly(capsys):
    """clipped_relu2(c=1), CE: σσ' = 0 on (1, ∞); verify says holds, non-strictly (exit 0), not inconclusive."""
    code = main(["verify", "--loss", "ce", "--act", "clipped_relu2(c=1)", "--only", "symbolic",
                 "--only", "montecarlo", "--width", "64"])
    out = capsys.readouterr().out
    assert code == 0 and "holds only non-strictly" in out and "exactly zero" in out
