"""Derivation objects: numbered steps as SymPy objects, rendered to plain text and LaTeX."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..texutil import tex_escape as _tex_escape

__all__ = ["Step", "Derivation"]


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a SymPy statement and why it holds.

    ``exact`` is False where the step is numeric (quadrature, Monte Carlo over logits,
    root bracketing); ``value``/``error`` then carry the number and its error estimate.
    ``certified`` marks a non-exact step proved by rigorous interval arithmetic (an enclosure).
    """

    title: str
    expr: sp.Basic | None = None
    why: str = ""
    exact: bool = True
    value: float | None = None
    error: float | None = None
    certified: bool = False

    @property
    def tag(self) -> str:
        """exact (SymPy), certified (ball arithmetic) or numeric (an approximation with a stated error)."""
        return "exact" if self.exact else "certified" if self.certified else "numeric"

    def text(self) -> str:
        tag = self.tag
        body = sp.sstr(self.expr) if self.expr is not None else ""
        if self.value is not None:
            body += (" = " if body else "") + f"{self.value:.10g}"
            if self.error is not None:
                body += f" ± {self.error:.2g}"
        line = f"[{tag}] {self.title}" + (f": {body}" if body else "")
        return line + (f"\n       ({self.why})" if self.why else "")

    def latex(self) -> str:
        body = sp.latex(self.expr) if self.expr is not None else ""
        if self.value is not None:
            body += (" = " if body else "") + f"{self.value:.10g}"
            if self.error is not None:
                body += rf" \pm {self.error:.2g}"
        return body

    def to_dict(self) -> dict:
        return {"title": self.title, "expr": sp.sstr(self.expr) if self.expr is not None else None,
                "latex": self.latex(), "why": self.why, "exact": self.exact, "label": self.tag,
                "value": self.value, "error": self.error}


@dataclass(frozen=True)
class Derivation:
    """A result (R1-R5) derived step by step, with the assumptions it rests on."""

    key: str
    title: str
    steps: tuple[Step, ...]
    assumptions: tuple[str, ...] = ()
    conclusion: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def exact(self) -> bool:
        return all(step.exact for step in self.steps)

    def to_text(self) -> str:
        lines = [f"{self.key} — {self.title}"]
        if self.assumptions:
            lines.append("  assumes: " + "; ".join(self.assumptions))
        for number, step in enumerate(self.steps, 1):
            lines.append(f"  {number:>2}. " + step.text())
        if self.conclusion:
            lines.append(f"  => {self.conclusion}")
        return "\n".join(lines)

    def to_latex(self, fit: bool = False) -> str:
        """A LaTeX fragment: a subsection with an enumerated list of steps.

        ``fit`` wraps each formula in ``\\fiteq{...}`` (defined by the report template),
        which shrinks a formula wider than the line instead of letting it run off the page.
        """
        out = [rf"\subsection*{{{self.key}: {_tex_escape(self.title)}}}"]
        if self.assumptions:
            out.append(r"\emph{Assumes:} " + _tex_escape("; ".join(self.assumptions)) + ".")
        out.append(r"\begin{enumerate}")
        for step in self.steps:
            tag = step.tag
            math = step.latex()
            item = rf"\item[\textsc{{{tag}}}] {_tex_escape(step.title)}"
            if math:
                item += rf": \fiteq{{{math}}}" if fit else rf": $\displaystyle {math}$"
            if step.why:
                item += rf" \\ {{\small {_tex_escape(step.why)}}}"
            out.append(item)
        out.append(r"\end{enumerate}")
        if self.conclusion:
            out.append(r"\noindent$\Rightarrow$ " + _tex_escape(self.conclusion))
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "assumptions": list(self.assumptions),
                "steps": [step.to_dict() for step in self.steps], "conclusion": self.conclusion,
                "exact": self.exact}
