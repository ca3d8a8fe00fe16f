"""Every network the report trains or samples, in one table (each figure caption names its rows), and the
one-line statement of scale on page 1, both computed from the configurations the build actually ran."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..config import Config
from ..nets import build_net
from ..texutil import tex_prose
from ..training.spec import TrainSpec, dataset_for, net_config, net_shape
from .context import Context
from .latex import table

__all__ = ["Network", "networks", "sweep_networks", "configurations_tex", "scale_line", "scale_of", "with_scale", "count_text",
           "PAPER_PARAMS", "PAPER_TOKENS", "refs"]

# The paper's scale (its GPT): parameters and training tokens, for the statement of scale on page 1.
PAPER_PARAMS = 124e6
PAPER_TOKENS = 3.8e9


@dataclass(frozen=True)
class Network:
    """One row of the configurations table: a family of networks the report trains (``steps`` > 0) or samples
    at initialization (``steps`` = 0)."""

    key: str
    role: str
    arch: str
    widths: str
    depth: str
    params: tuple[int, int]
    steps: int
    optimizer: str
    lr: str
    clipping: str
    seeds: str
    data: str
    runs: int  # trained networks (configurations x seeds); sampled networks: 0
    tokens: int = 0  # training tokens (the GPT) or samples seen


@lru_cache(maxsize=256)
def _n_params(arch: str, config: Config, spec: TrainSpec | None) -> int:
    """Parameter count of the network ``config`` builds on ``spec``'s data (an MLP on N(0, I) inputs without)."""
    if spec is not None:
        config = net_config(config, dataset_for(config, spec, 0))
    shape = net_shape(spec) if spec is not None else {}
    return build_net(arch, config, rng=np.random.default_rng(0), **shape).n_params


def _opt(name: str) -> str:
    return {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "muon": "Muon", "momentum": "SGD+momentum"}.get(name, name)


def _span(values) -> tuple[int, int]:
    values = list(values)
    return (min(values), max(values)) if values else (0, 0)


def _join(values) -> str:
    return ", ".join(str(v) for v in dict.fromkeys(values))


def _montecarlo(ctx: Context) -> list[Network]:
    from ..evidence.montecarlo import DEFAULT_INITS
    from .montecarlo_sections import MC_SIZES
    from .residual_sections import R6_SIZES

    sizes, r6 = MC_SIZES[ctx.quick], R6_SIZES[ctx.quick]
    conditional = Config(loss="ce", act="relu", width=sizes["width"], depth=1)
    marginal = [Config(loss="ce", act="relu", width=w, depth=sizes["depth"]) for w in sizes["widths"]]
    residual = Config(loss="ce", act="relu", width=r6["width"], depth=r6["depth"])
    return [
        Network("N1", "t = 0 sign and size per unit (conditional Monte Carlo)", "MLP", str(sizes["width"]), "1",
                _span([_n_params("mlp", conditional, None)]), 0, "none (sampled)", "--", "--", "1 draw per init",
                f"x ~ N(0, I); inits {', '.join(DEFAULT_INITS)}; {sizes['samples']} samples", 0),
        Network("N2", "mean field against Monte Carlo by width (marginal)", "MLP", _join(sizes["widths"]),
                str(sizes["depth"]), _span(_n_params("mlp", c, None) for c in marginal), 0, "none (sampled)", "--",
                "--", "--", "x ~ N(0, I); normal init; "
                + _join(sizes["marginal_samples"][w] for w in sizes["widths"]) + " samples", 0),
        Network("N3", "pre-norm residual MLP at t = 0 (R6)", "ResMLP", str(r6["width"]), str(r6["depth"]),
                _span([_n_params("resmlp", residual, None)]), 0, "none (sampled)", "--", "--", "--",
                "x ~ N(0, I); normal and uniform inits", 0),
    ]


