"""Sweep configurations (one trained network each) and the named grids (issue 6).

A :class:`Job` is one cell of the grid: activation (optionally with forced sparsity) x init
scale x learning rate x weight decay x width x architecture x data x seed. Its ``key`` is a
hash of every field plus the package version (and ``MEASURE_VERSION``), so a stored result is reused only by the
same configuration run by the same code.

Grid blocks (``Job.block``) say which claim a configuration serves:

- ``acts``: relu, relu2, clipped relu2, gelu, gelu2 on the same footing (C3, C4, C5);
- ``natural``: ReLU across init scale, learning rate, weight decay and width, the sparsity
  that training produces by itself (C1, and points for C2);
- ``forced``: ReLU with sparsity forced at a batch quantile from 10% to 95% (C2).

Grids: ``default`` and ``quick`` (MLP and residual MLP), ``transformer`` and ``transformer_quick``
(the paper's own architectures: the GPT on the pydoc text and the ViT on the digits).
"""

from __future__ import annotations

import hashlib
import math
import itertools
import json
from dataclasses import asdict, field, fields, make_dataclass, replace

from .._version import __version__
from ..archs import all_archs, get_arch
from ..errors import InputError
from ..training.options import OPTIONS

__all__ = ["Job", "GRIDS", "make_grid", "scaled_grid", "grid_scale", "is_grid", "CLIP_RELATIVE", "clip_relative",
           "MEASURE_VERSION"]

# Bump when run_job measures differently: stored results of the old measurements stop matching.
MEASURE_VERSION = 3  # 2: the sign statistic at t = 0 and its persistence (``sign``); 3: divergence by
# the rule of driftproof.divergence, three sparsity measures (``sparsity_measures``)

# Clipped ReLU^2 threshold, relative to the activation scale (see ``job.clip_threshold``).
# The paper's c = 50 clips a GPT's ReLU^2 at p = sqrt(50) = 7.1 pre-activation standard
# deviations (LayerNorm'd inputs, p ~ N(0, ~1)): ~1.09x the largest value a Gaussian reaches
# among the ~1e9 pre-activations of one layer and batch (sqrt(2 ln 1e9) = 6.4). A layer of
# these networks sees ~5e4 held-out pre-activations (max ~ sqrt(2 ln 5e4) = 4.6 sd), so the
# same margin clips at p = 5 sd, i.e. h = 25 sd^2. The sd is read from the network itself at
# init, as median(p | p > 0) / 0.6745 (the half-normal median), so c = (5 / 0.6745)^2 = 55x
# the median active ReLU^2 output at init. For the pre-norm ResMLP that is c ~ 50 (its
# pre-activations have variance ~2 at init); the paper's 50 would never bind in the plain MLP.
# A tighter clip at 3 sd (c = 20x) is swept beside it as a sensitivity check.
HALF_NORMAL_MEDIAN = 0.6744897501960817
CLIP_SD, CLIP_SD_TIGHT = 5.0, 3.0


def clip_relative(sd: float) -> float:
    """c / (median active ReLU^2 output at init) for a clip at ``sd`` pre-activation standard deviations."""
    return (sd / HALF_NORMAL_MEDIAN) ** 2


CLIP_RELATIVE = clip_relative(CLIP_SD)


