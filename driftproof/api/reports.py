"""``report`` (the LaTeX/PDF verification report) and ``load`` (a saved result, read back)."""

from __future__ import annotations

import json
import os
from os import PathLike
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
           pdf: bool = True, on_section=None, force: bool = False, workers: int | None = None):
    """Build the verification report (``driftproof report``): LaTeX, figures and, with TeX, the PDF.

    Args:
        pairs: (loss, activation) pairs, each validated as :func:`verify` would before any work.
        pdf: compile the PDF (``--no-pdf`` is ``pdf=False``); on_section: called with each section's name.
        force: write into a non-empty ``out`` that is not a report folder (refused otherwise).
        workers: processes that train at once (default: one per core, at most 8); the numbers do not depend on it.

    Returns:
        The build's ReportResult (folder, tex, pdf or None, missing TeX packages, timings).
    """
    if workers is None:
        workers = min(8, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a whole number of at least 1, got {workers!r}")
    for loss, act in pairs or ():
        network_config(loss, act)  # the CLI's validation, before any work
    folder = output_folder(out, accept=_report_folder_conflict, force=force)
    from ..reporting import build_report  # matplotlib and the report load only when asked for (~0.3 s)

    return build_report(folder, pairs=tuple(pairs) if pairs else None, quick=quick, compile=pdf,
                        on_section=on_section, workers=workers)


def report_summary(result) -> dict:
    """The JSON record of a report build (``report --json``)."""
    from ..config import environment

    return {"folder": str(result.folder), "tex": str(result.tex), "pdf": str(result.pdf) if result.pdf else None,
            "json": str(result.json), "html": str(result.html) if result.html else None, "missing_packages": list(result.missing_packages),
            "seconds": round(result.seconds, 2), "cache_hits": result.cache_hits,
            "cache_misses": result.cache_misses, "partial": list(result.partial), "environment": environment()}


def load(path: str | Path):
    """Read back a saved result: a run folder (TrainingRun), a sweep folder (ClaimsCheck), or the
    JSON that ``verify --json`` wrote (Verification). InputError for anything else, naming the file."""
    if not isinstance(path, (str, PathLike)) or "\0" in str(path):
        raise InputError(f"load takes the path of a run folder, a sweep folder or a verify JSON file, got {path!r}")
    path = Path(path)
    if path.is_dir() and (path / "run.json").exists():
        return TrainingRun(load_run(path), path)
    if path.is_dir() and ((path / "results").is_dir() or (path / "sweep.json").is_file()):
        return claims(str(path))
    if path.is_file():
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as error:
            raise InputError(f"cannot read {str(path)!r}: {error.strerror}") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise InputError(f"{str(path)!r} is not a JSON file driftproof wrote ({_why(error)})") from None
        if isinstance(data, dict) and "evidence" in data and "verdict" in data:
            try:
                return Verification.from_dict(data)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
                raise InputError(f"{str(path)!r} is not a verify result driftproof wrote ({_why(error)})") from None
    raise InputError(f"{str(path)!r} is neither a run folder, a sweep folder nor a saved verify result")


def _why(error: Exception) -> str:
    """What is wrong, in a few words: the missing key, or the error's first line."""
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r} entry"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, RecursionError):
        return "nested too deep"
    return (str(error).splitlines() or [type(error).__name__])[0][:120]
