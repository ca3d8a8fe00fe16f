"""``driftproof report``: compute (cached), write the LaTeX and figures, build the PDF atomically."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from .._version import __version__
from ..texutil import tex_escape, tex_prose
from .cache import ResultCache
from .claims import Claim
from .context import DEFAULT_PAIRS, QUICK_PAIRS, Context
from .configurations import configurations_tex, with_scale
from .html import write_html
from .latex import compile_pdf, missing_tex, table
from .persistence_study import persistence_studies_appendix
from .scope_sections import scope_section
from .atlas_sections import atlas_appendix
from .montecarlo_sections import drift_section, montecarlo_appendix, montecarlo_claims, montecarlo_text
from .residual_sections import residual_appendix, residual_claims, residual_section
from .summary import summary_tex, verdicts_appendix
from .sweep_sections import sweep_appendix, sweep_claims, sweep_section
from .theory_sections import derivation_appendix, mean_field_appendix, sign_map_appendix, sign_section, theory_claims
from .split_runs import split_jobs
from .split_sections import split_appendix, split_section
from .training_sections import persistence_section, training_appendix, training_claims, training_jobs

__all__ = ["ReportResult", "build_report", "SECTIONS", "APPENDIX", "CLAIMS"]


@dataclass(frozen=True)
class ReportResult:
    folder: Path
    tex: Path
    pdf: Path | None
    json: Path
    missing_packages: tuple[str, ...]
    error: str
    seconds: float
    cache_hits: int
    cache_misses: int
    partial: tuple[str, ...] = ()  # why this build is not evidence (quick, a subset of pairs, no stored sweep)
    html: Path | None = None  # the same report as one self-contained HTML page


def _sign(ctx: Context) -> str:
    return sign_section(ctx, montecarlo_text(ctx))


def _tables(ctx: Context) -> str:
    return "\n".join([r"\section{Tables}\label{app:tables}", sign_map_appendix(ctx), montecarlo_appendix(ctx),
                      mean_field_appendix(ctx), training_appendix(ctx), persistence_studies_appendix(ctx),
                      split_appendix(ctx), residual_appendix(ctx), sweep_appendix(ctx)])


# Main sections (one per claim) and appendix sections, in reading order; claim rows for the summary.
def _configurations(ctx: Context) -> str:
    return "\n".join([r"\section{Networks}\label{app:configs}", configurations_tex(ctx)])


SECTIONS: tuple[Callable[[Context], str], ...] = (_sign, drift_section, persistence_section, split_section,
                                                  residual_section, sweep_section, scope_section)
APPENDIX: tuple[Callable[[Context], str], ...] = (_configurations, derivation_appendix, _tables, atlas_appendix)
CLAIMS: tuple[Callable[[Context], list[Claim]], ...] = (theory_claims, montecarlo_claims, training_claims,
                                                        residual_claims, sweep_claims)


DISTRIBUTIONS = ("python-flint", "mpmath", "numpy", "scipy", "sympy", "numba", "matplotlib", "scikit-learn")


def versions() -> dict[str, str]:
    """Versions of Python, driftproof, every package the numbers rest on, and TeX."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "driftproof": __version__}
    for name in DISTRIBUTIONS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    for tool in ("pdflatex", "latexmk"):
        out[tool] = _first_line([tool, "--version" if tool == "pdflatex" else "-v"])
    return out


def _first_line(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    try:
        lines = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return next((line.strip() for line in lines if line.strip()), "unknown")


def git_state() -> dict[str, str]:
    """The commit of the code that ran and whether its tracked files differed from it."""
    here = Path(__file__).resolve().parent

    def git(*args):
        try:
            out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, cwd=here)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": "not a git checkout", "tree": "unknown"}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "tree": "unknown" if status is None else ("dirty (uncommitted changes)" if status
                                                                        else "clean")}


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30:.0f} GiB memory"
    except (ValueError, OSError, AttributeError):
        pass
    return {"machine": f"{model}, {os.cpu_count()} logical cores{memory}", "platform": platform.platform()}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (workers, TeX), user plus system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def command_line(folder: Path, pairs, quick: bool, compile: bool) -> str:
    """The command that regenerates this build (the pairs spelled out when not the mode's default)."""
    words = ["python", "-m", "driftproof", "report"] + (["--quick"] if quick else []) + ["--out", str(folder)]
    if pairs is not None and tuple(pairs) != (QUICK_PAIRS if quick else DEFAULT_PAIRS):
        words += ["--pairs", *(f"{loss}:{act}" for loss, act in pairs)]
    return shlex.join(words + ([] if compile else ["--no-pdf"]))


