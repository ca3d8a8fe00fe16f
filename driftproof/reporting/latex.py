"""Numbers and tables for the LaTeX report, and the PDF build.

Every number the PDF shows is registered once in ``Numbers``: it is written to a macro
file the template inputs *and* to ``report.json`` with the exact string printed, so the PDF
and the JSON cannot disagree.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..texutil import round_to_error, tex_escape, tex_prose

__all__ = ["Numbers", "table", "compile_pdf", "missing_tex", "TEX_PACKAGES", "fmt", "interval", "pm", "figure_tex"]

# LaTeX files the template needs -> the Debian package that ships them.
TEX_PACKAGES = {"amsmath.sty": "texlive-latex-base", "graphicx.sty": "texlive-latex-base",
                "geometry.sty": "texlive-latex-base", "hyperref.sty": "texlive-latex-base",
                "longtable.sty": "texlive-latex-base", "booktabs.sty": "texlive-latex-recommended",
                "xcolor.sty": "texlive-latex-recommended", "float.sty": "texlive-latex-recommended",
                "etoolbox.sty": "texlive-latex-recommended", "array.sty": "texlive-latex-base",
                "caption.sty": "texlive-latex-recommended"}


def fmt(value, digits: int = 4) -> str:
    """A number as the report prints it (and as report.json records it)."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    text = f"{value:.{digits}g}"
    if 1e-3 <= magnitude < 1e5 and "e" not in text:  # 9320 to 3 digits is 9.32e3, as elsewhere, not 9.32e+03
        return text
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


class Numbers:
    """Registered numbers: a macro each, and their printed strings for report.json."""

    def __init__(self):
        self.values: dict[str, str] = {}
        self._names: dict[str, str] = {}

    def add(self, key: str, value, digits: int = 4) -> str:
        """Register ``value`` under ``key``; returns the printed string (also a macro \\dp...)."""
        if key not in self._names:
            base = "dp" + re.sub(r"[^A-Za-z]", "", key.title())
            name, n = base, 0
            while name in self._names.values():
                n += 1
                name = base + "".join(chr(65 + int(d)) for d in str(n))
            self._names[key] = name
        self.values[key] = fmt(value, digits)
        return self.values[key]

    def macro(self, key: str) -> str:
        return "\\" + self._names[key] + "{}"

    def macros(self) -> str:
        return "\n".join(rf"\newcommand{{\{self._names[k]}}}{{{tex_escape(v)}}}" for k, v in self.values.items()) + "\n"


def _header(text: str) -> str:
    """A column header: LaTeX as given when it has math or a command, else typeset prose."""
    return text if "$" in text or "\\" in text else tex_prose(text)


def table(columns: list[str], rows: list[list[str]], caption: str, align: str | None = None,
          size: str = "", label: str = "", breakable: bool = True, placement: str = "") -> str:
    """A booktabs longtable; cells are LaTeX already (escape text before passing it).

    ``size`` (e.g. ``\\scriptsize``) shrinks a wide table, with tighter column padding. ``breakable=False``: one
    block in the running text; with ``placement`` (``!htbp``) a float instead, so that the text before and after
    it fills the page it does not fit on.
    """
    align = align or "l" * len(columns)
    # p{} columns are set ragged right: long words (file names, intervals) never push a cell into the margin
    align = align.replace("p{", r">{\raggedright\arraybackslash}p{")
    head = " & ".join(r"\textbf{" + _header(c) + "}" for c in columns) + r" \\"
    body = "\n".join(" & ".join(row) + r" \\" for row in rows)
    continued = (rf"\multicolumn{{{len(columns)}}}{{l}}{{\small\emph{{Table \thetable{{}} continued}}}}\\" + "\n"
                 + r"\toprule" + "\n" + head + "\n" + r"\midrule\endhead")
    if not breakable and placement:
        return (rf"\begin{{table}}[{placement}]\centering" + size + r"\setlength{\tabcolsep}{3pt}" + "\n"
                + rf"\caption{{{caption}}}" + (rf"\label{{{label}}}" if label else "") + "\n"
                + rf"\begin{{tabular}}{{{align}}}" + "\n" + r"\toprule" + "\n" + head + "\n" + r"\midrule" + "\n"
                + body + "\n" + r"\bottomrule" + "\n" + r"\end{tabular}" + "\n" + r"\end{table}")
    if not breakable:  # a table in the running text: one block, never split, never interleaved with floats
        # a minipage keeps the caption on the table's page
        text = ("\\begin{center}\\begin{minipage}{\\linewidth}\\centering" + size + r"\setlength{\tabcolsep}{3pt}" + "\n"
                + rf"\captionof{{table}}{{{caption}}}" + (rf"\label{{{label}}}" if label else "") + "\n"
                + rf"\begin{{tabular}}{{{align}}}" + "\n" + r"\toprule" + "\n" + head + "\n" + r"\midrule" + "\n"
                + body + "\n" + r"\bottomrule" + "\n" + r"\end{tabular}" + "\n" + "\\end{minipage}\\end{center}")
        return text
    text = (rf"\begin{{longtable}}{{{align}}}" + "\n" + rf"\caption{{{caption}}}" + (rf"\label{{{label}}}" if label else "")
            + r"\\" + "\n" + r"\toprule" + "\n" + head + "\n" + r"\midrule\endfirsthead" + "\n" + continued + "\n"
            + body + "\n" + r"\bottomrule" + "\n" + r"\end{longtable}")
    return "{" + size + r"\setlength{\tabcolsep}{3pt}" + "\n" + text + "}" if size else text


