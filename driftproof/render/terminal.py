"""Tables for the terminal: fit the width (80 columns at least), wrap the details and the verdict line."""

from __future__ import annotations

import shutil
import textwrap

from ..results import Verification
from .probe import ARCH as PROBE_ARCH, probe_title
from .rows import headline, row_name, row_summary

__all__ = ["terminal_width", "verdict_table", "wrap_lines", "MARK"]

MARK = {"holds": "holds", "violated": "VIOLATED", "inconclusive": "inconclusive", "zero": "zero", "info": "·"}
# Below this many columns for the details, each row's details go on their own indented lines.
MIN_DETAIL_WIDTH = 40


def terminal_width() -> int:
    """The terminal's width (100 when output is not a terminal), at least 60."""
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False) or [indent]


def wrap_lines(text: str, width: int, indent: int = 0) -> list[str]:
    """``text`` wrapped to ``width`` columns, continuation lines indented by ``indent`` spaces
    (the text's own leading spaces are kept on the first line)."""
    return textwrap.wrap(text, width, subsequent_indent=" " * indent, break_on_hyphens=False,
                         drop_whitespace=True, replace_whitespace=False) or [""]


def verdict_table(result: Verification, width: int | None = None, wide: bool = False) -> str:
    """The verify table: kind | evidence | verdict | details, then the verdict line.

    Fits ``width`` columns (the terminal's by default): details wrap in their column, or, when
    the column would be narrower than MIN_DETAIL_WIDTH, on indented lines under their row.
    ``wide`` keeps every row and the verdict line on one line each, whatever the width.
    """
    width = width or terminal_width()
    names = [row_name(row) for row in result.evidence]
    kind_w = max((len(r.kind) for r in result.evidence), default=8)
    name_w = max((len(n) for n in names), default=8)
    verdict_w = 12
    lead_w = kind_w + name_w + verdict_w + 6
    detail_w = width - lead_w
    stacked = not wide and detail_w < MIN_DETAIL_WIDTH
    config = result.config
    title = (f"driftproof verify — loss {config['loss']}, activation {config['act']}, init {config['init']}, "
             f"scale {config['scale']}, width {config['width']}, depth {config['depth']}, "
             f"classes {config['classes']}, seed {config['seed']}") if config.get("arch") != PROBE_ARCH else probe_title(result)
    lines = ([title] if wide else _wrap(title, width)) + [""]
    header = (f"{'kind':<{kind_w}}  {'evidence':<{name_w}}  {'verdict':<{verdict_w}}"
              + ("" if stacked else "  details")).rstrip()
    lines += [header, "-" * (len(header) if stacked or wide else width)]
    for row, name in zip(result.evidence, names):
        lead = f"{row.kind:<{kind_w}}  {name:<{name_w}}  {MARK[row.verdict]:<{verdict_w}}"
        summary = row_summary(row)
        if wide:
            lines.append(f"{lead}  {summary}")
        elif stacked:
            lines.append(lead.rstrip())
            lines.extend(_wrap(summary, width, "    "))
        else:
            wrapped = _wrap(summary, detail_w)
            lines.append(f"{lead}  {wrapped[0]}")
            lines.extend(" " * lead_w + more for more in wrapped[1:])
    verdict_line = f"verdict: {str(result.verdict).upper()} — {headline(result)}"
    lines += [""] + ([verdict_line] if wide else _wrap(verdict_line, width))
    return "\n".join(lines)