class _JobMethods:
    """A Job's name in the claims table, its key, and its serialization (its fields: :data:`JOB_FIELDS`)."""

    @property
    def label(self) -> str:
        """The activation as the claims table names it."""
        if self.force is not None:
            return f"{self.act}@{self.force:g}"
        if self.act == "clipped_relu2" and self.clip is not None and abs(self.clip - CLIP_RELATIVE) > 1e-9:
            return f"clipped_relu2[{math.sqrt(self.clip) * HALF_NORMAL_MEDIAN:.3g}sd]"
        return self.act

    @property
    def key(self) -> str:
        payload = json.dumps({"job": asdict(self), "version": __version__, "measure": MEASURE_VERSION}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# The training options a job names take their type from the option table (training/options.py) and these
# defaults, the sweep's own (the rest are the table's: wd 0, batch 64, n_train 2048, n_test 512).
SWEEP_DEFAULTS = {"data": "digits", "opt": "adam", "lr": 1e-3, "steps": 1500}
# A job's fields in order: (name, type, default) of its own, or the name of a training option.
JOB_FIELDS = (("act", str, "relu"),
              ("force", float | None, None),  # forced sparsity: the batch quantile at which units are gated
              "data", ("arch", str, "mlp"), "opt", "lr", "wd", ("scale", str, "he"), ("width", int, 128),
              ("depth", int, 3), "steps", "batch", "n_train", "n_test", ("seed", int, 0),
              # clipped_relu2 only: c = clip * (median active ReLU^2 output of this network at init)
              ("clip", float | None, None),
              ("block", str, "acts"))


def _job_fields() -> list[tuple]:
    out = []
    for entry in JOB_FIELDS:
        if isinstance(entry, str):
            option = OPTIONS[entry]
            entry = (entry, option.type, SWEEP_DEFAULTS.get(entry, option.default))
        name, kind, default = entry
        out.append((name, kind, field(default=default)))
    return out


Job = make_dataclass("Job", _job_fields(), bases=(_JobMethods,), frozen=True)
Job.__module__ = __name__  # pickled (sweep workers) and shown as driftproof.sweeps.grid.Job
Job.__doc__ = "One training configuration of the sweep (one seed); its fields are :data:`JOB_FIELDS`."


ACTS = ("relu", "relu2", "clipped_relu2", "gelu", "gelu2")
# Seeds per configuration (DESIGN.md §3): 10 in the MLP family's default grid, 5 in the transformer grid.
SEEDS, TRANSFORMER_SEEDS = 10, 5
FORCE_LEVELS = (0.1, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.95, 0.97, 0.99)


def _act_jobs(data, arch, seeds, **common) -> list[Job]:
    return [Job(act=act, clip=CLIP_RELATIVE if act == "clipped_relu2" else None, data=data, arch=arch, seed=seed,
                block="acts", **common)
            for act, seed in itertools.product(ACTS, seeds)]


def _default() -> list[Job]:
    jobs: list[Job] = []
    # C3-C5: five activations x {digits resmlp, noise resmlp, digits mlp} x 10 seeds = 150. The pre-norm
    # ResMLP is the GPT-like case; in the plain MLP, ReLU^2 and GELU^2 at He init blow up with depth.
    for data, arch in (("digits", "resmlp"), ("noise", "resmlp"), ("digits", "mlp")):
        jobs += _act_jobs(data, arch, range(SEEDS))
        # C4 sensitivity: the tighter clip (3 sd) on the same seeds = 30
        jobs += [Job(act="clipped_relu2", clip=clip_relative(CLIP_SD_TIGHT), data=data, arch=arch, seed=seed)
                 for seed in range(SEEDS)]
    # C1: ReLU's natural sparsity across init scale x lr x weight decay (SGD and AdamW) x data = 32 x 10 seeds
    for data, (opt, lrs), scale, wd in itertools.product(
            ("digits", "noise"), (("sgd", (0.03, 0.3)), ("adamw", (1e-3, 1e-2))), ("he", "std=0.02"), (0.0, 0.1)):
        for lr, seed in itertools.product(lrs, range(SEEDS)):
            jobs.append(Job(act="relu", data=data, opt=opt, lr=lr, wd=wd if opt == "adamw" else wd / 100,
                            scale=scale, seed=seed, block="natural"))
    # C1 width axis: 64 and 256 at the default optimizer, digits and noise = 4 x 10 seeds
    for data, width, seed in itertools.product(("digits", "noise"), (64, 256), range(SEEDS)):
        jobs.append(Job(act="relu", data=data, width=width, seed=seed, block="natural"))
    # C2: forced sparsity 10%..99% x 10 seeds on digits = 130; with the acts block's ten unforced
    # ReLU digits MLP runs (the same hyperparameters) they form the all-else-equal series C2 fits.
    for q, seed in itertools.product(FORCE_LEVELS, range(SEEDS)):
        jobs.append(Job(act="relu", force=q, data="digits", seed=seed, block="forced"))
    return jobs


def _quick() -> list[Job]:
    small = dict(width=32, depth=2, steps=60, batch=32, n_train=256, n_test=128)
    jobs = []
    for act in ACTS:
        jobs += [Job(act=act, clip=CLIP_RELATIVE if act == "clipped_relu2" else None, data="digits", seed=s,
                     block="acts", **small) for s in range(2)]
    jobs += [Job(act="relu", data="noise", lr=1e-2, block="natural", **small)]
    jobs += [Job(act="relu", force=q, data="digits", block="forced", **small) for q in (0.2, 0.5, 0.8, 0.95)]
    return jobs


TRANSFORMER_ACTS = ACTS + ("silu",)
TRANSFORMER_FORCE = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
# The transformers of ``driftproof train`` (4 layers, 4 heads, width 128 for the GPT, 64 for the
# ViT's 16-token digits), AdamW at 3e-3 (the paper's AdamW rate is 3.6e-3): each architecture's ``grid``.
GPT, VIT = dict(get_arch("gpt").grid), dict(get_arch("vit").grid)  # importable names of the registry's shapes


def _transformer_jobs(shapes, seeds, force_levels) -> list[Job]:
    jobs = []
    for shape in shapes:
        jobs += [Job(act=act, clip=CLIP_RELATIVE if act == "clipped_relu2" else None, seed=seed, block="acts",
                     **shape) for act, seed in itertools.product(TRANSFORMER_ACTS, seeds)]
        # C2: forced sparsity on ReLU at each level, as many seeds; with the unforced ReLU runs, the cliff series
        jobs += [Job(act="relu", force=q, seed=seed, block="forced", **shape)
                 for q, seed in itertools.product(force_levels, seeds)]
    return jobs


def _transformer() -> list[Job]:
    """C1-C5 on the GPT and the ViT: six activations x 5 seeds, and ReLU forced from 10% to 99% sparsity x 5 seeds."""
    return _transformer_jobs(_grid_shapes(), range(TRANSFORMER_SEEDS), TRANSFORMER_FORCE)


def _transformer_quick() -> list[Job]:
    """A minute's smoke version of ``transformer``: both families, tiny, one seed, two forced levels."""
    return _transformer_jobs(_grid_shapes(quick=True), range(1), (0.5, 0.9))


def _grid_shapes(quick: bool = False) -> list[dict]:
    """The sweep shape of each architecture that has one (its ``grid``), in registry order."""
    return [{**arch.grid, **(arch.grid_quick if quick else {})} for arch in all_archs() if arch.grid is not None]


GRIDS = {"default": _default, "quick": _quick, "transformer": _transformer, "transformer_quick": _transformer_quick}


def make_grid(name: str) -> list[Job]:
    """The named grid's jobs: one of :data:`GRIDS`, or one scaled up (:func:`scaled_grid`, e.g.
    ``default:seeds=30,width=4``); InputError for any other name."""
    base, scale = grid_scale(name)
    jobs = GRIDS[base]()
    if scale:
        jobs = _scale(jobs, **scale)
    assert len({j.key for j in jobs}) == len(jobs), "duplicate configurations in the grid"
    return jobs


# How a grid is run larger (``driftproof sweep --seeds N --width-mult K --steps-mult K``): every configuration of
# the named grid, with N seeds instead of its own, K times wider and K times longer. The scaled grid is named
# ``<grid>:seeds=N,steps=K,width=K`` in its folder's sweep.json and its claims; each result records its own job
# (width, steps, seed) and its scale (parameters, updates, samples, tokens), so no scaled result is mistaken
# for the shipped grid's: a configuration's key hashes every field.
SCALES = {"seeds": 10_000, "width": 64, "steps": 1_000}  # each factor's largest value


def scaled_grid(grid: str, seeds: int | None = None, width: int = 1, steps: int = 1) -> str:
    """The name of ``grid`` run with ``seeds`` seeds per configuration, ``width`` times wider and ``steps`` times
    longer (``grid`` itself when nothing is scaled); InputError for values out of range."""
    parts = {"seeds": seeds, "steps": None if steps == 1 else steps, "width": None if width == 1 else width}
    name = grid + ("" if all(v is None for v in parts.values()) else
                   ":" + ",".join(f"{k}={v}" for k, v in parts.items() if v is not None))
    grid_scale(name)  # validated here, with its message
    return name


def grid_scale(name) -> tuple[str, dict]:
    """(the base grid, its scale factors) of a grid name; InputError naming what is wrong."""
    if not isinstance(name, str):
        raise InputError(f"grid must be one of {', '.join(GRIDS)}, got {name!r}")
    base, _, suffix = name.partition(":")
    if base not in GRIDS:
        raise InputError(f"grid must be one of {', '.join(GRIDS)} (optionally scaled, e.g. default:seeds=30,width=2), "
                         f"got {name!r}")
    scale = {}
    for part in suffix.split(",") if suffix else ():
        key, _, value = part.partition("=")
        if key not in SCALES or key in scale:
            raise InputError(f"grid {name!r}: {key!r} is not a scale factor (seeds, steps, width, each at most once)")
        if not value.isdigit() or not 1 <= int(value) <= SCALES[key]:
            raise InputError(f"grid {name!r}: {key} must be an integer from 1 to {SCALES[key]}, got {value!r}")
        scale[key] = int(value)
    return base, scale


def is_grid(name) -> bool:
    try:
        grid_scale(name)
    except InputError:
        return False
    return True


def _scale(jobs: list[Job], seeds: int | None = None, width: int = 1, steps: int = 1) -> list[Job]:
    """Every distinct configuration of ``jobs`` (its seed aside) with ``seeds`` seeds (default: its own), ``width``
    times wider and ``steps`` times longer, in the grid's order."""
    cells: dict[Job, list[int]] = {}
    for job in jobs:
        cells.setdefault(replace(job, seed=0), []).append(job.seed)
    return [replace(cell, seed=seed, width=cell.width * width, steps=cell.steps * steps)
            for cell, own in cells.items() for seed in (own if seeds is None else range(seeds))]
