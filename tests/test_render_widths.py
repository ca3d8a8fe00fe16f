"""Tables that fit: mc and claims wrap to 80 columns; a quick grid's claims say so in every row."""

from __future__ import annotations

from driftproof.api import mc
from driftproof.render.claims import claims_text
from driftproof.render.montecarlo import montecarlo_text
from driftproof.sweeps import claims_table


def test_claims_on_a_quick_grid_say_so_in_every_row_and_fit_80_columns():
    rows = claims_table([])
    text = claims_text(rows, 0, "sweeps/q", width=80, grid="quick")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("[quick grid]") == len(rows) and "do not speak for the paper's setting" in text
    assert "[quick grid]" not in claims_text(rows, 0, "sweeps/d", width=80, grid="default")


def test_mc_text_fits_80_columns_and_wide_keeps_lines_whole():
    """CE, GELU, width 64, antithetic, seed 0, 1024 samples: the theory line is ~120 characters."""
    check = mc(loss="ce", act="gelu", width=64, method="antithetic", samples=1024)
    text = montecarlo_text(check.config, check.result, check.comparison, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    wide = montecarlo_text(check.config, check.result, check.comparison, wide=True)
    assert max(len(line) for line in wide.splitlines()) > 80 and "verdict: holds" in wide
