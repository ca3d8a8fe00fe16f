"""``driftproof sweep`` and ``driftproof claims``: output, resumption, bad input exits 2."""

import json

import pytest

from driftproof.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_quick_sweep_then_claims(capsys, tmp_path):
    out = str(tmp_path / "sw")
    code, text, err = run(capsys, "sweep", "--grid", "quick", "--out", out, "--workers", "2")
    assert code == 0 and "15 run now" in text and "sweep quick" in err  # the bar is on stderr
    code, text, _ = run(capsys, "sweep", "--grid", "quick", "--out", out, "--json", "--no-progress")
    payload = json.loads(text)
    assert code == 0 and payload["ran"] == 0 and payload["skipped"] == 15 and len(payload["results"]) == 15
    code, text, _ = run(capsys, "claims", "--out", out)
    assert code == 0 and [line[:2] for line in text.splitlines() if line[:1] == "C"] == ["C1", "C2", "C3", "C4", "C5"]
    code, text, _ = run(capsys, "claims", "--out", out, "--json")
    rows = json.loads(text)["claims"]
    assert [r["claim"] for r in rows] == ["C1", "C2", "C3", "C4", "C5"]
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


def test_out_must_be_a_folder(capsys, tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    for command in ("sweep", "claims"):
        code, out, err = run(capsys, command, "--out", str(path), "--grid" if command == "sweep" else "--no-progress",
                             *(["quick"] if command == "sweep" else []))
        assert code == 2 and "must be a folder" in err
