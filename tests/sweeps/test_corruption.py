"""A stored sweep is never trusted blindly: random byte-level damage to a result file never crashes
(exit 70) and never counts a result twice; ``claims`` refuses the damaged folder in one line (or, where
the damage left the contents intact, counts each result once) and a resumed ``sweep`` recomputes it.

One tiny grid (two jobs of a few steps) is swept once per session; each example damages a copy.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftproof.cli import main
from driftproof.sweeps import Job, grid, store

NAME = "corruption_tiny"


def tiny_jobs() -> list[Job]:
    return [Job(act=act, data="noise", width=8, depth=1, steps=4, batch=8, n_train=32, n_test=16, seed=0)
            for act in ("relu", "gelu")]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    grid.GRIDS[NAME] = tiny_jobs
    out = tmp_path_factory.mktemp("tiny") / "sweep"
    code, _, err = run("sweep", "--grid", NAME, "--out", str(out), "--workers", "1", "--no-progress")
    assert code == 0, err
    yield out
    del grid.GRIDS[NAME]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def damage(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    """Apply byte-level edits: flip (xor with a non-zero byte), truncate, insert, delete."""
    for kind, where, byte in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and data:
            at %= len(data)
            data = data[:at] + bytes([data[at] ^ (byte or 1)]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + bytes([byte]) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + 1:]
    return data


EDITS = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "insert", "delete"]), st.integers(0, 10**6),
                           st.integers(0, 255)), min_size=1, max_size=3)


@settings(max_examples=25, deadline=None)
@given(which=st.integers(0, 1), edits=EDITS)
def test_a_damaged_result_is_refused_or_recomputed_never_crashes_or_counts_twice(pristine, which, edits):
    jobs = len(tiny_jobs())
    with tempfile.TemporaryDirectory(dir=pristine.parent) as scratch:
        out = Path(scratch) / "sweep"
        shutil.copytree(pristine, out)
        target = sorted((out / "results").glob("*.json"))[which]
        target.write_bytes(damage(target.read_bytes(), edits))
        code, text, err = run("claims", "--out", str(out), "--json")
        assert code in (0, 2), err
        if code == 0:
            assert json.loads(text)["n_results"] == jobs  # the damage left the contents intact: counted once
        else:
            assert len(err.strip().splitlines()) == 1 and target.name in err and "Traceback" not in err
        code, text, err = run("sweep", "--grid", NAME, "--out", str(out), "--workers", "1", "--no-progress",
                              "--json")
        assert code == 0, err
        assert json.loads(text)["n_results"] == jobs
        code, text, err = run("claims", "--out", str(out), "--json")
        assert code == 0 and json.loads(text)["n_results"] == jobs, err


@pytest.mark.parametrize("how", ["copy", "directory", "foreign", "relabel", "unknown grid"])
def test_a_folder_that_lies_is_refused_in_one_line(pristine, tmp_path, how):
    """A copied result (counted twice before), a folder named like a result, another grid's result, a record
    relabelled to another grid or to no grid: claims refuses in one line, naming what is wrong."""
    out = tmp_path / "sweep"
    shutil.copytree(pristine, out)
    first = sorted((out / "results").glob("*.json"))[0]
    if how == "copy":
        shutil.copy(first, out / "results" / "copy.json")
    elif how == "directory":
        first.unlink()
        first.mkdir()
    elif how == "foreign":
        other = Job(act="tanh", data="noise", width=8, depth=1, steps=4, batch=8, n_train=32, n_test=16)
        payload = json.loads(first.read_text())
        payload.update(key=other.key, job=other.to_dict())
        payload.pop("checksum")
        payload["checksum"] = store.result_checksum(payload)  # a whole, valid result: only its grid is wrong
        (out / "results" / f"{other.key}.json").write_text(json.dumps(payload))
    else:
        manifest = json.loads((out / "sweep.json").read_text())
        manifest["grid"] = "quick" if how == "relabel" else 123
        (out / "sweep.json").write_text(json.dumps(manifest))
    code, text, err = run("claims", "--out", str(out))
    assert code == 2 and text == "" and len(err.strip().splitlines()) == 1, err
    assert {"copy": "copy.json", "directory": "is not a file", "foreign": "not a configuration of the grid",
            "relabel": "does not list that grid's configurations", "unknown grid": "names the grid 123"}[how] in err


def test_a_result_without_its_checksum_is_refused_by_claims_and_recomputed_by_a_resume(pristine, tmp_path):
    """A result whose checksum was deleted (an edit that removes it would otherwise pass unchecked): claims
    refuses the folder naming the file and the command that recomputes it; a resume recomputes it, says so, and
    writes it with a checksum; claims then counts every result once."""
    out = tmp_path / "sweep"
    shutil.copytree(pristine, out)
    target = sorted((out / "results").glob("*.json"))[0]
    payload = json.loads(target.read_text())
    del payload["checksum"]
    target.write_text(json.dumps(payload, indent=1))
    code, text, err = run("claims", "--out", str(out))
    assert code == 2 and text == "" and len(err.strip().splitlines()) == 1, err
    assert f"results/{target.name} has no checksum" in err and f"sweep --grid {NAME} --out {out}" in err
    code, text, err = run("sweep", "--grid", NAME, "--out", str(out), "--workers", "1", "--no-progress", "--json")
    assert code == 0, err
    assert target.name in err and "no checksum" in err
    assert "checksum" in json.loads(target.read_text())
    code, text, err = run("claims", "--out", str(out), "--json")
    assert code == 0 and json.loads(text)["n_results"] == len(tiny_jobs()), err
