"""The atlas's training summaries shipped with the package (driftproof/stored/atlas_training.json): the whole
catalogue, this version's setup and formulas, refused when edited, and regenerated bit for bit by training a
sample again (relu, tanh and relu2: about 12 s of one core)."""

import json
import shutil

import pytest

from driftproof import atlas_stored, atlas_training
from driftproof.activations import get_activation
from driftproof.catalogue import CATALOGUE
from driftproof.errors import InputError


@pytest.fixture
def pack(monkeypatch, tmp_path):
    """A copy of the shipped pack that a test may damage; read through the same functions."""
    copy = tmp_path / "atlas_training.json"
    shutil.copy(atlas_stored.STORED_PATH, copy)
    monkeypatch.setattr(atlas_stored, "STORED_PATH", copy)
    atlas_stored._read_stored.cache_clear()
    yield copy
    atlas_stored._read_stored.cache_clear()


def test_the_pack_holds_every_catalogued_activation_in_this_setup():
    payload = json.loads(atlas_stored.STORED_PATH.read_text())
    assert payload["setup"] == atlas_training.SETUP
    assert sorted(payload["summaries"]) == sorted(CATALOGUE)
    for name, entry in payload["summaries"].items():
        assert entry["formula"] == str(get_activation(name).expr), name
        assert atlas_stored.stored_summary(name) is not None, name
    provenance = atlas_stored.stored_provenance()
    assert len(provenance["commit"]) == 40 and provenance["activations"] == len(CATALOGUE)


@pytest.mark.parametrize("name", ["relu", "tanh", "relu2"])
def test_a_shipped_summary_is_what_training_gives_again_bit_for_bit(name, monkeypatch, tmp_path):
    monkeypatch.setenv("DRIFTPROOF_CACHE", str(tmp_path))  # nothing cached: trained afresh
    fresh = atlas_training.training_summary(name, cache=False)
    stored = atlas_stored.stored_summary(name)
    for summary in (fresh, stored):
        summary.pop("cpu_seconds")  # the one number that is the machine's, not the training's
    stored.pop("stored")
    assert json.dumps(fresh, sort_keys=True) == json.dumps(stored, sort_keys=True)


def test_an_edited_pack_is_refused_and_names_how_to_regenerate_it(pack):
    payload = json.loads(pack.read_text())
    payload["summaries"]["relu"]["summary"]["zero_frac_change"]["mean"] += 0.01
    pack.write_text(json.dumps(payload))
    with pytest.raises(InputError, match="checksum.*scripts/pack_atlas.py"):
        atlas_stored.stored_summary("relu")


def test_an_unreadable_pack_is_refused(pack):
    pack.write_text("{not json")
    with pytest.raises(InputError, match="cannot be read"):
        atlas_stored.stored_summary("relu")


def test_another_setup_or_formula_is_not_read_from_the_pack(monkeypatch):
    assert atlas_stored.stored_summary("relu") is not None
    monkeypatch.setitem(atlas_training.SETUP, "steps", 40)
    assert atlas_stored.stored_summary("relu") is None  # trained in the new setup instead


def test_the_atlas_says_where_its_summaries_come_from(monkeypatch, tmp_path):
    from types import SimpleNamespace

    rows = [SimpleNamespace(training=atlas_stored.stored_summary(n)) for n in ("relu", "gelu")]
    rows.append(SimpleNamespace(training={"setup": "x"}))  # one trained on this machine
    text = atlas_stored.training_source(rows)
    commit = atlas_stored.stored_provenance()["commit"][:10]
    assert f"2 of 3 shipped with driftproof (trained at commit {commit}" in text and "1 trained on this machine" in text
