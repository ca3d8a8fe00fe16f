"""Where a full report's sweep evidence comes from: the user's own sweep folder (an incomplete one makes the build
partial, naming what was not run), else the sweeps shipped with the package; a quick build reads neither."""

from __future__ import annotations

import pytest

from driftproof.reporting.cache import ResultCache
from driftproof.reporting.context import DEFAULT_PAIRS, Context
from driftproof.reporting.build import partial_reasons
from driftproof.reporting.sweep_results import sweep_results
from driftproof.sweeps import SweepStore, make_grid, run_job
from driftproof.sweeps import shipped


@pytest.fixture(scope="module")
def one_result():
    """One real result of the default grid (its first configuration, trained here)."""
    return run_job(make_grid("default")[0])


@pytest.fixture
def packs(tmp_path, monkeypatch):
    """An empty stored/ folder in place of the package's, and the pack cache cleared around the test."""
    monkeypatch.setattr(shipped, "STORED", tmp_path / "stored")
    shipped.stored_sweep.cache_clear()
    yield tmp_path / "stored"
    shipped.stored_sweep.cache_clear()


def _context(tmp_path, quick=False):
    return Context(folder=tmp_path / "report", pairs=DEFAULT_PAIRS, quick=quick, cache=ResultCache(tmp_path / "c"))


def test_the_shipped_pack_is_read_when_no_folder_holds_results(tmp_path, monkeypatch, packs, one_result):
    monkeypatch.chdir(tmp_path)
    shipped.pack("default", [one_result], {"commit": "abc", "date": "2026-12-07"})
    shipped.pack("transformer", [], {"commit": "abc"})
    ctx = _context(tmp_path)
    results, source = sweep_results(ctx)
    assert [r["key"] for r in results] == [one_result["key"]]
    assert "shipped with driftproof" in source and "abc" in source
    assert any("shipped" in folder for folder in ctx.sweep_folders) and ctx.sweep_incomplete == []


def test_an_incomplete_folder_of_ones_own_makes_the_build_partial(tmp_path, monkeypatch, packs, one_result):
    monkeypatch.chdir(tmp_path)
    store = SweepStore(tmp_path / "sweeps" / "default")
    store.write_manifest({"grid": "default", "jobs": [job.key for job in make_grid("default")]})
    store.put(one_result)
    ctx = _context(tmp_path)
    results, _ = sweep_results(ctx)
    assert len(results) == 1
    total = len(make_grid("default"))
    assert ctx.sweep_incomplete == [f"sweeps/default: not run: {total - 1} of {total} configurations of the "
                                    "'default' grid"]
    assert ctx.sweep_incomplete[0] in partial_reasons(ctx)
