"""The summary page: the scale of the evidence, the answer to the persistence question, one compact table of
every claim (the paper's value beside ours, the scale, the verdict) and the headline figure; and, in the
appendix, every claim with the number that decides it."""

from __future__ import annotations

from ..sweeps.persistence import load_stored
from ..paper import INCONCLUSIVE_WORD, NOT_REPRODUCED, NOT_RUN, REPRODUCED
from ..texutil import tex_prose
from .claims import Claim
from .context import Context
from .latex import table
from .configurations import scale_line
from .montecarlo_sections import headline_tex
from .sweep_sections import SHORT
from .persistence_study import study_answer
from .training_sections import persistence_answer

__all__ = ["summary_tex", "verdicts_appendix", "VERDICT_COLORS"]

VERDICT_COLORS = {"holds": "green!15", "supported": "green!15", REPRODUCED: "green!15", "violated": "red!15",
                  "not supported": "red!15", NOT_REPRODUCED: "red!15", INCONCLUSIVE_WORD: "yellow!20",
                  NOT_RUN: "black!8"}

# The claims beyond C1-C5 in a few words, for the page-1 table (their full statements head the appendix table).
BRIEF = {"t0-sign-proof": "T0: E[δ|p] ≥ 0 for p > 0 at init (R1–R3)",
         "t0-sign-mc": "T0 for inits the proof does not cover (Monte Carlo)",
         "drift": "mean bias and weight drift negative (R5)",
         "persistence": "the sign persists in training (a referee's question)",
         "sparsity-training": "ReLU sparsity rises in training",
         "r6": "pre-norm residual: last block's drift ≈ 0 (R6, ours)"}


def _verdict_cell(verdict: str) -> str:
    return rf"\cellcolor{{{VERDICT_COLORS.get(verdict, 'yellow!20')}}}{tex_prose(verdict)}"


def _brief(claim: Claim) -> str:
    if claim.key.endswith("/not-run"):
        return "C1–C5 and T0"
    result = claim.key.split("/")[0]
    if result in SHORT:
        return f"{result}: {SHORT[result]}"
    return BRIEF.get(claim.key, claim.statement)


def _ordered(claims: list[Claim]) -> list[Claim]:
    """Theory and training claims as they come, then C1-C5 and T0 claim by claim (each family's row together),
    the families without runs last."""
    others = [c for c in claims if "/" not in c.key]
    sweep = [c for c in claims if "/" in c.key and not c.key.endswith("/not-run")]
    order = list(dict.fromkeys(c.key.split("/")[0] for c in sweep))
    sweep.sort(key=lambda c: order.index(c.key.split("/")[0]))
    return others + sweep + [c for c in claims if c.key.endswith("/not-run")]


def verdict_rows(claims: list[Claim]) -> list[list[str]]:
    """The page-1 table's rows (LaTeX): claim, family, paper, ours, scale, verdict, section."""
    rows, previous = [], None
    for claim in _ordered(claims):
        brief = _brief(claim)
        rows.append([tex_prose(brief) if brief != previous else "", tex_prose(claim.family or "–"),
                     tex_prose(claim.paper or "–"), tex_prose(claim.ours or claim.number),
                     tex_prose(claim.scale or "–"), _verdict_cell(claim.versus or claim.verdict),
                     rf"\ref{{{claim.section}}}"])
        previous = brief
    return rows


def _persistence(ctx: Context) -> str:
    """The answer to the referee's question: from the stored study where it ships, else from this build's runs."""
    stored = load_stored()
    if stored is not None:
        return (r"\noindent " + tex_prose("Persistence past t = 0 (the stored study, Section ")
                + r"\ref{sec:persistence-study}" + tex_prose("; " + study_answer(stored) + ".") + r"\par\smallskip")
    return (r"\noindent " + tex_prose("Persistence past t = 0 (Section ") + r"\ref{sec:persistence}"
            + tex_prose("; a case: one activation and layer, the running mean of its sign statistic over training): "
                        + persistence_answer(ctx) + ".") + r"\par\smallskip")


def summary_tex(ctx: Context, claims: list[Claim]) -> str:
    for claim in claims:
        ctx.record("claims", claim.key, claim.to_dict())
    return "\n".join([
        r"\section*{Summary}",
        r"\noindent " + scale_line(ctx) + r"\par\smallskip" + "\n",
        _persistence(ctx),
        table(["claim", "family", "paper", "ours: value [95% interval], n", "our scale", "verdict", r"\S"],
              verdict_rows(claims),
              tex_prose("The paper's value beside ours and the networks ours rests on (Table ") + r"\ref{tab:configs}"
              + tex_prose("); the verdict against the paper, or, where the paper states nothing (–), holds / "
                          "violated / inconclusive. n: seeds, runs or samples. Deciding numbers: Table ")
              + r"\ref{tab:verdicts-full}.",
              r"p{3.1cm}p{1.15cm}p{1.85cm}p{3.9cm}p{2.75cm}p{2.15cm}r", size=r"\footnotesize", label="tab:verdicts"),
        headline_tex(ctx)])


def verdicts_appendix(ctx: Context, claims: list[Claim]) -> str:
    """Every claim with its verdict and the number that decides it (the fuller account of page 1's table)."""
    # two verdicts, as page 1 gives them: the claim as tested here (a cliff exists: supported) and our value
    # against the paper's (the cliff sits at 0.93, not 0.70: not reproduced at this scale)
    rows = [[tex_prose(claim.statement), _verdict_cell(claim.verdict), _verdict_cell(claim.versus or claim.verdict),
             tex_prose(claim.number), rf"\ref{{{claim.section}}}"] for claim in claims]
    return "\n".join([
        r"\section{Every claim and the number that decides it}\label{app:verdicts}",
        table(["claim", "as tested", "against the paper", "the number that decides it (95% interval)", r"\S"], rows,
              tex_prose("Each claim, its verdict as tested here and against the paper's value (page 1's verdict; for "
                        "a question the paper does not state, the same), and the number it turns on; the evidence "
                        "is in the claim's section."),
              r"p{4.3cm}p{1.75cm}p{1.9cm}p{6.3cm}r", size=r"\small", label="tab:verdicts-full")])