def partial_reasons(ctx: Context) -> list[str]:
    """Why this build is not the report's evidence: empty for a full build of every default pair from stored
    sweeps (the MLP default sweep and the transformer sweep)."""
    reasons = []
    if ctx.quick:
        reasons.append("quick build: fewer pairs, smaller networks, fewer steps and samples")
    if set(ctx.pairs) != set(DEFAULT_PAIRS):
        reasons.append(f"{len(set(ctx.pairs) & set(DEFAULT_PAIRS))} of the {len(DEFAULT_PAIRS)} default (loss, "
                       f"activation) pairs" + (" and custom ones" if set(ctx.pairs) - set(DEFAULT_PAIRS) else ""))
    folders = " ".join(ctx.sweep_folders)
    if "quick grid" in folders:
        reasons.append("no stored default sweep: C1-C5 from the quick grid")
    if "transformer" not in folders:
        reasons.append("no stored transformer sweep: C1-C5 not run on the GPT and ViT")
    return reasons + list(ctx.sweep_incomplete)


def banner_tex(reasons: list[str], quick: bool) -> tuple[str, str]:
    """(title suffix, page-1 banner) for a build that is not evidence; empty strings for one that is."""
    if not reasons:
        return "", ""
    word = "quick" if quick else "partial"
    title = rf" \\[2pt]{{\large\color{{red!70!black}}({word} --- not evidence)}}"
    box = (r"\noindent\fcolorbox{red!70!black}{red!6}{\parbox{\dimexpr\linewidth-2\fboxsep-2\fboxrule}{"
           rf"\textbf{{{word.capitalize()} build --- not evidence.}} " + tex_prose(
               "Its verdicts check that the pipeline runs; they are not the report's findings ("
               + "; ".join(reasons) + ").") + "}}\n\\medskip\n")
    return title, box


def _provenance_tex(ctx: Context, timings: dict) -> str:
    """The provenance appendix: how to regenerate the build, what it ran on, every source key's results."""
    env = {"command": ctx.command, **git_state(), **machine(),
           "build time": (f"{timings['wall']:.1f} s wall, {timings['cpu']:.1f} s CPU (this process and its "
                          f"finished children), load average {timings['load']:.2f} at the start; computation "
                          "and layout, before the LaTeX build"),
           "results": f"{ctx.cache.hits} read from the cache in {ctx.cache.folder}, {ctx.cache.misses} computed",
           "seed": str(ctx.seed), "pairs": ", ".join(f"{l}/{a}" for l, a in ctx.pairs),
           "mode": "quick" if ctx.quick else "full", **versions()}
    ctx.results["environment"] = env
    # the command as typed (a caret in a custom activation included); everything else typeset
    rows = [[tex_prose(k), r"\texttt{" + tex_escape(str(v)) + "}" if k in ("command", "commit") else tex_prose(str(v))]
            for k, v in env.items()]
    sources = []
    for key, entry in ctx.sources.items():
        files = ", ".join(r"\texttt{" + tex_escape(f) + "}" for f in entry["files"]) or "none (no cached result)"
        kind = "Figure" if entry["label"].startswith("fig:") else "Table"
        sources.append([r"\textsf{" + key + "}", rf"{kind}~\ref{{{entry['label']}}}", files])
    ctx.results["sources"] = ctx.sources
    return "\n".join([
        r"\section{Provenance}\label{app:provenance}",
        tex_prose("Every figure and table names a source key (S1, S2, ...): the cached results it was drawn "
                  f"from, JSON files in {ctx.cache.folder} (one per configuration, named by kind and a hash of "
                  "the configuration and package version) or a stored sweep. Running the command below with the "
                  "same --out reads them back and regenerates every figure and table; deleting a file recomputes "
                  "that result alone."),
        table(["what", "value"], rows, "The build: command, code, machine, time and versions.", "lp{13cm}",
              size=r"\small", label="tab:environment"),
        table(["key", "shown in", "cached results"], sources,
              "Source keys: the figure or table and the cached results (files in the cache folder) or stored "
              "sweeps it was drawn from. Each is regenerated by the command of Table~\\ref{tab:environment}.",
              "llp{14.0cm}", size=r"\scriptsize", label="tab:sources")])


