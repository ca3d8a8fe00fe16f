"""``driftproof sweep`` and ``driftproof claims``: output, resumption, bad input exits 2."""

import json
import time

import pytest

from driftproof.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_quick_sweep_then_claims(capsys, tmp_path):
    out = str(tmp_path / "sw")
    code, text, err = run(capsys, "sweep", "--grid", "quick", "--out", out, "--workers", "2")
    assert code == 0 and "15 run now" in text and err == ""  # no bar when stderr is not a terminal
    code, text, _ = run(capsys, "sweep", "--grid", "quick", "--out", out, "--json", "--no-progress")
    payload = json.loads(text)
    assert code == 0 and payload["sweep"]["ran"] == 0 and payload["sweep"]["skipped"] == 15
    assert payload["n_results"] == 15 and payload["grid"] == "quick"
    assert json.loads((tmp_path / "sw" / "sweep.json").read_text())["grid"] == "quick"
    code, text, _ = run(capsys, "claims", "--out", out)
    assert text.startswith("on the 'quick' grid: a smoke test")  # never read as the paper's sweep
    assert code == 0 and [line[:2] for line in text.splitlines()
                          if line[:1] in "CT" and line[1:2].isdigit()] == ["C1", "C2", "C3", "C4", "C5", "T0"]
    # the quick grid's runs record the sign at t = 0: the T0 row gives it, not "not recorded"
    t0 = next(line for line in text.splitlines() if line.startswith("T0"))
    assert "NOT RECORDED" not in t0 and any(word in t0 for word in ("POSITIVE", "ZERO WITHIN", "NEGATIVE"))
    code, text, _ = run(capsys, "claims", "--out", out, "--json")
    rows = json.loads(text)["claims"]
    assert [r["claim"] for r in rows] == ["C1", "C2", "C3", "C4", "C5", "T0"]
    assert all(r["key"]["arch"] == "mlp" for r in rows)
    assert all(r["verdict"] in ("holds", "violated", "inconclusive") for r in rows)
    assert all(r["key"]["result"] == r["claim"] and r["statement"] and r["evidence"] for r in rows)


@pytest.mark.parametrize("argv", [
    ["sweep", "--grid", "huge"],
    ["sweep", "--workers", "0", "--grid", "quick"],
    ["sweep", "--workers", "two"],
    ["sweep", "--scheduler", "nonsense://nowhere", "--grid", "quick", "--no-progress"],
    ["claims", "--bogus"],
])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, argv):
    code, out, err = run(capsys, *argv, "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err.startswith("driftproof: error:") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()  # nothing written, not even the manifest before a failed connection


def test_out_must_be_a_folder(capsys, tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    for command in ("sweep", "claims"):
        code, out, err = run(capsys, command, "--out", str(path), "--grid" if command == "sweep" else "--no-progress",
                             *(["quick"] if command == "sweep" else []))
        assert code == 2 and ("must be a folder" in err or "is not a folder" in err) and err.count("\n") == 1


@pytest.mark.parametrize("command", [["sweep", "--grid", "quick"], ["claims", "--run-sweep", "--grid", "quick"],
                                     ["train", "--steps", "2", "--seeds", "1", "--width", "8"],
                                     ["report", "--quick", "--no-pdf"]])
@pytest.mark.parametrize("out", ["file", "/proc/driftproof-x", "", "   "])
def test_every_out_is_checked_before_any_work(capsys, tmp_path, monkeypatch, command, out):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    started = time.monotonic()
    code, text, err = run(capsys, *command, "--out", out, "--no-progress" if command[0] != "report" else "--json")
    assert code == 2 and text == "" and err.startswith("driftproof: error: --out") and err.count("\n") == 1
    assert time.monotonic() - started < 5 and sorted(p.name for p in tmp_path.rglob("*")) == before


def test_claims_never_starts_a_sweep_unasked(capsys, tmp_path):
    out = tmp_path / "mistyped"
    code, text, err = run(capsys, "claims", "--out", str(out))
    assert code == 2 and "driftproof sweep --out" in err and "--run-sweep" in err and not out.exists()


def test_a_folder_keeps_its_grid(capsys, tmp_path):
    out = str(tmp_path / "sw")
    assert run(capsys, "sweep", "--grid", "quick", "--out", out, "--no-progress")[0] == 0
    code, text, err = run(capsys, "sweep", "--grid", "default", "--out", out, "--no-progress")
    assert code == 2 and "holds the 'quick' grid" in err and len(list((tmp_path / "sw" / "results").iterdir())) == 15


@pytest.mark.parametrize("workers", ["1000000", "50"])
def test_workers_capped(capsys, tmp_path, workers):
    from driftproof.sweeps import worker_count

    code, _, err = run(capsys, "sweep", "--grid", "quick", "--workers", workers, "--out", str(tmp_path / "o"))
    assert code == 2 and "at most" in err and not (tmp_path / "o").exists()
    assert worker_count(3, 2) == 2 and worker_count(None, 1) == 1  # never more processes than jobs


@pytest.mark.parametrize("argv, words", [
    (("--stored", "quick"), "--stored must be one of default, transformer"),
    (("--stored", "default", "--run-sweep"), "cannot be combined with --run-sweep"),
])
def test_claims_stored_refusals(capsys, argv, words):
    code, out, err = run(capsys, "claims", *argv)
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1


def test_claims_on_an_empty_folder_names_the_shipped_sweep(capsys, tmp_path):
    code, _, err = run(capsys, "claims", "--out", str(tmp_path / "none"))
    assert code == 2 and "driftproof claims --stored default" in err
