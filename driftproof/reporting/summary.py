"""The summary page: what was claimed, the verdict for each claim with the one number that decides it, and
the headline figure."""

from __future__ import annotations

from ..texutil import tex_prose
from .claims import Claim
from .context import Context
from .latex import table
from .configurations import scale_line
from .montecarlo_sections import headline_tex

__all__ = ["summary_tex", "VERDICT_COLORS"]

VERDICT_COLORS = {"holds": "green!15", "supported": "green!15", "violated": "red!15", "not supported": "red!15"}


def _verdict_cell(verdict: str) -> str:
    return rf"\cellcolor{{{VERDICT_COLORS.get(verdict, 'yellow!20')}}}{tex_prose(verdict)}"


def summary_tex(ctx: Context, claims: list[Claim]) -> str:
    rows = []
    for claim in claims:
        ctx.record("claims", claim.key, claim.to_dict())
        rows.append([tex_prose(claim.statement), _verdict_cell(claim.verdict), tex_prose(claim.number),
                     rf"\ref{{{claim.section}}}"])
    return "\n".join([
        r"\section*{Summary}",
        r"\noindent " + scale_line(ctx) + r"\par\smallskip",
        headline_tex(ctx),  # pinned here (placement H): the verdict table can run past page 1, the figure not
        table(["claim", "verdict", "the number that decides it (95% interval)", r"\S"], rows,
              "Each claim, its verdict, and the number it turns on; the evidence is in the claim's section.",
              r"p{5.0cm}lp{8.0cm}r", size=r"\small", label="tab:verdicts", breakable=False)])
