"""Text for readers: the one place where results become words (STYLE.md rule 8).

The CLI prints these strings and the report typesets them; code never selects anything by
them (evidence rows carry a structured RowKey).

Importing this package (the package root does) registers how the results show themselves:
``str(verification)`` is :func:`verdict_table`, ``_repr_html_`` the notebook tables, and
``verification.plot()`` :func:`driftproof.render.plots.verification_figure`. The results module
imports no renderer; this registration is the only link, and it points from here to there.
"""

from ..results import Estimate, Verification, register_display

from .estimates import interval_text, percent_text, ratio_text
from .rows import drift_word, headline, number, row_name, row_summary, sign_map_text, verification_json
from .montecarlo import montecarlo_text
from .terminal import MARK, terminal_width, verdict_table

__all__ = ["row_name", "row_summary", "headline", "verification_json", "drift_word", "interval_text", "percent_text", "ratio_text", "number",
           "sign_map_text", "montecarlo_text", "verdict_table", "terminal_width", "MARK"]


def _verification_figure(verification):
    from .plots import verification_figure  # matplotlib loads only when a figure is asked for

    return verification_figure(verification)


def _register() -> None:
    from .html import estimate_html, verification_html

    register_display(Verification, "text", verdict_table)
    register_display(Verification, "html", verification_html)
    register_display(Verification, "figure", _verification_figure)
    register_display(Estimate, "html", estimate_html)


_register()
