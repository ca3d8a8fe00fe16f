"""Pre-flight budgets: refuse with one line and exit 2 what exceeds the memory limit; announce long runs."""

from __future__ import annotations

import pytest

from driftproof.budget import check_memory, mc_budget
from driftproof.evidence.montecarlo import verify_budget
from driftproof.cli import main
from driftproof.config import Config
from driftproof.errors import InputError


def test_width_65536_is_refused_before_any_work(capsys):
    code = main(["mc", "--width", "65536"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "available" in err[0]


def test_verify_budget_refuses_a_huge_context():
    with pytest.raises(InputError, match="available"):
        check_memory(verify_budget(Config(width=65536)))


def test_counter_marginal_memory_is_flat_in_width():
    """Above the keep threshold the per-thread scratch is O(width): width 4096 x 64 layers stays small. The
    weight-level kernel (a Laplace init) draws every weight, twice: minutes; the projected sampler (normal
    init) O(width) numbers per layer: about a second."""
    weights = mc_budget(Config(width=4096, depth=64, init="laplace"), mode="marginal", samples=100, method="cv")
    assert weights.bytes < 64 << 20 and weights.seconds > 60
    projected = mc_budget(Config(width=4096, depth=64), mode="marginal", samples=100, method="cv")
    assert projected.bytes < 64 << 20 and projected.seconds < 5
