"""How to train (``TrainSpec``, validated on creation), and the data set and network size it implies."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..config import Config
from ..data import DATASETS, Dataset, make_dataset
from ..errors import InputError
from ..archs import NAMES as ARCHS, get_arch
from ..network import DTYPES
from ..optim import OPTIMIZERS, SCHEDULES, make_optimizer
from ..pointwise import KERNELS, choose_kernel

__all__ = ["TrainSpec", "estimate_bytes", "estimate_seconds", "MAX_BYTES", "MAX_STEPS", "dataset_for", "net_config", "resolve_kernel",
           "make_spec_optimizer", "net_shape"]

MAX_STEPS = 10**7
MAX_BYTES = 4 * 2**30  # refuse runs whose arrays would need more memory than this


# Measured on the 2-core reference machine, one BLAS thread: small MLP steps run at ~2e9 flop/s
# with ~2 ms of fixed cost a step (logging included); half that rate keeps the estimate an upper end.
FLOP_RATE, STEP_SECONDS = 1e9, 2e-3


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


@dataclass(frozen=True)
class TrainSpec:
    """How to train: architecture, data, optimizer, schedule, budget. Validated on creation."""

    arch: str = "mlp"
    data: str = "noise"
    opt: str = "sgd"
    lr: float = 0.05
    wd: float = 0.0
    momentum: float = 0.9
    schedule: str = "constant"
    warmup: int = 0
    steps: int = 200
    batch: int = 64
    seeds: int = 3
    log_every: int = 1
    eval_every: int = 0  # 0: about 20 evaluations per run
    n_train: int = 2048
    n_test: int = 512
    dtype: str = "float64"
    kernel: str = "auto"
    control: str | None = "tanh"  # the symmetric control trained the same way (None: none)
    threads: int = 1  # BLAS threads while training (0: the library default); small nets run fastest on 1
    # the transformers' shape (archs/gpt.py, archs/vit.py): attention heads, context length (gpt), norm
    heads: int = 4
    context: int = 64
    norm: str = "rms"
    clip_norm: float | None = None  # clip the gradient's global L2 norm to this before each update (None: no clipping)

    def __post_init__(self):
        def choice(value, options, what):
            if value not in options:
                raise InputError(f"{what} must be one of {', '.join(options)}, got {value!r}")

        choice(self.arch, ARCHS, "arch")
        choice(self.data, DATASETS, "data")
        choice(self.opt, OPTIMIZERS, "opt")
        choice(self.schedule, SCHEDULES, "schedule")
        choice(self.dtype, tuple(DTYPES), "dtype")
        choice(self.kernel, KERNELS, "kernel")
        choice(self.norm, ("rms", "layer"), "norm")
        get_arch(self.arch).check_data(self.data)
        for what, low, high in (("steps", 1, MAX_STEPS), ("batch", 1, 10**6), ("seeds", 1, 1000),
                                ("log_every", 1, MAX_STEPS), ("eval_every", 0, MAX_STEPS),
                                ("n_train", 2, 10**7), ("n_test", 1, 10**7), ("warmup", 0, MAX_STEPS),
                                ("threads", 0, 1024), ("heads", 1, 1024), ("context", 2, 4096)):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InputError(f"{what} must be an integer between {low} and {high}, got {value!r}")
        for what in ("lr", "wd", "momentum"):
            value = getattr(self, what)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"{what} must be a finite number, got {value!r}")
        if self.lr <= 0:
            raise InputError(f"lr must be positive, got {self.lr!r}")
        if self.wd < 0:
            raise InputError(f"wd must be non-negative, got {self.wd!r}")
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


def net_config(config: Config, data: Dataset) -> Config:
    """The config with the data set's input dimension and number of classes."""
    return replace(config, input_dim=data.input_dim, classes=data.classes)


def dataset_for(config: Config, spec: TrainSpec, seed: int) -> Dataset:
    """The data set of one seed (generator ``[seed, 1]``); the teacher gives regression targets for MSE losses.

    The text corpus is the same for every seed; its samples are windows of ``spec.context`` characters.
    """
    rng = np.random.default_rng([seed, 1])
    regression = spec.data == "teacher" and config.loss_fn.family == "mse"
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