def _remove_stale_figures(ctx: Context) -> None:
    """Figures an earlier build of this folder drew and this one did not (another set of pairs, a renamed
    figure): removed, so that the folder holds what the report shows and nothing else."""
    drawn = set(ctx.results.get("figures", {}))
    for path in ctx.figures.glob("*"):
        if path.suffix in (".pdf", ".png") and path.stem not in drawn:
            path.unlink(missing_ok=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(path.suffix + ".partial")
    staged.write_text(text)
    os.replace(staged, path)


def build_report(out: str | Path = "report", pairs: tuple[tuple[str, str], ...] | None = None,
                 quick: bool = False, progress: bool = False, compile: bool = True,
                 on_section: Callable[[str], None] | None = None, workers: int = 1) -> ReportResult:
    """Build the report in ``out``: report.tex, generated/*.tex, figures/*.pdf, report.json, report.pdf and
    report.html (the same report as one self-contained page).

    ``ReportResult.partial`` says why a build is not evidence (a quick build, a subset of the pairs, no
    stored sweep); such a build says so in its title and on page 1. ``workers`` > 1: the training runs not
    cached yet are computed first, that many at once in worker processes (the same numbers as one process).
    """
    start, cpu_start, load = time.perf_counter(), _cpu_seconds(), os.getloadavg()[0]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    chosen = tuple(pairs) if pairs else (QUICK_PAIRS if quick else DEFAULT_PAIRS)
    ctx = Context(folder=folder, pairs=chosen, quick=quick, cache=ResultCache(folder / "cache"), progress=progress,
                  command=command_line(folder, chosen, quick, compile))
    generated = folder / "generated"
    def progress(done: int, total: int) -> None:  # a line at the start and at each quarter done
        if on_section and done == 0:
            on_section(f"training {total} runs in {min(workers, total)} processes")
        elif on_section and done in {max(1, round(total * k / 4)) for k in range(1, 5)}:
            on_section(f"training runs {done} of {total} done")

    ctx.cache.fill(split_jobs(ctx) + training_jobs(ctx), workers, progress)  # the costly results, longest first
    sections, appendix = [], []
    for builders, out in ((SECTIONS, sections), (APPENDIX, appendix)):
        for builder in builders:
            if on_section:
                on_section(builder.__name__.strip("_").replace("_section", "").replace("_", " "))
            out.append(builder(ctx))
    claims = [with_scale(ctx, claim) for builder in CLAIMS for claim in builder(ctx)]
    _remove_stale_figures(ctx)
    reasons = partial_reasons(ctx)
    title, banner = banner_tex(reasons, quick)
    _write(generated / "banner.tex", banner + "\n")
    _write(generated / "summary.tex", summary_tex(ctx, claims) + "\n")
    _write(generated / "sections.tex", "\n\n".join(sections) + "\n")
    _write(generated / "appendix.tex", "\n\n".join([verdicts_appendix(ctx, claims), *appendix]) + "\n")
    timings = {"wall": time.perf_counter() - start, "cpu": _cpu_seconds() - cpu_start, "load": load}
    _write(generated / "environment.tex", _provenance_tex(ctx, timings) + "\n")
    _write(generated / "numbers.tex", ctx.numbers.macros())
    _write(generated / "version.tex", tex_escape(__version__) + "\n")
    _write(generated / "date.tex", _dt.date.today().isoformat() + "\n")
    # "%": the file is read inside the title's group, where the empty line of an empty title would end the
    # paragraph before the title's \\ (LaTeX: "There's no line here to end") — a full build has no title suffix
    _write(generated / "title.tex", title + "%\n")
    tex = folder / "report.tex"
    _write(tex, resources.files("driftproof.reporting").joinpath("templates/report.tex").read_text())
    page = write_html(folder)  # from the same generated LaTeX, figures embedded: no TeX needed
    missing = tuple(missing_tex()) if compile else ()
    pdf, error = None, ""
    if compile and not missing:
        ok, log = compile_pdf(tex)
        pdf, error = (tex.with_suffix(".pdf"), "") if ok else (None, log)
    timings.update(total_wall=time.perf_counter() - start, total_cpu=_cpu_seconds() - cpu_start)
    payload = {"numbers": ctx.numbers.values, "results": ctx.results, "figures": ctx.figure_count,
               "figure_labels": ctx.figure_labels, "pairs": [list(p) for p in chosen], "quick": quick,
               "partial": reasons, "command": ctx.command, "timings": timings}
    json_path = folder / "report.json"
    _write(json_path, json.dumps(payload, indent=1, default=str))
    return ReportResult(folder, tex, pdf, json_path, missing, error, time.perf_counter() - start,
                        ctx.cache.hits, ctx.cache.misses, tuple(reasons), page)
