import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from driftproof.reporting import build_report
from driftproof.reporting.latex import compile_pdf, missing_tex

PAIRS = (("ce", "gelu"), ("mse", "relu"), ("ce", "tanh"), ("mse", "x^2*tanh(x)/2 + Max(0, x)"))
HAVE_TEX = not missing_tex() and shutil.which("pdftotext")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    if not HAVE_TEX:
        if os.environ.get("CI"):
            pytest.fail("CI must install TeX (see .ci/run): " + " ".join(missing_tex()))
        pytest.skip("TeX is not installed")
    first = build_report(folder, pairs=PAIRS, quick=True)
    second = build_report(folder, pairs=PAIRS, quick=True)
    return folder, first, second


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_has_sections_figures_and_the_json_numbers(built):
    folder, first, _ = built
    assert first.pdf is not None and first.pdf.exists(), first.error
    text = pdf_text(first.pdf)
    for heading in ("Claims and verdicts", "Sign maps", "Derivations", "Mean field and the first step",
                    "Monte Carlo against theory", "Mean field against Monte Carlo", "Training",
                    "empirical claims at small scale", "Environment"):
        assert heading in text
    payload = json.loads(first.json.read_text())
    tex = "".join(p.read_text() for p in (folder / "generated").glob("*.tex"))
    assert payload["figures"] == tex.count(r"\includegraphics") >= 1
    flat = re.sub(r"\s+", "", text)
    for key, value in payload["numbers"].items():
        assert re.sub(r"\s+", "", value) in flat, (key, value)
    assert "-0.751791524694" in text  # GELU's root, as report.json records it


def test_rebuild_uses_the_cache(built):
    _, first, second = built
    assert first.cache_misses > 0
    assert second.cache_misses == 0 and second.cache_hits >= first.cache_misses
    assert second.pdf is not None


def test_failed_build_keeps_the_good_pdf(built, tmp_path):
    folder, first, _ = built
    target = tmp_path / "report.tex"
    target.write_text(r"\documentclass{article}\begin{document}\undefinedcommand\end{document}")
    good = b"%PDF-1.5 previous good build"
    (tmp_path / "report.pdf").write_bytes(good)
    ok, log = compile_pdf(target)
    assert not ok and "Undefined control sequence" in log
    assert (tmp_path / "report.pdf").read_bytes() == good


def test_without_tex_writes_tex_and_says_what_to_install(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}  # no latexmk, no pdflatex, no kpsewhich
    result = subprocess.run([sys.executable, "-m", "driftproof", "report", "--out", str(tmp_path / "r"),
                             "--pairs", "mse:relu"], capture_output=True, text=True, env=env)
    assert result.returncode == 4
    assert "apt-get install" in result.stderr and "latexmk" in result.stderr
    assert (tmp_path / "r" / "report.tex").exists() and (tmp_path / "r" / "figures" / "sign_maps.pdf").exists()
    assert not (tmp_path / "r" / "report.pdf").exists()


@pytest.mark.parametrize("pairs", [["mse"], ["mse:foo(x)"], ["hinge:relu"]])
def test_bad_pairs_exit_2(pairs, tmp_path):
    from driftproof.cli import main

    assert main(["report", "--out", str(tmp_path), "--pairs", *pairs]) == 2
    assert not any(tmp_path.iterdir())
