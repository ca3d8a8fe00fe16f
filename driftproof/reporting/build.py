"""``driftproof report``: compute (cached), write the LaTeX and figures, build the PDF atomically."""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from .._version import __version__
from ..config import environment
from ..texutil import tex_escape
from .cache import ResultCache
from .claims import Claim
from .context import DEFAULT_PAIRS, QUICK_PAIRS, Context
from .latex import compile_pdf, missing_tex, table
from .montecarlo_sections import drift_section, montecarlo_appendix, montecarlo_claims, montecarlo_text
from .residual_sections import residual_appendix, residual_claims, residual_section
from .summary import summary_tex
from .sweep_sections import sweep_appendix, sweep_claims, sweep_section
from .theory_sections import derivation_appendix, mean_field_appendix, sign_map_appendix, sign_section, theory_claims
from .split_sections import split_appendix, split_section
from .training_sections import persistence_section, training_appendix, training_claims

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


def _sign(ctx: Context) -> str:
    return sign_section(ctx, montecarlo_text(ctx))


def _tables(ctx: Context) -> str:
    return "\n".join([r"\section{Tables}\label{app:tables}", sign_map_appendix(ctx), montecarlo_appendix(ctx),
                      mean_field_appendix(ctx), training_appendix(ctx), split_appendix(ctx), residual_appendix(ctx), sweep_appendix(ctx)])


# Main sections (one per claim) and appendix sections, in reading order; claim rows for the summary.
SECTIONS: tuple[Callable[[Context], str], ...] = (_sign, drift_section, persistence_section, split_section,
                                                  residual_section, sweep_section)
APPENDIX: tuple[Callable[[Context], str], ...] = (derivation_appendix, _tables)
CLAIMS: tuple[Callable[[Context], list[Claim]], ...] = (theory_claims, montecarlo_claims, training_claims,
                                                        residual_claims, sweep_claims)


def _environment_tex(ctx: Context) -> str:
    env = environment()
    commit = _git_commit()
    env["git commit"] = commit or "not a git checkout"
    env["seed"] = str(ctx.seed)
    env["pairs"] = ", ".join(f"{l}/{a}" for l, a in ctx.pairs)
    env["mode"] = "quick" if ctx.quick else "full"
    ctx.results["environment"] = env
    rows = [[tex_escape(k), tex_escape(str(v))] for k, v in env.items()]
    return "\\section{Environment}\n" + table(["what", "value"], rows, "Versions, seed and commit.", "lp{12cm}")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(path.suffix + ".partial")
    staged.write_text(text)
    os.replace(staged, path)


def build_report(out: str | Path = "report", pairs: tuple[tuple[str, str], ...] | None = None,
                 quick: bool = False, progress: bool = False, compile: bool = True,
                 on_section: Callable[[str], None] | None = None) -> ReportResult:
    """Build the report in ``out``: report.tex, generated/*.tex, figures/*.pdf, report.json, report.pdf."""
    start = time.perf_counter()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    chosen = tuple(pairs) if pairs else (QUICK_PAIRS if quick else DEFAULT_PAIRS)
    ctx = Context(folder=folder, pairs=chosen, quick=quick, cache=ResultCache(folder / "cache"), progress=progress)
    generated = folder / "generated"
    sections, appendix = [], []
    for builders, out in ((SECTIONS, sections), (APPENDIX, appendix)):
        for builder in builders:
            if on_section:
                on_section(builder.__name__.strip("_").replace("_section", "").replace("_", " "))
            out.append(builder(ctx))
    claims = [claim for builder in CLAIMS for claim in builder(ctx)]
    _write(generated / "summary.tex", summary_tex(ctx, claims) + "\n")
    _write(generated / "sections.tex", "\n\n".join(sections) + "\n")
    _write(generated / "appendix.tex", "\n\n".join(appendix) + "\n")
    _write(generated / "environment.tex", _environment_tex(ctx) + "\n")
    _write(generated / "numbers.tex", ctx.numbers.macros())
    _write(generated / "version.tex", tex_escape(__version__) + "\n")
    _write(generated / "date.tex", _dt.date.today().isoformat() + "\n")
    tex = folder / "report.tex"
    _write(tex, resources.files("driftproof.reporting").joinpath("templates/report.tex").read_text())
    payload = {"numbers": ctx.numbers.values, "results": ctx.results, "figures": ctx.figure_count,
               "figure_labels": ctx.figure_labels,
               "pairs": [list(p) for p in chosen], "quick": quick}
    json_path = folder / "report.json"
    _write(json_path, json.dumps(payload, indent=1, default=str))
    missing = tuple(missing_tex()) if compile else ()
    pdf, error = None, ""
    if compile and not missing:
        ok, log = compile_pdf(tex)
        pdf, error = (tex.with_suffix(".pdf"), "") if ok else (None, log)
    return ReportResult(folder, tex, pdf, json_path, missing, error, time.perf_counter() - start,
                        ctx.cache.hits, ctx.cache.misses)

