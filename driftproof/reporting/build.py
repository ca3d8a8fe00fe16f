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

from .. import __version__
from ..config import environment
from ..results import HOLDS, VIOLATED, combine
from ..texutil import tex_escape
from .cache import ResultCache
from .context import DEFAULT_PAIRS, QUICK_PAIRS, Context
from .latex import compile_pdf, missing_tex, table
from .montecarlo_sections import montecarlo_claims, montecarlo_section
from .sweep_sections import sweep_claims, sweep_section
from .theory_sections import derivation_section, mean_field_section, sign_map_section, theory_results
from .training_sections import training_claims, training_section

__all__ = ["ReportResult", "build_report", "SECTIONS", "CLAIMS"]



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


def _pointwise_claim(verdicts: dict) -> tuple[str, str, str]:
    """The paper's claim at t = 0, from the symbolic and mean-field rows of every pair."""
    holds = [f"{loss}/{act}" for (loss, act), r in verdicts.items() if r.verdict == HOLDS]
    other = [f"{loss}/{act}: {r.verdict}" for (loss, act), r in verdicts.items() if r.verdict != HOLDS]
    combined = combine(r.verdict for r in verdicts.values())
    return ("E[δ|p] ≥ 0 for p > 0 at initialization (MSE and CE)",
            f"symbolic R1/R2/R3 + mean field R4: holds for {len(holds)} of {len(verdicts)} pairs"
            + (f"; {'; '.join(other)}" if other else ""), str(combined))


def _drift_claim(verdicts: dict, depth: int) -> tuple[str, str, str]:
    """R5: the predicted first-step drift of the last hidden layer's mean bias, per pair."""
    drift = {pair: row.numbers["db_mean_per_lr"] for pair, r in verdicts.items()
             for row in r.rows(result="R5") if row.key.layer == depth}
    negative = sorted({act for (loss, act), v in drift.items() if v < -1e-12})
    none = sorted({act for (loss, act), v in drift.items() if abs(v) <= 1e-12})
    return ("Positive gradients make mean weights and biases drift negative (R5)",
            f"predicted first-step drift negative for {', '.join(negative) or 'none'}; "
            f"zero for {', '.join(none) or 'none'} (odd activations: E[σσ'] = 0)",
            str(HOLDS if negative else VIOLATED))


def _theory_claims(ctx: Context) -> list[tuple[str, str, str]]:
    verdicts = {pair: theory_results(ctx, *pair)[0] for pair in ctx.pairs}
    return [_pointwise_claim(verdicts), _drift_claim(verdicts, ctx.depth)]


# Section builders and claim builders, in reading order.
SECTIONS: tuple[Callable[[Context], str], ...] = (
    sign_map_section, derivation_section, mean_field_section, montecarlo_section, training_section, sweep_section)
CLAIMS: tuple[Callable[[Context], list[tuple[str, str, str]]], ...] = (
    _theory_claims, montecarlo_claims, training_claims, sweep_claims)


def _claims_tex(ctx: Context) -> str:
    rows = []
    for builder in CLAIMS:
        for claim, evidence, verdict in builder(ctx):
            ctx.record("claims", claim, {"evidence": evidence, "verdict": verdict})
            color = {"holds": "green!15", "supported": "green!15", "violated": "red!15",
                     "not supported": "red!15"}.get(verdict, "yellow!20")
            rows.append([tex_escape(claim), tex_escape(evidence), rf"\cellcolor{{{color}}}{tex_escape(verdict)}"])
    return "\\section*{Claims and verdicts}\n" + table(["claim", "evidence", "verdict"], rows,
                                                      "Each claim, its evidence, and the verdict.", "p{5cm}p{9cm}l")


def _environment_tex(ctx: Context) -> str:
    env = environment()
    commit = _git_commit()
    env["git commit"] = commit or "not a git checkout"
    env["seed"] = str(ctx.seed)
    env["pairs"] = ", ".join(f"{l}/{a}" for l, a in ctx.pairs)
    env["mode"] = "quick" if ctx.quick else "full"
    ctx.results["environment"] = env
    rows = [[tex_escape(k), tex_escape(str(v))] for k, v in env.items()]
    return "\\section*{Environment}\n" + table(["what", "value"], rows, "Versions, seed and commit.", "lp{12cm}")


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
    sections = []
    for builder in SECTIONS:
        if on_section:
            on_section(builder.__name__.replace("_section", "").replace("_", " "))
        sections.append(builder(ctx))
    _write(generated / "sections.tex", "\n\n".join(sections) + "\n")
    _write(generated / "claims.tex", _claims_tex(ctx) + "\n")
    _write(generated / "environment.tex", _environment_tex(ctx) + "\n")
    _write(generated / "numbers.tex", ctx.numbers.macros())
    _write(generated / "version.tex", tex_escape(__version__) + "\n")
    _write(generated / "date.tex", _dt.date.today().isoformat() + "\n")
    tex = folder / "report.tex"
    _write(tex, resources.files("driftproof.reporting").joinpath("templates/report.tex").read_text())
    payload = {"numbers": ctx.numbers.values, "results": ctx.results, "figures": ctx.figure_count,
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

