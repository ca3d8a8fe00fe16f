"""Plain text in the report reads as typed."""

import shutil
import subprocess

import pytest

from driftproof.texutil import tex_escape


def test_hyphens_and_backquotes_are_kept_as_typed():
    assert tex_escape("driftproof sweep --grid quick") == "driftproof sweep -{}-grid quick"
    assert tex_escape("---") == "-{}-{}-"
    assert tex_escape("`mc`") == r"\textasciigrave{}mc\textasciigrave{}"
    assert tex_escape("a - b, x_1 & 50%") == r"a - b, x\_1 \& 50\%"


@pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
                    reason="needs pdflatex and pdftotext")
@pytest.mark.parametrize("fonts", ["", "\\usepackage[T1]{fontenc}"])
def test_the_pdf_shows_two_hyphens_and_a_backquote(tmp_path, fonts):
    text = "run `driftproof sweep --grid quick` now"
    (tmp_path / "t.tex").write_text("\\documentclass{article}" + fonts + "\\begin{document}"
                                    + tex_escape(text) + "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    shown = subprocess.run(["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True, text=True).stdout
    assert text in shown
