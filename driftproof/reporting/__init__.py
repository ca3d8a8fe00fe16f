"""The verification report: cached results, figures, LaTeX from SymPy, an atomic PDF build."""

from .build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