def missing_tex() -> list[str]:
    """Debian packages to install for the build (empty when pdflatex and every style are there)."""
    needed = []
    if shutil.which("latexmk") is None:
        needed.append("latexmk")
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return sorted(set(needed + list(TEX_PACKAGES.values())))
    for style, package in TEX_PACKAGES.items():
        found = subprocess.run(["kpsewhich", style], capture_output=True, text=True).stdout.strip()
        if not found:
            needed.append(package)
    return sorted(set(needed))


SCRATCH_PREFIX = "driftproof-tex-"


def remove_orphaned_scratch(folder: Path | None = None) -> list[Path]:
    """Remove scratch folders left by builds whose process no longer exists (one killed with SIGKILL,
    which no handler can catch). A folder is named ``driftproof-tex-<pid>-...``; a live pid's is kept."""
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*"):
        pid_text = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        except PermissionError:  # alive, another user's
            pass
    return removed


def compile_pdf(tex_path: Path, timeout: float = 300) -> tuple[bool, str]:
    """Build ``tex_path`` in a scratch folder; move the PDF into place only on success.

    Returns (ok, log tail). A failed build never replaces a good PDF. Scratch folders of killed
    builds are removed first (:func:`remove_orphaned_scratch`).
    """
    tex_path = Path(tex_path)
    remove_orphaned_scratch()
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as scratch:
        command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", f"-outdir={scratch}",
                   tex_path.name]
        try:
            result = subprocess.run(command, cwd=tex_path.parent, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"latexmk took longer than {timeout:.0f} s"
        built = Path(scratch) / (tex_path.stem + ".pdf")
        if result.returncode != 0 or not built.exists():
            log = Path(scratch) / (tex_path.stem + ".log")
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else result.stdout[-3000:]
            return False, tail
        target = tex_path.with_suffix(".pdf")
        staged = target.with_suffix(".pdf.partial")
        shutil.copyfile(built, staged)
        os.replace(staged, target)
        log = Path(scratch) / (tex_path.stem + ".log")
        if log.exists():  # kept beside the PDF: its warnings (overfull boxes) are checked
            shutil.copyfile(log, tex_path.with_suffix(".log"))
    return True, ""


def interval(ctx, key: str, estimate, digits: int = 3) -> str:
    """An Estimate as report numbers, ``mean [lo, hi]`` (each one recorded under its key), rounded to the
    decimal place of the second significant digit of its standard error (``digits`` significant digits where
    there is no error: one replicate)."""
    if estimate is None or estimate.n == 0:
        return "n/a"
    if not estimate.defined:
        return ctx.numbers.add(key, estimate.mean, digits)
    error = estimate.stderr if math.isfinite(estimate.stderr) and estimate.stderr > 0 else \
        (estimate.ci_high - estimate.ci_low) / 4
    scale = max(abs(estimate.mean), abs(estimate.ci_low), abs(estimate.ci_high))
    mean, low, high = (round_to_error(v, error, scale=scale)[0] for v in (estimate.mean, estimate.ci_low,
                                                                           estimate.ci_high))
    return (f"{ctx.numbers.add(key, mean)} [{ctx.numbers.add(key + ' lo', low)}, "
            f"{ctx.numbers.add(key + ' hi', high)}]")


def pm(ctx, key: str, mean: float, stderr: float) -> str:
    """``mean ± stderr`` as report numbers (recorded under ``key`` and ``key se``), the mean rounded to the
    standard error's second significant digit; a standard error at the value's floating-point resolution
    (a zero-variance estimator, 1e-19 beside 0.2) leaves the value at six significant digits, not twenty."""
    if stderr is not None and math.isfinite(stderr) and 0 <= stderr < 1e-12 * abs(mean):
        return ctx.numbers.add(key, f"{mean:.6g}") + r" $\pm$ " + ctx.numbers.add(key + " se", f"{stderr:.1g}")
    value, error = round_to_error(mean, stderr)
    return ctx.numbers.add(key, value) + r" $\pm$ " + ctx.numbers.add(key + " se", error)


def figure_tex(ctx, figure: Path, label: str, caption: str, width: str | None = None, sources=None,
               networks: tuple[str, ...] = (), placement: str = "!htbp") -> str:
    """A float with the figure (its PDF in ``figures/``), a caption and a label; counts it.

    ``sources``: the cached results (file names) or stored sweeps it was drawn from; the caption ends with
    their short key (listed in the provenance appendix) and the rows of the configurations table
    (``networks``) it shows. By default the figure is placed at the width it was drawn at (recorded by
    ``style.save``), so its font sizes are the printed sizes. ``placement``: LaTeX's float placement (``H``
    pins the figure where it stands, as the summary's headline figure is).
    """
    if width is None:
        drawn = ctx.results.get("figures", {}).get(Path(figure).stem, {}).get("width_in")
        width = f"{drawn:.2f}in" if drawn else r"\linewidth"
    ctx.figure_count += 1
    ctx.figure_labels.append(label)
    caption += source_note(ctx, label, sources, networks)
    return "\n".join([rf"\begin{{figure}}[{placement}]\centering", rf"\includegraphics[width={width}]{{figures/{figure.name}}}",
                      rf"\caption{{{caption}}}\label{{{label}}}", r"\end{figure}"])


def source_note(ctx, label: str, sources, networks: tuple[str, ...] = ()) -> str:
    """' Networks N4 (Table 1). Source S3.' for a caption: the rows of the configurations table and the key of
    the cached results (``sources``: file names) the figure or table was drawn from."""
    note = ""
    if networks:
        note += " " + ("Network " if len(networks) == 1 else "Networks ") + ", ".join(networks) \
            + r" (Table~\ref{tab:configs})."
    if sources is not None:
        key = ctx.source(label, sources)
        note += rf" Source \hyperref[app:provenance]{{\textsf{{{key}}}}}."
    return note
