"""Report sections from the theory: sign maps, derivations, mean-field predictions."""

from __future__ import annotations

import numpy as np

from ..activations import get_activation
from ..config import Config
from ..texutil import tex_escape
from ..theory.derive import derive_all
from ..theory.signmap import sign_map
from ..evidence import verify
from ..results import Verification
from .context import Context
from .figures import sign_map_figure
from .latex import table

__all__ = ["theory_results", "sign_map_section", "derivation_section", "mean_field_section"]


def theory_results(ctx: Context, loss: str, act: str) -> tuple[Verification, list[str]]:
    """Symbolic and mean-field evidence for one pair, and its derivations in LaTeX (cached)."""
    config = Config(loss=loss, act=act, depth=ctx.depth, width=ctx.width, seed=ctx.seed)

    def compute():
        return {"verification": verify(config, kinds=("symbolic",)).to_dict(),
                "derivations": [d.to_latex(fit=True) for d in derive_all(config)]}

    cached = ctx.cache.get("theory", config.to_dict(), compute)
    return Verification.from_dict(cached["verification"]), cached["derivations"]


def sign_map_section(ctx: Context) -> str:
    acts = list(dict.fromkeys(act for _, act in ctx.pairs))

    def compute(name):
        act = get_activation(name)
        smap = sign_map(act)
        finite = [v for v in (*(r.value for r in smap.roots), *act.breakpoints) if np.isfinite(v)]
        grid = np.linspace(min(-4.0, 1.3 * min(finite, default=0)), max(4.0, 1.3 * max(finite, default=0)), 801)
        return {"grid": grid.tolist(), "values": act.numpy_sigma_dsigma(grid).tolist(),
                "intervals": [[iv.lo, iv.hi, iv.sign] for iv in smap.intervals],
                "roots": [r.value for r in smap.roots], "exact": smap.exact, "method": smap.method,
                "root_text": [r.exact for r in smap.roots]}

    panels = [{"name": name, **ctx.cache.get("signmap", {"act": name}, lambda n=name: compute(n))} for name in acts]
    figure = sign_map_figure(panels, ctx.figures / "sign_maps")
    ctx.figure_count += 1
    rows = []
    for panel in panels:
        intervals = "; ".join(f"({_inf(lo)}, {_inf(hi)}): {'+-0'[[1, -1, 0].index(sign)]}"
                              for lo, hi, sign in panel["intervals"])
        roots = ", ".join(ctx.numbers.add(f"root {panel['name']} {i}", value, 12)
                          for i, value in enumerate(panel["roots"]))
        negative_on_positive = any(sign == -1 and hi > 0 for lo, hi, sign in panel["intervals"])
        rows.append([tex_escape(panel["name"]), tex_escape(intervals), roots or "none",
                     "exact" if panel["exact"] else "numeric", "violated" if negative_on_positive else "holds"])
        ctx.record("sign_maps", panel["name"], {k: panel[k] for k in ("intervals", "roots", "exact", "method")})
    body = [r"\section{Sign maps of $\sigma\sigma'$ (R3)}",
            r"For a zero-mean, independent initialization and a coordinate-wise convex loss, "
            r"$\operatorname{sign}\mathbb{E}[\delta_i\mid p] = \operatorname{sign}\sigma(p_i)\sigma'(p_i)$ (R3). "
            r"Figure~\ref{fig:signmaps} shades where $\sigma\sigma'$ is positive, negative or zero; roots are "
            r"exact where SymPy finds them and otherwise refined with mpmath far below $10^{-9}$.",
            r"\begin{figure}[H]\centering", rf"\includegraphics[width=\linewidth]{{{_rel(ctx, figure)}}}",
            r"\caption{$\sigma(p)\sigma'(p)$ with its sign intervals (green $>0$, red $<0$, grey $=0$); "
            r"dashed lines mark roots.}\label{fig:signmaps}", r"\end{figure}",
            table(["activation", "sign intervals of σσ'", "roots", "method", "on p > 0"], rows,
                  r"Sign map of $\sigma\sigma'$ per activation.", "p{2.4cm}p{5.4cm}p{3.4cm}ll")]
    return "\n".join(body)


def derivation_section(ctx: Context) -> str:
    out = [r"\section{Derivations}",
           "Generated from the SymPy objects; every step is marked exact or numeric. Configuration: "
           + tex_escape(f"width {ctx.width}, depth {ctx.depth}, K = 10, init normal, scale he, seed {ctx.seed}.")]
    for loss, act in ctx.pairs:
        _, derivations = theory_results(ctx, loss, act)
        out.append(rf"\subsection{{{tex_escape(loss)} / {tex_escape(act)}}}")
        out.extend(d.replace(r"\subsection*", r"\subsubsection*") for d in derivations)
    return "\n".join(out)


def mean_field_section(ctx: Context) -> str:
    rows = []
    for loss, act in ctx.pairs:
        verification, _ = theory_results(ctx, loss, act)
        for row in verification.rows(result="R5"):
            n = row.numbers
            key = f"mf {loss} {act} layer {n['layer']}"
            rows.append([tex_escape(loss), tex_escape(act), str(n["layer"]),
                         ctx.numbers.add(key + " q", n["q"]),
                         ctx.numbers.add(key + " T", n["T_next"]),
                         ctx.numbers.add(key + " delta pos", n["delta_given_positive"]),
                         ctx.numbers.add(key + " dW", n["dW_mean_per_lr"]),
                         ctx.numbers.add(key + " db", n["db_mean_per_lr"])])
            ctx.record("mean_field", f"{loss}/{act}/{n['layer']}", n)
    return "\n".join([
        r"\section{Mean field and the first step (R4, R5)}",
        r"Variance recursion $q_{l+1} = s_{l+1}^2 N\,\mathbb{E}[\sigma(p^l)^2]$, curvature recursion "
        r"$T^l = N s_{l+1}^2\,\mathbb{E}[(\sigma\sigma')'(p^l)]\,T^{l+1}$, and the predicted first-step change of "
        r"each layer's mean weight and mean bias under SGD per unit learning rate: "
        r"$\Delta\bar W^l/\eta = -\mathbb{E}[\delta^l]\,\mathbb{E}[h^{l-1}]$, $\Delta\bar b^l/\eta = -\mathbb{E}[\delta^l]$.",
        table(["loss", "activation", "layer", "q", "T next", "E[δ | p>0]", "ΔW/η", "Δb/η"], rows,
              "Mean-field predictions per layer (inputs $x\\sim N(0, I)$, He scale, normal init).", "lp{3cm}rrrrrr")])


def _inf(value: float) -> str:
    return "-inf" if value == float("-inf") else "inf" if value == float("inf") else f"{value:.6g}"


def _rel(ctx: Context, path) -> str:
    return str(path.relative_to(ctx.folder)).replace("\\", "/")
