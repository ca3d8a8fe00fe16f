"""How to train (``TrainSpec``, validated on creation), and the data set and network size it implies."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..config import Config
from ..data import DATASETS, Dataset, make_dataset
from ..errors import InputError
from ..nets import ARCHS, DTYPES, TRANSFORMERS
from ..optim import OPTIMIZERS, SCHEDULES, make_optimizer
from ..pointwise import KERNELS, choose_kernel

__all__ = ["TrainSpec", "estimate_bytes", "estimate_seconds", "MAX_BYTES", "MAX_STEPS", "dataset_for", "net_config", "resolve_kernel",
           "make_spec_optimizer", "net_shape", "TRANSFORMER_DATA"]

MAX_STEPS = 10**7
MAX_BYTES = 4 * 2**30  # refuse runs whose arrays would need more memory than this


# the data set each transformer reads (and that only it can read)
TRANSFORMER_DATA = {"gpt": "text", "vit": "digits"}
VIT_TOKENS = 16  # 2x2 patches of the 8x8 digits


def _transformer_bytes(config: Config, spec: TrainSpec) -> int:
    """Parameters x 4 (weights, gradients, two optimizer buffers) and what one forward caches."""
    C, L, itemsize = config.width, config.depth, 4 if spec.dtype == "float32" else 8
    tokens = spec.context if spec.arch == "gpt" else VIT_TOKENS
    vocab = 256 if spec.arch == "gpt" else config.classes
    params = 12 * C * C * L + 2 * vocab * C
    rows = max(spec.batch, min(spec.n_test, 64)) * tokens
    # per block ~ 16 C floats per token (norms, q, k, v, y, up/down) and H T^2 attention weights per sequence
    cached = L * (rows * 16 * C + rows // tokens * spec.heads * tokens * tokens * 2)
    return int((4 * params + 2 * cached + rows * vocab * 3) * itemsize)


# Measured on the 2-core reference machine, one BLAS thread: small MLP steps run at ~2e9 flop/s
# with ~2 ms of fixed cost a step (logging included); half that rate keeps the estimate an upper end.
FLOP_RATE, STEP_SECONDS = 1e9, 2e-3


def estimate_seconds(config: Config, spec: TrainSpec, runs: int = 2) -> float:
    """Training time of an MLP or ResMLP run: forward and backward (~6 flops per weight and sample)
    over ``steps`` x ``seeds`` x ``runs`` (main and control), plus the held-out evaluations."""
    d, n, depth, k = config.d_in if spec.data != "digits" else 64, config.width, config.depth, config.classes
    params = d * n + n * n * (depth - 1) + n * k + (2 * n * n * depth if spec.arch == "resmlp" else 0)
    steps = spec.steps * spec.seeds * runs
    evaluations = 2 * params * spec.n_test * 20 * spec.seeds * runs  # ~20 evaluations a run
    return steps * (6 * params * spec.batch / FLOP_RATE + STEP_SECONDS) + evaluations / FLOP_RATE


def estimate_bytes(config: Config, spec: TrainSpec) -> int:
    """Memory for data, parameters (+ gradients and optimizer state) and cached activations."""
    if spec.arch in TRANSFORMERS:
        return _transformer_bytes(config, spec)
    d, n, depth, k = config.d_in if spec.data != "digits" else 64, config.width, config.depth, config.classes
    params = d * n + n * n * (depth - 1) + n * k + (2 * n * n * depth if spec.arch == "resmlp" else 0)
    itemsize = 4 if spec.dtype == "float32" else 8
    activations = max(spec.batch, spec.n_test) * n * depth * (8 if spec.arch == "resmlp" else 4)
    data = 0 if spec.data == "digits" else (spec.n_train + spec.n_test) * d * 8
    return int(4 * params * itemsize + activations * itemsize + data)


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
    # transformers only (gpt, vit): attention heads, context length (gpt), norm ("rms" or "layer")
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
        wanted = TRANSFORMER_DATA.get(self.arch)
        if wanted is not None and self.data != wanted:
            raise InputError(f"arch {self.arch} trains on data {wanted}, got data {self.data!r}")
        if wanted is None and self.data == "text":
            raise InputError(f"data text (token ids) needs arch gpt, got arch {self.arch!r}")
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
    """The keyword arguments of ``build_net`` beyond the config: the transformer's shape, nothing for MLPs."""
    if spec.arch not in TRANSFORMERS:
        return {}
    return {"heads": spec.heads, "context": spec.context, "norm": spec.norm}


def resolve_kernel(config: Config, spec: TrainSpec, runs: int) -> str:
    """numpy or numba for these runs (``auto`` weighs the Numba compile against the work)."""
    elements = float(spec.steps) * spec.batch * config.width * config.depth * runs
    if spec.arch in TRANSFORMERS:  # 4C hidden units at every token
        elements *= 4 * (spec.context if spec.arch == "gpt" else VIT_TOKENS)
    return choose_kernel(spec.kernel, elements)
