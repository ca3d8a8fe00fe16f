"""Plain-text rendering of results for the terminal (the CLI's only formatting code)."""

from __future__ import annotations

import shutil
import textwrap

from .results import Verification

__all__ = ["verdict_table"]

_MARK = {"holds": "holds", "violated": "VIOLATED", "inconclusive": "inconclusive", "info": "·"}


def verdict_table(result: Verification) -> str:
    """The verify table: kind | evidence | verdict | details, then one verdict line."""
    width = max(80, min(shutil.get_terminal_size((120, 24)).columns, 160))
    kind_w = max(len(r.kind) for r in result.evidence) if result.evidence else 8
    name_w = max(len(r.name) for r in result.evidence) if result.evidence else 8
    verdict_w = 12
    detail_w = max(30, width - kind_w - name_w - verdict_w - 6)
    config = result.config
    lines = [f"driftproof verify — loss {config['loss']}, activation {config['act']}, init {config['init']}, "
             f"scale {config['scale']}, width {config['width']}, depth {config['depth']}, "
             f"classes {config['classes']}, seed {config['seed']}", ""]
    header = f"{'kind':<{kind_w}}  {'evidence':<{name_w}}  {'verdict':<{verdict_w}}  details"
    lines += [header, "-" * min(width, len(header) + detail_w - 7)]
    for row in result.evidence:
        wrapped = textwrap.wrap(row.summary, detail_w) or [""]
        lines.append(f"{row.kind:<{kind_w}}  {row.name:<{name_w}}  {_MARK[row.verdict]:<{verdict_w}}  {wrapped[0]}")
        pad = " " * (kind_w + name_w + verdict_w + 6)
        lines.extend(pad + more for more in wrapped[1:])
    lines += ["", f"verdict: {result.verdict.upper()} — {result.headline}"]
    return "\n".join(lines)
