"""Plain text for LaTeX: escaping (user-supplied names included), Unicode symbols, the plain-text formula
notation of this package's messages typeset as math, and numbers rounded to their standard error."""

from __future__ import annotations

import math
import re

__all__ = ["tex_escape", "tex_prose", "round_to_error", "tex_number", "GREEK"]

_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
             "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
             "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
GREEK = {"α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "η": r"\eta",
         "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "π": r"\pi",
         "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi",
         "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Π": r"\Pi",
         "Σ": r"\Sigma", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega", "ℓ": r"\ell"}
_MATH_SYMBOLS = {"≥": r"\geq", "≤": r"\leq", "±": r"\pm", "≈": r"\approx", "·": r"\cdot", "×": r"\times",
                 "∞": r"\infty", "→": r"\to", "←": r"\leftarrow", "⇒": r"\Rightarrow", "∝": r"\propto",
                 "≠": r"\neq", "∈": r"\in", "∂": r"\partial", "∇": r"\nabla", "√": r"\surd", "‖": r"\|",
                 "⊙": r"\odot", "∓": r"\mp", "↑": r"\uparrow", "↓": r"\downarrow", "∑": r"\sum", "≪": r"\ll",
                 "≫": r"\gg", "∼": r"\sim", "⊥": r"\perp"}
_SCRIPTS = {"²": "^2", "³": "^3", "¹": "^1", "⁰": "^0", "⁴": "^4", "ˡ": "^l", "ᴸ": "^L", "ᵀ": "^T", "⁻": "^-",
            "ᵢ": "_i", "ⱼ": "_j", "ₖ": "_k", "₀": "_0", "₁": "_1", "₂": "_2", "₃": "_3", "₋": "_-", "ₗ": "_l"}
_TEXT = {"−": "-", "—": "---", "–": "--", "′": "'", "…": r"\ldots{}", "§": r"\S{}", "“": "``", "”": "''",
         "‘": "`", "’": "'", "é": r"\'e", "ö": r'\"o', "ü": r'\"u'}
_UNICODE = {**{k: f"${v}$" for k, v in {**GREEK, **_MATH_SYMBOLS}.items()},
            **{k: f"${v[0]}{{{v[1:]}}}$" for k, v in _SCRIPTS.items()}, **_TEXT}


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


# Greek letters spelled out in plain-text formulas (the theory's messages write "sigma sigma'(p)"); "delta
# method" is a statistics term, not a letter.
_SPELLED = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "eta": "η", "theta": "θ", "lambda": "λ",
            "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "psi": "ψ",
            "omega": "ω", "Sigma": "Σ", "Delta": "Δ", "Pi": "Π", "inf": "∞"}
_SPELLED_WORD = re.compile(r"(?<![\w/.])(" + "|".join(_SPELLED) + r")(?![A-Za-z])(?! method)")
_SUM = re.compile(r"(?<![\w/.])sum_(?=[\w(])")  # sum_k, sum_(j != i): a summation sign
_OPERATORS = {"!=": "≠", ">=": "≥", "<=": "≤"}
# Multi-letter bases that take a subscript: operators and derivatives (Cov_j, Var_V, dz_k).
_SUB_WORDS = r"Cov|Var|max|min|tr|d[A-Za-z]"
# A script's argument: {...}, (...) or a short run of letters and digits (Greek included).
_ARG = r"(?:\{[^{}]+\}|\([^()]+\)|[A-Za-z0-9\u0370-\u03ff]{1,3}(?![A-Za-z0-9_]))"
# A base with at least one script. ``_`` only after a single letter (so snake_case names and file names stay
# text); ``^`` after any word (ReLU^2, T^(L+1)).
_SCRIPTED = re.compile(
    r"(?<![\w\\])(?:(?P<one>(?:" + _SUB_WORDS + r"|[A-Za-z\u0370-\u03ff])['²]*)(?P<s1>(?:[_^]" + _ARG + r")+)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9]*)(?P<s2>\^" + _ARG + r"(?:[_^]" + _ARG + r")*))")
_BACKQUOTED = re.compile(r"`([^`\n]+)`")
_TILDE = re.compile(r"~")  # "z ~ N(0, 1)", "~1e-5": distributed as, or about
_GREEK_RUN = re.compile(r"[\u0370-\u03ff]+'+")  # σσ' and the like: one math group with its primes


