"""``report`` (the LaTeX/PDF verification report) and ``load`` (a saved result, read back)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..results import Verification
from ..training.runfolder import load_run
from .common import network_config, output_folder
from .sweeps import claims
from .training import TrainingRun

__all__ = ["report", "load", "report_summary"]


# What a report folder holds (build_report); an existing folder with none of them is not one.
_REPORT_MARKS = ("report.json", "report.tex", "generated", "cache")


def _report_folder_conflict(folder: Path) -> str | None:
    if any((folder / mark).exists() for mark in _REPORT_MARKS):
        return None
    return "is not empty and is not a driftproof report folder (no report.tex, report.json, generated/ or cache/)"


def report(out: str | Path = "report", *, quick: bool = False, pairs: tuple[tuple[str, str], ...] | None = None,
           pdf: bool = True, on_section=None, force: bool = False):
    """Build the verification report (``driftproof report``): LaTeX, figures and, with TeX, the PDF.

    Args:
        pairs: (loss, activation) pairs, each validated as :func:`verify` would before any work.
        pdf: compile the PDF (``--no-pdf`` is ``pdf=False``); on_section: called with each section's name.
        force: write into a non-empty ``out`` that is not a report folder (refused otherwise).

    Returns:
        The build's ReportResult (folder, tex, pdf or None, missing TeX packages, timings).
    """
    for loss, act in pairs or ():
        network_config(loss, act)  # the CLI's validation, before any work
    folder = output_folder(out, accept=_report_folder_conflict, force=force)
    from ..reporting import build_report  # matplotlib and the report load only when asked for (~0.3 s)

    return build_report(folder, pairs=tuple(pairs) if pairs else None, quick=quick, compile=pdf,
                        on_section=on_section)


def report_summary(result) -> dict:
    """The JSON record of a report build (``report --json``)."""
    from ..config import environment

    return {"folder": str(result.folder), "tex": str(result.tex), "pdf": str(result.pdf) if result.pdf else None,
            "json": str(result.json), "missing_packages": list(result.missing_packages),
            "seconds": round(result.seconds, 2), "cache_hits": result.cache_hits,
            "cache_misses": result.cache_misses, "environment": environment()}


def load(path: str | Path):
    """Read back a saved result: a run folder (TrainingRun), a sweep folder (ClaimsCheck), or the
    JSON that ``verify --json`` wrote (Verification). InputError for anything else."""
    path = Path(path)
    if path.is_dir() and (path / "run.json").exists():
        return TrainingRun(load_run(path), path)
    if path.is_dir() and (path / "results").is_dir():
        return claims(str(path))
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"{str(path)!r} is not a JSON file driftproof wrote ({error})") from None
        if isinstance(data, dict) and "evidence" in data and "verdict" in data:
            return Verification.from_dict(data)
    raise InputError(f"{str(path)!r} is neither a run folder, a sweep folder nor a saved verify result")
