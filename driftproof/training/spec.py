"""How to train (``TrainSpec``, validated on creation), and the data set and network size it implies."""

from __future__ import annotations

import math
from dataclasses import asdict, field, make_dataclass, replace

import numpy as np

from ..config import Config
from ..data import Dataset, make_dataset
from ..errors import InputError
from ..archs import NAMES as ARCHS, get_arch
from ..optim import make_optimizer
from ..pointwise import choose_kernel
from .options import MAX_STEPS, TRAIN_OPTIONS

__all__ = ["TrainSpec", "estimate_bytes", "estimate_seconds", "MAX_BYTES", "MAX_STEPS", "dataset_for", "net_config", "resolve_kernel",
           "make_spec_optimizer", "net_shape"]

MAX_BYTES = 4 * 2**30  # refuse runs whose arrays would need more memory than this


# Fitted by scripts/calibrate_estimates.py (results/calibrate_estimates.json): train runs of width 64-512, depth 1-3,
# 300 steps x 2 seeds and the control, one BLAS thread, CPU seconds on the 2-core machine at load ~7.5:
# 0.4 ms of fixed cost a step (every step logged, the split included) and 2.0e10 flop/s, rounded to 1.5e10
# so that the estimate errs high (measured / estimate 0.66-1.0). The earlier 1e9 and 2 ms estimated 8-23x high.
FLOP_RATE, STEP_SECONDS = 1.5e10, 4e-4


def estimate_seconds(config: Config, spec: TrainSpec, runs: int = 2) -> float:
    """Training time of an MLP-like run: forward and backward (~6 flops per weight and sample)
    over ``steps`` x ``seeds`` x ``runs`` (main and control), plus the held-out evaluations."""
    d = config.d_in if spec.data != "digits" else 64
    params = get_arch(spec.arch).parameter_count(d, config.width, config.depth, config.classes)
    steps = spec.steps * spec.seeds * runs
    evaluations = 2 * params * spec.n_test * 20 * spec.seeds * runs  # ~20 evaluations a run
    return steps * (6 * params * spec.batch / FLOP_RATE + STEP_SECONDS) + evaluations / FLOP_RATE


def estimate_bytes(config: Config, spec: TrainSpec) -> int:
    """Memory for data, parameters (+ gradients and optimizer state) and cached activations (the architecture's
    :meth:`~driftproof.archs.Arch.estimate_bytes`)."""
    return get_arch(spec.arch).estimate_bytes(config, spec)


class _TrainSpecMethods:
    """TrainSpec's validation and serialization (its fields are the option table's)."""

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise InputError(f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        for option in TRAIN_OPTIONS:
            option.check_choice(getattr(self, option.name))
        get_arch(self.arch).check_data(self.data)
        for option in TRAIN_OPTIONS:
            option.check_number(getattr(self, option.name))
        for option in TRAIN_OPTIONS:
            option.check_sign(getattr(self, option.name))
        if self.warmup > self.steps:
            raise InputError(f"warmup ({self.warmup}) must not exceed steps ({self.steps})")
        make_spec_optimizer(self)  # validates momentum

    @property
    def eval_interval(self) -> int:
        return self.eval_every or max(1, self.steps // 20)

    def to_dict(self) -> dict:
        out = asdict(self)
        if out["clip_norm"] is None:  # absent when unused, so unclipped specs serialize as before
            del out["clip_norm"]
        return out


def _spec_fields() -> list[tuple]:
    """arch, then every training option (``control`` after ``kernel``), with the table's types and defaults."""
    out = [("arch", str, field(default="mlp"))]
    for option in TRAIN_OPTIONS:
        annotation = option.type if option.default is not None else option.type | None
        out.append((option.name, annotation, field(default=option.default)))
        if option.name == "kernel":  # the symmetric control trained the same way (None: none)
            out.append(("control", str | None, field(default="tanh")))
    return out


TrainSpec = make_dataclass("TrainSpec", _spec_fields(), bases=(_TrainSpecMethods,), frozen=True)
TrainSpec.__module__ = __name__  # pickled and shown as driftproof.training.spec.TrainSpec
TrainSpec.__doc__ = """How to train: architecture, data, optimizer, schedule, budget. Validated on creation.

Its fields are ``arch``, ``control`` and the options of :data:`~driftproof.training.options.TRAIN_OPTIONS`
(declared there once, with their defaults: a per-architecture option defaults to the plain MLP's here)."""


def net_config(config: Config, data: Dataset) -> Config:
    """The config with the data set's input dimension and number of classes."""
    return replace(config, input_dim=data.input_dim, classes=data.classes)


def dataset_for(config: Config, spec: TrainSpec, seed: int) -> Dataset:
    """The data set of one seed (generator ``[seed, 1]``); the teacher gives regression targets for MSE losses.

    The text corpus is the same for every seed; its samples are windows of ``spec.context`` characters.
    """
    rng = np.random.default_rng([seed, 1])
    regression = spec.data == "teacher" and config.loss_fn.real_targets
    return make_dataset(spec.data, input_dim=spec.context if spec.data == "text" else config.d_in, classes=config.classes, n_train=spec.n_train,
                        n_test=spec.n_test, rng=rng, regression=regression)


def make_spec_optimizer(spec: TrainSpec, hidden_matrices=None):
    """The optimizer with its schedule that ``spec`` names (``hidden_matrices``: the ones Muon updates)."""
    return make_optimizer(spec.opt, spec.lr, steps=spec.steps, schedule=spec.schedule, warmup=spec.warmup,
                          wd=spec.wd, momentum=spec.momentum, hidden_matrices=hidden_matrices,
                          clip_norm=spec.clip_norm)


def net_shape(spec: TrainSpec) -> dict:
    """The keyword arguments of ``build_net`` beyond the config: the architecture's shape options (none for MLPs)."""
    return get_arch(spec.arch).shape_of(spec)


def resolve_kernel(config: Config, spec: TrainSpec, runs: int) -> str:
    """numpy or numba for these runs (``auto`` weighs the Numba compile against the work)."""
    return choose_kernel(spec.kernel, get_arch(spec.arch).kernel_elements(config, spec) * runs)
