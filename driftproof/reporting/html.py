"""The report as one self-contained HTML page, for readers who will not open a PDF.

It is made from the same generated LaTeX the PDF is built from (so the two cannot disagree): headings,
paragraphs, tables and figures are translated, figures embedded as base64 PNG, inline math turned into
HTML (Greek letters, sub- and superscripts), cross-references numbered as LaTeX numbers them. It reads
only this package's own LaTeX subset; anything else it meets is kept as text.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["write_html", "latex_to_html"]

_SYMBOLS = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "varepsilon": "ε", "epsilon": "ε", "eta": "η",
            "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
            "sigma": "σ", "tau": "τ", "varphi": "φ", "phi": "ϕ", "chi": "χ", "psi": "ψ", "omega": "ω",
            "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ",
            "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ", "geq": "≥", "ge": "≥", "leq": "≤", "le": "≤", "pm": "±",
            "approx": "≈", "cdot": "·", "times": "×", "infty": "∞", "to": "→", "Rightarrow": "⇒", "propto": "∝",
            "neq": "≠", "in": "∈", "partial": "∂", "nabla": "∇", "surd": "√", "odot": "⊙", "mp": "∓",
            "uparrow": "↑", "downarrow": "↓", "sum": "∑", "int": "∫", "prod": "∏", "sim": "∼", "mid": " | ",
            "ll": "≪", "gg": "≫", "perp": "⊥", "dots": "…", "ldots": "…", "cdots": "⋯", "quad": " ", "qquad": "  ",
            ",": " ", ";": " ", "!": "", " ": " ", "|": "‖", "S": "§", "%": "%", "&": "&amp;", "#": "#", "$": "$",
            "_": "_", "{": "{", "}": "}", "textbackslash": "\\", "textasciicircum": "^", "textasciitilde": "~",
            "textasciigrave": "`", "textless": "&lt;", "textgreater": "&gt;", "textbar": "|", "ldots ": "…",
            "log": "log", "exp": "exp", "tanh": "tanh", "max": "max", "min": "min", "erf": "erf", "sin": "sin",
            "cos": "cos", "Leftrightarrow": "⇔", "rightarrow": "→", "leftarrow": "←", "lvert": "|", "rvert": "|"}
_DROP = {"noindent", "par", "smallskip", "medskip", "bigskip", "unskip", "centering", "small", "footnotesize",
         "scriptsize", "normalsize", "large", "Large", "bfseries", "displaystyle", "left", "right", "big", "Big",
         "bigg", "limits", "nolimits", "allowbreak", "raggedright", "arraybackslash", "toprule", "midrule",
         "bottomrule", "endhead", "endfirsthead", "clearpage", "appendix", "hline"}
_STYLE = {"emph": "em", "textbf": "b", "texttt": "code", "textsf": "span", "textsc": "span", "textit": "em",
          "mathrm": "span", "operatorname": "span", "text": "span", "mathbf": "b", "boldsymbol": "b"}

_CSS = """body{font-family:Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#111}
h1{font-size:1.5rem;text-align:center}h2{margin-top:2rem;border-bottom:1px solid #ccc}
.banner{border:2px solid #a00;background:#fdecec;padding:.6rem;margin:1rem 0}.notevidence{color:#a00}
table{border-collapse:collapse;margin:.5rem auto 1.2rem;font-size:.85rem}caption{caption-side:top;text-align:left;
padding:.3rem 0}td,th{border-top:1px solid #ddd;padding:.2rem .4rem;vertical-align:top;text-align:left}
th{border-bottom:2px solid #333}figure{margin:1.2rem 0;text-align:center}figure img{max-width:100%}
figcaption{text-align:left;font-size:.9rem}.hold{background:#dff3df}.bad{background:#f8dada}.unsure{background:#fdf6cf}.none{background:#ececec}
code{font-size:.9em}.math{font-family:'Times New Roman',serif;font-style:italic}.display{display:block;margin:.3rem 1rem}
.tag{font-variant:small-caps;color:#555}"""


def _group(text: str, start: int) -> tuple[str, int]:
    """The balanced {...} group at ``start`` (skipping spaces) and the index after it; a single token otherwise."""
    i = start
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return "", i
    if text[i] != "{":
        if text[i] == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", text[i:])
            return match.group(0), i + match.end()
        return text[i], i + 1
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and (j == 0 or text[j - 1] != "\\"):
            depth += 1
        elif text[j] == "}" and text[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
    return text[i + 1:], len(text)


def _optional(text: str, start: int) -> tuple[str, int]:
    if start < len(text) and text[start] == "[":
        end = text.index("]", start)
        return text[start + 1:end], end + 1
    return "", start


class _Converter:
    """LaTeX (this package's subset) to HTML, with the label numbers LaTeX would print."""

    def __init__(self, labels: dict[str, str], figures: Path):
        self.labels = labels
        self.figures = figures

    def inline(self, text: str, math: bool = False) -> str:
        out, i = [], 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                piece, i = self._command(text, i, math)
                out.append(piece)
            elif char == "{":
                inner, i = _group(text, i)
                out.append(self.inline(inner, math))
            elif char == "}":
                i += 1
            elif char == "$" and not math:
                end = text.find("$", i + 1)
                end = len(text) if end < 0 else end
                out.append('<span class="math">' + self.inline(text[i + 1:end], True) + "</span>")
                i = end + 1
            elif char in "^_" and math:
                arg, i = _group(text, i + 1)
                tag = "sup" if char == "^" else "sub"
                out.append(f"<{tag}>{self.inline(arg, True)}</{tag}>")
            elif char == "~" and not math:
                out.append("&nbsp;")
                i += 1
            elif text.startswith("---", i) and not math:
                out.append("—")
                i += 3
            elif text.startswith("--", i) and not math:
                out.append("–")
                i += 2
            elif char == "&":
                out.append(" " if math else "&amp;")
                i += 1
            else:
                out.append(html.escape(char))
                i += 1
        return "".join(out)

    def _command(self, text: str, i: int, math: bool) -> tuple[str, int]:
        match = re.match(r"\\([A-Za-z]+)\*?|\\(.)", text[i:])
        name = match.group(1) or match.group(2)
        i += match.end()
        if name == "\\":
            _, i = _optional(text, i)
            return "<br>", i
        if name in _STYLE:
            arg, i = _group(text, i)
            tag = _STYLE[name]
            cls = ' class="tag"' if name == "textsc" else ""
            return f"<{tag}{cls}>{self.inline(arg, math)}</{tag}>", i
        if name in ("bar", "hat", "tilde", "overline", "vec"):
            arg, i = _group(text, i)
            mark = {"bar": "\u0304", "overline": "\u0305", "hat": "\u0302", "tilde": "\u0303", "vec": "\u20d7"}[name]
            return self.inline(arg, math) + mark, i
        if name == "mathbb":
            arg, i = _group(text, i)
            return {"E": "𝔼", "R": "ℝ", "N": "ℕ"}.get(arg, arg), i
        if name == "frac":
            top, i = _group(text, i)
            bottom, i = _group(text, i)
            return f"({self.inline(top, True)})/({self.inline(bottom, True)})", i
        if name == "sqrt":
            arg, i = _group(text, i)
            return f"√({self.inline(arg, True)})", i
        if name in ("ref", "autoref", "eqref"):
            arg, i = _group(text, i)
            return f'<a href="#{html.escape(arg)}">{self.labels.get(arg, "?")}</a>', i
        if name == "hyperref":
            target, i = _optional(text, i)
            arg, i = _group(text, i)
            return f'<a href="#{html.escape(target)}">{self.inline(arg, math)}</a>', i
        if name in ("label", "color", "setlength", "captionof", "caption", "input", "cellcolor", "vspace", "hspace",
                    "includegraphics", "newcommand"):
            _, i = _optional(text, i)
            for _ in range({"setlength": 2, "captionof": 2, "newcommand": 2}.get(name, 1)):
                _, i = _group(text, i)
            return "", i
        if name == "fiteq":
            arg, i = _group(text, i)
            return '<span class="math display">' + self.inline(arg, True) + "</span>", i
        if name in ("begin", "end"):
            env, i = _group(text, i)
            if env == "cases" and name == "begin":
                return "{ ", i
            if env == "cases":
                return " }", i
            return "", i
        if name in _SYMBOLS:
            return _SYMBOLS[name], i
        if name in _DROP:
            return "", i
        return html.escape(name), i  # an unknown command: its name as text, never silently lost

    def figure(self, block: str) -> str:
        name = re.search(r"\\includegraphics(?:\[[^]]*\])?\{figures/([^}]+)\}", block).group(1)
        png = self.figures / (Path(name).stem + ".png")
        caption, label = _caption(block)
        image = (f'<img alt="{html.escape(label)}" src="data:image/png;base64,'
                 + base64.b64encode(png.read_bytes()).decode() + '">') if png.exists() else "(figure missing)"
        return (f'<figure id="{label}">{image}<figcaption><b>Figure {self.labels.get(label, "")}:</b> '
                f"{self.inline(caption)}</figcaption></figure>")

    def table(self, block: str) -> str:
        caption, label = _caption(block)
        body = block
        for marker in (r"\endfirsthead", r"\endhead"):
            if marker in body:
                body = body.split(marker)[-1] if marker == r"\endhead" else body
        if r"\endfirsthead" in block:  # the first head, then the rows after the continued head
            first = block.split(r"\endfirsthead")[0]
            rows_text = block.split(r"\endhead", 1)[1]
        else:
            first, rows_text = block.split(r"\midrule", 1)
        head = first.split(r"\toprule")[-1].replace(r"\midrule", "")
        rows_text = rows_text.split(r"\bottomrule")[0]
        cells = [[c.strip() for c in re.split(r"(?<!\\)&", row)] for row in re.split(r"\\\\\s*\n", rows_text)
                 if row.strip()]
        head_cells = [c.strip() for c in re.split(r"(?<!\\)&", head.strip().rstrip("\\").strip())]
        out = [f'<table id="{label}"><caption><b>Table {self.labels.get(label, "")}:</b> {self.inline(caption)}'
               "</caption><tr>" + "".join(f"<th>{self.inline(c)}</th>" for c in head_cells) + "</tr>"]
        for row in cells:
            out.append("<tr>" + "".join(self._cell(c) for c in row) + "</tr>")
        return "\n".join(out) + "</table>"

    def _cell(self, cell: str) -> str:
        colour = re.match(r"\\cellcolor\{(\w+)", cell)
        cls = {"green": "hold", "red": "bad", "black": "none"}.get(colour.group(1), "unsure") if colour else ""
        return f'<td class="{cls}">' + self.inline(cell.rstrip("\\").strip()) + "</td>"


def _caption(block: str) -> tuple[str, str]:
    match = re.search(r"\\caption(?:of\{table\})?\{", block)
    caption, end = _group(block, match.end() - 1)
    label = re.search(r"\\label\{([^}]+)\}", block[end:end + 200] if end else block)
    return caption, label.group(1) if label else ""


_BLOCKS = re.compile(r"\\begin\{figure\}.*?\\end\{figure\}|\\begin\{longtable\}.*?\\end\{longtable\}"
                     r"|\\begin\{table\}.*?\\end\{table\}"
                     r"|\\begin\{center\}.*?\\end\{center\}|\\begin\{(?:enumerate|itemize)\}.*?\\end\{(?:enumerate|itemize)\}"
                     r"|\\(?:sub)*section\*?\{[^\n]*|\\paragraph\{[^}]*\}", re.S)


def _number_labels(body: str) -> dict[str, str]:
    """The number LaTeX prints for each label: sections (letters after \\appendix), figures, tables."""
    labels, counts, appendix = {}, {"section": 0, "subsection": 0, "figure": 0, "table": 0}, False
    for match in re.finditer(r"\\appendix|\\(section|subsection)(\*?)\{|\\caption(of\{table\})?\{|\\begin\{(figure|longtable|table)\}"
                             r"|\\label\{([^}]+)\}", body):
        token = match.group(0)
        if token == r"\appendix":
            appendix, counts["section"] = True, 0
        elif match.group(1) and not match.group(2):
            counts[match.group(1)] += 1
            if match.group(1) == "section":
                counts["subsection"] = 0
            current = "section" if match.group(1) == "section" else "subsection"
            number = chr(64 + counts["section"]) if appendix else str(counts["section"])
            last = number if current == "section" else f"{number}.{counts['subsection']}"
            labels["__last__"] = last
        elif match.group(4):
            labels["__kind__"] = "figure" if match.group(4) == "figure" else "table"
        elif token.startswith(r"\caption"):
            kind = "table" if match.group(3) else labels.get("__kind__", "table")
            counts[kind] += 1
            labels["__last__"] = str(counts[kind])
            labels["__kind__"] = "table"
        elif match.group(5):
            labels[match.group(5)] = labels.get("__last__", "?")
    return {k: v for k, v in labels.items() if not k.startswith("__")}


def latex_to_html(body: str, figures: Path) -> str:
    """The report body (LaTeX between \\begin{document} and \\end{document}) as HTML."""
    converter = _Converter(_number_labels(body), figures)
    out, position = [], 0
    for match in _BLOCKS.finditer(body):
        out.append(_paragraphs(converter, body[position:match.start()]))
        out.append(_block(converter, match.group(0)))
        position = match.end()
    out.append(_paragraphs(converter, body[position:]))
    return "\n".join(piece for piece in out if piece.strip())


def _paragraphs(converter: _Converter, text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join(f"<p>{converter.inline(p)}</p>" for p in parts if converter.inline(p).strip())


def _block(converter: _Converter, block: str) -> str:
    if block.startswith(r"\begin{figure}"):
        return converter.figure(block)
    if block.startswith((r"\begin{longtable}", r"\begin{table}")) or r"\captionof{table}" in block:
        return converter.table(block)
    if block.startswith(r"\begin{center}"):
        return f"<div>{converter.inline(block)}</div>"
    if block.startswith(r"\begin{enumerate}") or block.startswith(r"\begin{itemize}"):
        items = re.split(r"\\item(?:\[([^]]*)\])?", block.split("}", 1)[1].rsplit(r"\end", 1)[0])[1:]
        html_items = []
        for tag, item in zip(items[0::2], items[1::2]):
            label = f'<span class="tag">{converter.inline(tag)}</span> ' if tag else ""
            html_items.append(f"<li>{label}{converter.inline(item)}</li>")
        return "<ul>" + "".join(html_items) + "</ul>"
    if block.startswith(r"\paragraph"):
        title, _ = _group(block, len(r"\paragraph"))
        return f"<h4>{converter.inline(title)}</h4>"
    level = {r"\section": "h2", r"\subsection": "h3", r"\subsubsection": "h4"}[re.match(r"\\\w+", block).group(0)]
    star = block[len(re.match(r"\\\w+", block).group(0))] == "*"
    title, end = _group(block, block.index("{"))
    label = re.search(r"\\label\{([^}]+)\}", block[end:])
    anchor = label.group(1) if label else ""
    number = "" if star or not anchor else converter.labels.get(anchor, "") + " "
    rest = converter.inline(block[end:]) if not label else converter.inline(block[end:].replace(label.group(0), ""))
    return f'<{level} id="{anchor}">{number}{converter.inline(title)}</{level}>' + (f"<p>{rest}</p>" if rest.strip() else "")


def write_html(folder: Path) -> Path:
    """``report.html`` in ``folder``, from its report.tex and generated/*.tex; returns its path."""
    folder = Path(folder)
    tex = (folder / "report.tex").read_text()
    for _ in range(2):  # generated files may input others
        tex = re.sub(r"\\input\{(generated/[^}]+)\}", lambda m: (folder / m.group(1)).read_text()
                     if (folder / m.group(1)).exists() else "", tex)
    tex = re.sub(r"(?<!\\)%[^\n]*\n?", "", tex)  # LaTeX comments (a title file ends in one), never \% (escaped)
    body = tex.split(r"\begin{document}", 1)[1].split(r"\end{document}", 1)[0]
    title_block = re.search(r"\\begin\{center\}(.*?)\\end\{center\}", body, re.S)
    title = ""
    if title_block:
        body = body.replace(title_block.group(0), "", 1)
        main, _, rest = title_block.group(1).partition(r"\\[3pt]")
        converter = _Converter({}, folder / "figures")
        title = (f"<h1>{converter.inline(main)}</h1><p style='text-align:center'>{converter.inline(rest)}</p>")
    banner = re.search(r"\\noindent\\fcolorbox\{[^}]*\}\{[^}]*\}\{\\parbox\{[^}]*\}\{(.*?)\}\}\s*\n", body, re.S)
    if banner:
        body = body.replace(banner.group(0), "", 1)
        title += f'<div class="banner">{_Converter({}, folder).inline(banner.group(1))}</div>'
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>driftproof verification report"
            f"</title><style>{_CSS}</style></head><body>{title}{latex_to_html(body, folder / 'figures')}</body></html>")
    target = folder / "report.html"
    staged = target.with_suffix(".html.partial")
    staged.write_text(page)
    staged.replace(target)
    return target
