"""A full build (evidence, no 'quick' or 'partial' suffix) has an empty title suffix; the template must compile
with it. It did not: the empty suffix file was read as an empty line inside the title's group."""

import shutil
import subprocess
from importlib import resources

import pytest

from driftproof.reporting.build import banner_tex
from driftproof.reporting.latex import missing_tex


@pytest.mark.parametrize("reasons", [[], ["quick build"]])
def test_the_title_compiles_with_and_without_a_suffix(tmp_path, reasons):
    if missing_tex():
        pytest.fail("CI must install TeX (see .ci/run): " + " ".join(missing_tex()))
    template = resources.files("driftproof.reporting").joinpath("templates/report.tex").read_text()
    line = next(line for line in template.splitlines() if "generated/title.tex" in line)
    (tmp_path / "generated").mkdir()
    title, _ = banner_tex(reasons, quick=bool(reasons))
    build = resources.files("driftproof.reporting").joinpath("build.py").read_text()
    assert 'title + "%\\n"' in build  # the suffix is written as the build writes it
    (tmp_path / "generated" / "title.tex").write_text(title + "%\n")
    for name, text in (("version.tex", "0.1.0\n"), ("date.tex", "2026-12-07\n")):
        (tmp_path / "generated" / name).write_text(text)
    (tmp_path / "t.tex").write_text("\\documentclass{article}\\usepackage{xcolor}\\begin{document}\\begin{center}\n"
                                    + line + "\ndriftproof \\input{generated/version.tex}\\unskip\n"
                                    "\\end{center}\\end{document}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