def _trained(ctx: Context) -> list[Network]:
    from .split_runs import SPLIT_DATASETS, split_configs, split_spec
    from .training_sections import CLIP_NORM, DATASETS, run_spec

    out = []
    persistence = [run_spec(loss, act, data, ctx.quick, seed=ctx.seed) for data in DATASETS
                   for loss, act in dict.fromkeys(ctx.pairs)]
    config, spec = persistence[0]
    out.append(Network("N4", "persistence of the sign in training", "MLP", str(config.width), str(config.depth),
                       _span(_n_params("mlp", c, s) for c, s in persistence), spec.steps, _opt(spec.opt),
                       f"{spec.lr:g}", f"global norm {CLIP_NORM:g}", str(spec.seeds), ", ".join(DATASETS),
                       len(persistence) * spec.seeds, spec.steps * spec.batch))
    mlp = [split_spec(loss, act, data, ctx.quick, seed=ctx.seed) for data in SPLIT_DATASETS if data != "text"
           for loss, act in split_configs(ctx, data)]
    config, spec = mlp[0]
    out.append(Network("N5", "self/label split (MLPs)", "MLP", str(config.width), str(config.depth),
                       _span(_n_params("mlp", c, s) for c, s in mlp), spec.steps, _opt(spec.opt), f"{spec.lr:g}",
                       "none", str(spec.seeds), ", ".join(d for d in SPLIT_DATASETS if d != "text"),
                       len(mlp) * spec.seeds, spec.steps * spec.batch))
    gpt = [split_spec(loss, act, "text", ctx.quick, seed=ctx.seed) for loss, act in split_configs(ctx, "text")]
    config, spec = gpt[0]
    out.append(Network("N6", "self/label split (GPT)", f"GPT ({spec.heads} heads, context {spec.context})",
                       str(config.width), str(config.depth), _span(_n_params("gpt", c, s) for c, s in gpt),
                       spec.steps, "AdamW", f"{spec.lr:g}", "none", str(spec.seeds), "pydoc text (next character)",
                       len(gpt) * spec.seeds, spec.steps * spec.batch * spec.context))
    return out


def _sweeps(ctx: Context) -> list[Network]:
    from ..sweeps.grid import Job
    from ..sweeps.job import _config, _spec
    from .sweep_results import sweep_results

    results, _ = sweep_results(ctx)
    groups: dict[tuple, list[Job]] = {}
    for result in results:
        job = Job.from_dict(result["job"])
        groups.setdefault((job.arch, job.width, job.depth, job.steps, job.batch), []).append(job)
    out = []
    for index, ((arch, width, depth, steps, batch), jobs) in enumerate(sorted(groups.items(), key=str)):
        params = _span(_n_params(job.arch, _config(job), _spec(job)) for job in {(j.arch, j.data): j for j in jobs}.values())
        seeds = len({j.seed for j in jobs})
        tokens = steps * batch * (64 if arch == "gpt" else 1)
        out.append(Network(f"N{7 + index}", "C1--C5 sweep", {"mlp": "MLP", "resmlp": "ResMLP", "gpt": "GPT",
                                                             "vit": "ViT"}.get(arch, arch),
                           str(width), str(depth), params, steps, _join(_opt(j.opt) for j in jobs),
                           _join(f"{j.lr:g}" for j in jobs), "none", f"{seeds} (of {len(jobs)} runs)",
                           _join(j.data for j in jobs), len(jobs), tokens))
    return out


def networks(ctx: Context) -> list[Network]:
    """Every network of the build, sampled then trained then swept (memoized on the context)."""
    if "networks" not in ctx.memo:
        ctx.memo["networks"] = _montecarlo(ctx) + _trained(ctx) + _sweeps(ctx)
    return ctx.memo["networks"]


def sweep_networks(ctx: Context) -> tuple[str, ...]:
    """The configurations table's rows of the C1-C5 sweeps."""
    return tuple(n.key for n in networks(ctx) if n.role.startswith("C1"))


def refs(*keys: str) -> str:
    """'networks N4 (Table ...)' for a caption."""
    return ("network " if len(keys) == 1 else "networks ") + ", ".join(keys) + r" (Table~\ref{tab:configs})"


def count_text(value: int) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return str(value)


