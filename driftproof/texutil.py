"""Escaping plain text (user-supplied names included) for LaTeX, Unicode symbols too."""

from __future__ import annotations

__all__ = ["tex_escape"]

_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
             "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
             "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
_UNICODE = {"σ": r"$\sigma$", "δ": r"$\delta$", "π": r"$\pi$", "Σ": r"$\Sigma$", "Δ": r"$\Delta$",
            "≥": r"$\geq$", "≤": r"$\leq$", "−": "-", "±": r"$\pm$", "≈": r"$\approx$", "·": r"$\cdot$",
            "—": "---", "–": "--", "×": r"$\times$", "²": r"$^2$", "∞": r"$\infty$", "ᵢ": r"$_i$",
            "₋": r"$_-$", "η": r"$\eta$", "μ": r"$\mu$", "′": "'", "→": r"$\to$", "…": r"\ldots{}"}


def tex_escape(text: str) -> str:
    """Escape LaTeX specials and map the Unicode symbols this package prints to math.

    Text reads as typed: ``--grid`` keeps two hyphens (the fonts would join them into an en dash) and
    a backquote stays a backquote (not an opening quote).
    """
    text = str(text)
    out = []
    for i, char in enumerate(text):
        if char == "-" and text[i + 1:i + 2] == "-":
            out.append("-{}")
        elif char == "`":
            out.append(r"\textasciigrave{}")
        elif char in _SPECIALS:
            out.append(_SPECIALS[char])
        elif char in _UNICODE:
            out.append(_UNICODE[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append("?")  # anything else would break pdflatex
    return "".join(out)
