"""The report's "Activation atlas" appendix: a table row per activation, the figure, what was not proved."""

from __future__ import annotations

import pytest

from driftproof.reporting.cache import ResultCache
from driftproof.reporting.context import DEFAULT_PAIRS, Context


def _ctx(tmp_path, quick: bool) -> Context:
    return Context(folder=tmp_path / "report", pairs=DEFAULT_PAIRS, quick=quick, cache=ResultCache(tmp_path / "c"))


def test_a_quick_build_without_a_cached_atlas_computes_nothing(tmp_path, monkeypatch):
    from driftproof import activation_atlas
    from driftproof.reporting.atlas_sections import atlas_appendix

    monkeypatch.setenv("DRIFTPROOF_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(activation_atlas, "atlas", lambda **kw: pytest.fail("the atlas was built"))
    text = atlas_appendix(_ctx(tmp_path, quick=True))
    assert r"\section{Activation atlas}" in text and "Not in a quick build" in text


def test_the_appendix_has_a_row_per_activation_and_the_figure(tmp_path, monkeypatch):
    from driftproof import activation_atlas, atlas_training
    from driftproof.reporting.atlas_sections import atlas_appendix

    monkeypatch.setenv("DRIFTPROOF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(atlas_training.SETUP, "steps", 40)
    real = activation_atlas.atlas
    monkeypatch.setattr(activation_atlas, "atlas", lambda **kw: real("squared", **kw))
    ctx = _ctx(tmp_path, quick=False)
    text = atlas_appendix(ctx)
    rows = real("squared", train_missing=False).rows
    assert all(r.name.replace("_", r"\_") in text or r.name in text for r in rows)
    assert r"\label{tab:atlas}" in text and r"\label{fig:atlas}" in text and "relu3" in text
    assert (ctx.figures / "atlas.pdf").is_file() and (ctx.figures / "atlas.png").is_file()
    assert ctx.results["atlas"]["proved"]["activations"] == len(rows)
    # printed at its own width (the text width), with no font below the report's minimum
    from driftproof.reporting.style import MIN_FONT, TEXT_WIDTH

    meta = ctx.results["figures"]["atlas"]
    assert meta["min_font"] >= MIN_FONT and meta["width_in"] <= TEXT_WIDTH + 0.1
