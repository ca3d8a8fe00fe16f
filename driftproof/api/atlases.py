"""``driftproof.atlas()``: the activation atlas (driftproof/activation_atlas.py)."""

from __future__ import annotations

from ..activation_atlas import Atlas, AtlasRow, atlas

__all__ = ["atlas", "Atlas", "AtlasRow"]
