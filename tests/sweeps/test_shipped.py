"""The sweep results shipped with the package: packed and read back exactly, refused when damaged, whole,
and regenerated bit for bit by rerunning a sample of their configurations."""

from __future__ import annotations

import gzip
import json

import pytest

from driftproof.errors import InputError
from driftproof.sweeps import make_grid, run_job
from driftproof.sweeps.shipped import SHIPPED_GRIDS, load_pack, pack, pack_path, stored_sweep
from driftproof.sweeps.store import CHECKSUM


@pytest.fixture(scope="module")
def quick_results():
    """Two real results of the quick grid (its two cheapest kinds of configuration), trained here."""
    jobs = make_grid("quick")
    return [run_job(jobs[0]), run_job(jobs[-1])]


def _read(path):
    with gzip.open(path, "rt") as stream:
        return json.load(stream)


def _write(path, payload):
    with gzip.open(path, "wt") as stream:
        json.dump(payload, stream)


def test_round_trip_is_exact_and_deterministic(tmp_path, quick_results):
    first = pack("quick", quick_results, {"commit": "abc"}, tmp_path / "a.json.gz")
    second = pack("quick", list(reversed(quick_results)), {"commit": "abc"}, tmp_path / "b.json.gz")
    assert first.read_bytes() == second.read_bytes()  # sorted, no time stamp: repacking changes no byte
    shipped = load_pack(first, "quick")
    assert sorted(shipped.results, key=lambda r: r["key"]) == sorted(quick_results, key=lambda r: r["key"])
    assert shipped.provenance == {"commit": "abc"}


def _changed_value(payload):
    payload["results"][0]["sparsity_end"][0] += 1e-12


def _no_checksum(payload):
    del payload["results"][0][CHECKSUM]


def _edited_job(payload):
    payload["results"][0]["job"]["seed"] += 100


def _duplicate(payload):
    payload["results"].append(payload["results"][0])


@pytest.mark.parametrize("damage, words", [
    (_changed_value, "checksum that does not match"),
    (_no_checksum, "has no checksum"),
    (_edited_job, "does not hash to its key"),
    (_duplicate, "appears twice"),
])
def test_a_damaged_pack_is_refused(tmp_path, quick_results, damage, words):
    path = pack("quick", quick_results, {}, tmp_path / "quick.json.gz")
    payload = _read(path)
    damage(payload)
    _write(path, payload)
    with pytest.raises(InputError, match=words) as refused:
        load_pack(path, "quick")
    assert "scripts/pack_sweeps.py --grid quick" in str(refused.value)  # says how to regenerate it


def test_results_of_another_grid_or_a_truncated_pack_are_refused(tmp_path, quick_results):
    path = pack("quick", quick_results, {}, tmp_path / "quick.json.gz")
    with pytest.raises(InputError, match="holds the grid 'quick', not 'default'"):
        load_pack(path, "default")
    payload = _read(path)
    payload["grid"] = "default"  # relabelled: its results are still not the default grid's configurations
    _write(path, payload)
    with pytest.raises(InputError, match="not a configuration of this version's 'default' grid"):
        load_pack(path, "default")
    path.write_bytes(pack("quick", quick_results, {}, tmp_path / "q2.json.gz").read_bytes()[:-40])
    with pytest.raises(InputError, match="cannot be read"):
        load_pack(path, "quick")


@pytest.mark.parametrize("grid", SHIPPED_GRIDS)
def test_the_shipped_grids_are_whole(grid):
    shipped = stored_sweep(grid)
    assert shipped is not None, f"{pack_path(grid)} is not shipped: run scripts/pack_sweeps.py (see its docstring)"
    assert sorted(r["key"] for r in shipped.results) == sorted(job.key for job in make_grid(grid))
    for name in ("commit", "command", "date", "wall_minutes", "cpus"):
        assert shipped.provenance.get(name) is not None, name


def _sample(grid):
    """The cheapest stored configuration of each block of ``grid`` (by its recorded time)."""
    cheapest = {}
    for result in stored_sweep(grid).results:
        block = result["job"]["block"]
        if block not in cheapest or result["seconds"] < cheapest[block]["seconds"]:
            cheapest[block] = result
    return [cheapest[block] for block in sorted(cheapest)]


@pytest.mark.slow
@pytest.mark.parametrize("grid", SHIPPED_GRIDS)
def test_shipped_results_regenerate_bit_for_bit(grid):
    """Rerun the cheapest configuration of each block and compare every stored number exactly (all but the
    wall time): the shipped evidence is what this version's code computes, not a record of an older one."""
    if stored_sweep(grid) is None:
        pytest.fail(f"{pack_path(grid)} is not shipped")
    for stored in _sample(grid):
        again = json.loads(json.dumps(run_job(stored["job"]), allow_nan=False))
        for result in (stored, again):
            result.pop("seconds")
        assert again == {k: v for k, v in stored.items() if k != "seconds"}, stored["label"]


def test_the_mlp_sensitivity_check_is_quoted_for_the_mlp_family_only():
    """The shipped C2/C3 sensitivity check trained MLP-family networks: the GPT and ViT records never quote it."""
    from driftproof.sweeps import claims_of_families

    notes = {(row.key.arch, row.key.result): row.numbers["paper_record"].note
             for grid in SHIPPED_GRIDS for row in claims_of_families(stored_sweep(grid).results)}
    assert "sensitivity" in notes[("mlp", "C2")] and "sensitivity" in notes[("mlp", "C3")]
    assert not any("sensitivity" in note for (arch, _), note in notes.items() if arch != "mlp")