def _params_text(span: tuple[int, int]) -> str:
    low, high = span
    return count_text(low) if low == high else f"{count_text(low)}--{count_text(high)}"


def scale_of(ctx: Context, key: str) -> str:
    """One network of the configurations table in a few words, for the page-1 table: ``N4: 28k params,
    150 steps, 3 seeds`` (trained) or ``N1: width 128, sampled at t = 0`` (Monte Carlo)."""
    network = next(n for n in networks(ctx) if n.key == key)
    if not network.steps:
        return f"{key}: width {network.widths}, sampled at t = 0"
    return f"{key}: {_params_text(network.params).replace('--', '–')} params, {network.steps} steps, {network.seeds} seeds"


def with_scale(ctx: Context, claim):
    """``claim`` with the scale of the network it names (``claim.network``) in front of its own ``scale``."""
    if not claim.network:
        return claim
    return replace(claim, scale=scale_of(ctx, claim.network) + claim.scale)


def configurations_tex(ctx: Context) -> str:
    rows = []
    for n in networks(ctx):
        ctx.record("configurations", n.key, n.__dict__)
        rows.append([n.key, tex_prose(n.role), tex_prose(n.arch), n.widths, n.depth, _params_text(n.params),
                     str(n.steps) if n.steps else "$t=0$", tex_prose(n.optimizer), n.lr, tex_prose(n.clipping),
                     tex_prose(n.seeds), tex_prose(n.data)])
    return table(["", "role", "arch.", "width", "depth", "params", "steps", "optimizer", "lr", "clip", "seeds",
                  "data"], rows,
                 "Every network this build trains or samples; each figure caption names its rows. Steps $t=0$: "
                 "networks sampled at initialization (Monte Carlo), never trained. Parameters count the weights "
                 "and biases of the network built on its data set (the GPT: its vocabulary and tied embedding).",
                 r"lp{2.4cm}p{1.1cm}p{0.9cm}lllp{1.4cm}p{0.8cm}p{1.0cm}p{1.2cm}p{2.2cm}", size=r"\scriptsize",
                 label="tab:configs")


def _study_scale() -> str:
    """The shipped persistence study's networks, for the scale line (empty where it does not ship)."""
    from ..sweeps.persistence import load_stored

    stored = load_stored()
    if stored is None:
        return ""
    scale = stored["scale"]
    params = sorted(scale["parameters"].values())
    cells = len(stored["cells"])
    return (f"; the stored persistence study: {count_text(params[0])}–{count_text(params[-1])}-parameter MLPs, "
            f"{scale['steps']} steps, {scale['seeds']} seeds in each of {cells} cells")


def scale_line(ctx: Context) -> str:
    """One sentence: the scale of this build's evidence beside the paper's."""
    trained = [n for n in networks(ctx) if n.steps]
    low = min(n.params[0] for n in trained)
    high = max(n.params[1] for n in trained)
    steps = sorted({n.steps for n in trained})
    seeds = sorted({int(s.split()[0]) for n in trained for s in [n.seeds] if s.split()[0].isdigit()})
    runs = sum(n.runs for n in trained)
    gpt = [n for n in trained if n.arch.startswith("GPT")]
    tokens = max((n.tokens for n in gpt), default=0)
    ctx.record("scale", "trained", {"params": [low, high], "steps": steps, "seeds": seeds, "runs": runs,
                                    "gpt_tokens": tokens})
    text = (f"Scale: numpy networks of {count_text(low)}–{count_text(high)} parameters trained for {steps[0]}–{steps[-1]} "
            f"steps with {seeds[0]}–{seeds[-1]} seeds per configuration ({runs} runs in all"
            + (f"; the largest GPT saw {count_text(tokens)} tokens" if tokens else "")
            + _study_scale()
            + f"), against the paper's {count_text(int(PAPER_PARAMS))}-parameter GPT trained on "
            f"{count_text(int(PAPER_TOKENS))} tokens, about {float(f'{PAPER_PARAMS / high:.2g}'):,.0f} times our largest.")
    return tex_prose(text) + r" Every network: Table~\ref{tab:configs}."