def _math_atom(text: str) -> str:
    """Letters, digits and operators of a script or base, as math (Greek to commands)."""
    out = []
    for char in text:
        if char in GREEK:
            out.append(GREEK[char] + " ")
        elif char in _MATH_SYMBOLS:
            out.append(_MATH_SYMBOLS[char] + " ")
        elif char == "²":
            out.append("^2")
        elif char in "{}":
            continue
        elif char in _SPECIALS:
            out.append(_SPECIALS[char] if char not in "<>|" else {"<": "<", ">": ">", "|": r"\mid "}[char])
        else:
            out.append(char)
    return "".join(out).strip()


def _scripted(match: re.Match) -> str:
    base = match.group("one") or match.group("word")
    scripts = match.group("s1") or match.group("s2")
    word = base.rstrip("'²")
    head = (r"\mathrm{" + word + "}" + _math_atom(base[len(word):])) if len(word) > 1 and word[0] != "d" \
        else _math_atom(base)
    parts = re.findall(r"([_^])(" + _ARG + ")", scripts)
    body = "".join(f"{mark}{{{_math_atom(arg[1:-1] if arg[0] in '({' else arg)}}}" for mark, arg in parts)
    return "$" + head + body + "$"


def tex_prose(text: str) -> str:
    """Plain text that writes formulas the way this package's messages do, typeset for LaTeX.

    ``δ_i``, ``s_V^2``, ``ReLU^2`` and ``T^(L+1)`` become math with real sub- and superscripts, ``z ~ N(...)``
    gets a ``\\sim``, ``σσ'`` is one math group with its prime, and a backquoted span is typewriter text; the
    rest is :func:`tex_escape`-d. An underscore is a subscript only after a single letter, so file and
    option names (``r6_transformer.py``, ``clip_norm``) keep theirs.
    """
    text = _SUM.sub("Σ_", _SPELLED_WORD.sub(lambda m: _SPELLED[m.group(1)], str(text)))
    for plain, symbol in _OPERATORS.items():
        text = text.replace(plain, symbol)
    out, position = [], 0

    def plain(chunk: str) -> str:  # a line may break after a slash or a star (mse/relu, x^2*tanh(x))
        return re.sub(r"([/*])(?=\S)", r"\1\\allowbreak{}", tex_escape(chunk))

    pattern = re.compile("|".join(f"(?P<g{i}>{p.pattern})" for i, p in enumerate(
        (_BACKQUOTED, _SCRIPTED, _TILDE, _GREEK_RUN))))
    for match in pattern.finditer(text):
        out.append(plain(text[position:match.start()]))
        chunk = match.group(0)
        if match.group("g0"):
            out.append(r"\texttt{" + tex_escape(chunk[1:-1]) + "}")
        elif match.group("g1"):
            out.append(_scripted(_SCRIPTED.fullmatch(chunk)))
        elif match.group("g2"):
            out.append(r"$\sim$")
        else:
            out.append("$" + _math_atom(chunk) + "$")
        position = match.end()
    out.append(plain(text[position:]))
    return "".join(out).replace("$$", "")


def round_to_error(value: float, error: float | None, digits: int = 2,
                   scale: float | None = None) -> tuple[str, str]:
    """``value`` and ``error`` as printed: the error to ``digits`` significant digits, the value to the same
    decimal place (scientific notation where the numbers are very small or large). Without a usable error
    the value keeps 4 significant digits and the error reads ``n/a``. ``scale``: the size that decides between
    fixed and scientific notation (default the larger of the value and the error), so that the numbers of one
    interval share a notation."""
    if value is None or not math.isfinite(value):
        return ("n/a" if value is None else str(value)), "n/a"
    if error is None or not math.isfinite(error) or error <= 0:
        return f"{value:.4g}", "n/a" if error is None or not math.isfinite(error) else "0"
    place = math.floor(math.log10(error)) - (digits - 1)  # decimal exponent of the last kept digit
    size = max(abs(value), error, scale or 0.0)
    if 1e-4 <= size < 1e6 and place >= -17:
        value_text = f"{round(value, -place):.{max(-place, 0)}f}"
    else:
        exponent = math.floor(math.log10(size))
        value_text = f"{value / 10 ** exponent:.{max(exponent - place, 0)}f}e{exponent}"
    if 1e-4 <= error < 1e6:
        error_text = f"{round(error, -place):.{max(-place, 0)}f}"
    else:
        mantissa, exponent = f"{error:.{digits - 1}e}".split("e")
        error_text = f"{mantissa}e{int(exponent)}"
    return value_text, error_text


def tex_number(text: str) -> str:
    """A printed number for math mode: ``1.5e-7`` as ``1.5\\times 10^{-7}``."""
    mantissa, sep, exponent = str(text).partition("e")
    return rf"{mantissa}\times 10^{{{int(exponent)}}}" if sep and exponent.lstrip("+-").isdigit() else str(text)
