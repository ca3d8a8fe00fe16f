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


def test_prose_formulas_are_typeset_as_math():
    from driftproof.texutil import tex_prose

    assert tex_prose("δ_i") == r"$\delta_{i}$"
    assert tex_prose("s_V^2") == r"$s_{V}^{2}$"
    assert tex_prose("ReLU^2") == r"$\mathrm{ReLU}^{2}$"
    assert tex_prose("T^(L+1)") == r"$T^{L+1}$"
    assert tex_prose("z ~ N(0, 1)") == r"z $\sim$ N(0, 1)"
    assert tex_prose("run `driftproof sweep`") == r"run \texttt{driftproof sweep}"
    assert tex_prose("sigma sigma'(p_i) by the delta method") == r"$\sigma$ $\sigma '$($p_{i}$) by the delta method"
    # file and option names keep their underscores; a lone special is escaped
    assert tex_prose("r6_transformer.py, clip_norm & 50%") == r"r6\_transformer.py, clip\_norm \& 50\%"
    assert tex_prose("mse/relu") == r"mse/\allowbreak{}relu"
    assert tex_prose("§ 3") == r"\S{} 3"


@pytest.mark.parametrize("value, error, shown", [
    (0.123456789, 3e-4, ("0.12346", "0.00030")),
    (-0.7517915246935645, 1e-15, ("-0.7517915246935645", "1.0e-15")),
    (1.234e-7, 3.2e-9, ("1.234e-7", "3.2e-9")),
    (1234.5, 12.3, ("1234", "12")),
    (0.5, None, ("0.5", "n/a")),
])
def test_numbers_are_rounded_to_their_standard_error(value, error, shown):
    from driftproof.texutil import round_to_error

    assert round_to_error(value, error) == shown
