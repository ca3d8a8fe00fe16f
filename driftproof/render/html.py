"""HTML for notebooks (``_repr_html_``): the CLI's tables, verdicts coloured, intervals aligned."""

from __future__ import annotations

from html import escape

from ..results import Estimate, Verification
from .probe import ARCH as PROBE_ARCH, probe_title
from .rows import headline, row_name, row_summary

__all__ = ["verification_html", "estimate_html", "table_html", "verdict_cell", "VERDICT_COLOURS"]

VERDICT_COLOURS = {"holds": "#d7f2d7", "zero": "#dde8f6", "violated": "#f8d0d0", "inconclusive": "#fbefc4", "info": "#eeeeee",
                   "supported": "#d7f2d7", "not supported": "#f8d0d0"}
_CELL = "padding:2px 8px;text-align:left;vertical-align:top"


def verdict_cell(verdict: str) -> str:
    """A table cell with the verdict word on its colour."""
    colour = VERDICT_COLOURS.get(str(verdict), "#ffffff")
    return f'<td style="{_CELL};background:{colour};font-weight:bold">{escape(str(verdict))}</td>'


def table_html(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A plain HTML table; cells are already HTML (escape text before passing it)."""
    head = "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(cell if cell.startswith("<td") else f'<td style="{_CELL}">{cell}</td>'
                                    for cell in row) + "</tr>" for row in rows)
    cap = f"<caption style='text-align:left'>{caption}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def estimate_html(estimate: Estimate, digits: int = 4) -> str:
    """mean [low, high] (confidence, n, method), in a fixed-width font so intervals line up."""
    spec = f".{digits}g"
    text = f"{estimate.mean:{spec}} [{estimate.ci_low:{spec}}, {estimate.ci_high:{spec}}]"
    detail = f"{estimate.confidence:g} level, n = {estimate.n}, {estimate.method}"
    return f'<code title="{escape(detail)}">{escape(text)}</code>'


def verification_html(result: Verification) -> str:
    """The verify table as HTML, then the verdict line."""
    rows = [[escape(row.kind), escape(row_name(row)), verdict_cell(row.verdict), escape(row_summary(row))]
            for row in result.evidence]
    config = result.config
    if config.get("arch") == PROBE_ARCH:  # a user's PyTorch model (driftproof.torch)
        caption = escape(probe_title(result))
    else:
        caption = escape(f"driftproof verify — loss {config['loss']}, activation {config['act']}, init "
                         f"{config['init']}, width {config['width']}, depth {config['depth']}, classes "
                         f"{config['classes']}, seed {config['seed']}")
    colour = VERDICT_COLOURS.get(str(result.verdict), "#ffffff")
    verdict = (f'<p><span style="background:{colour};padding:2px 6px;font-weight:bold">'
               f'{escape(str(result.verdict).upper())}</span> {escape(headline(result))}</p>')
    return table_html(["kind", "evidence", "verdict", "details"], rows, caption) + verdict
