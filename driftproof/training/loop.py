"""The training loop and the per-layer measurements taken at every logged step (DESIGN.md §3).

At a logged step t the measurements describe the network *before* update t, on the batch
that update uses: ``L{l}.sign`` is the mean of delta^l over the entries with p^l > 0
(the paper's claim is that it is positive) with its standard error over the batch (a ratio
estimator: entries of one sample are not independent). Step ``steps`` is measured without
an update, so the log runs 0..steps inclusive.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np

from ..config import Config
from ..data import DATASETS, Dataset, make_dataset
from ..errors import InputError
from ..nets import ARCHS, DTYPES, build_net
from ..optim import OPTIMIZERS, SCHEDULES, make_optimizer
from ..pointwise import KERNELS, choose_kernel

__all__ = ["sign_at_init", "estimate_bytes", "MAX_BYTES", "TrainSpec", "RunLog", "train_seed", "sign_statistic", "layer_columns", "dataset_for", "net_config"]

MAX_STEPS = 10**7
MAX_BYTES = 4 * 2**30  # refuse runs whose arrays would need more memory than this


def estimate_bytes(config: Config, spec: "TrainSpec") -> int:
    """Memory for data, parameters (+ gradients and optimizer state) and cached activations."""
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
        for what, low, high in (("steps", 1, MAX_STEPS), ("batch", 1, 10**6), ("seeds", 1, 1000),
                                ("log_every", 1, MAX_STEPS), ("eval_every", 0, MAX_STEPS),
                                ("n_train", 2, 10**7), ("n_test", 1, 10**7), ("warmup", 0, MAX_STEPS),
                                ("threads", 0, 1024)):
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
        make_optimizer(self.opt, self.lr, steps=self.steps, schedule=self.schedule, warmup=self.warmup,
                       wd=self.wd, momentum=self.momentum)  # validates momentum

    @property
    def eval_interval(self) -> int:
        return self.eval_every or max(1, self.steps // 20)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunLog:
    """One training run (one seed, one activation): metric columns over the logged steps."""

    role: str  # "main" or "control"
    act: str
    seed: int
    columns: dict[str, np.ndarray]

    def to_dict(self) -> dict:
        return {"role": self.role, "act": self.act, "seed": self.seed,
                "columns": {k: [None if not math.isfinite(v) else float(v) for v in col]
                            for k, col in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "RunLog":
        return cls(data["role"], data["act"], int(data["seed"]),
                   {k: np.array([np.nan if v is None else v for v in col], float)
                    for k, col in data["columns"].items()})


def sign_statistic(delta: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(mean of delta over entries with p > 0, its standard error over the batch).

    The ratio estimator R = sum_n a_n / sum_n c_n with a_n = sum_i delta_ni [p_ni > 0] and
    c_n = #{i: p_ni > 0}; its delta-method standard error treats samples as independent.
    """
    mask = p > 0
    a = np.where(mask, delta, 0.0).sum(axis=1, dtype=np.float64)
    c = mask.sum(axis=1).astype(np.float64)
    total = c.sum()
    if total == 0:
        return math.nan, math.nan
    ratio = a.sum() / total
    n = len(a)
    if n < 2:
        return float(ratio), math.nan
    resid = a - ratio * c
    se = math.sqrt(float(resid @ resid) / (n * (n - 1))) / (total / n)
    return float(ratio), se


def layer_columns(depth: int, arch: str) -> list[str]:
    """The metric column names, in order."""
    cols = ["step", "lr", "loss", "acc", "train_loss", "train_acc", "test_loss", "test_acc"]
    for layer in range(1, depth + 1):
        cols += [f"L{layer}.{k}" for k in ("sign", "sign_se", "w_mean", "b_mean", "w_grad", "b_grad",
                                           "zero_frac", "nonpos_frac")]
        if arch == "resmlp":
            cols.append(f"L{layer}.u_mean")
    return cols + ["out.w_mean", "out.b_mean", "out.w_grad", "out.b_grad"]


def _accuracy(z: np.ndarray, y: np.ndarray) -> float:
    truth = y if y.ndim == 1 else np.argmax(y, axis=1)
    return float(np.mean(np.argmax(z, axis=1) == truth))


def net_config(config: Config, data: Dataset) -> Config:
    """The config with the data set's input dimension and number of classes."""
    return replace(config, input_dim=data.input_dim, classes=data.classes)


def dataset_for(config: Config, spec: TrainSpec, seed: int) -> Dataset:
    rng = np.random.default_rng([seed, 1])
    regression = spec.data == "teacher" and config.loss.startswith("mse")
    return make_dataset(spec.data, input_dim=config.d_in, classes=config.classes, n_train=spec.n_train,
                        n_test=spec.n_test, rng=rng, regression=regression)


def train_seed(config: Config, spec: TrainSpec, seed: int, data: Dataset, *, role: str = "main",
               act: str | None = None, kernel: str = "numpy",
               tick: Callable[[int], None] | None = None) -> RunLog:
    """Train one network (``act`` or the config's activation) on ``data`` and log it.

    The same ``seed`` gives the same initial weights and batches whatever the activation,
    so a run and its tanh control are paired.
    """
    cfg = net_config(replace(config, act=act) if act else config, data)
    net = build_net(spec.arch, cfg, rng=np.random.default_rng([seed, 2]), dtype=spec.dtype, kernel=kernel)
    opt = make_optimizer(spec.opt, spec.lr, steps=spec.steps, schedule=spec.schedule, warmup=spec.warmup,
                         wd=spec.wd, momentum=spec.momentum)
    batch_rng = np.random.default_rng([seed, 3])
    loss = cfg.loss_fn
    n_train = len(data.x_train)
    batch = min(spec.batch, n_train)
    train_eval = slice(0, min(n_train, len(data.x_test)))
    names = layer_columns(cfg.depth, spec.arch)
    rows: list[list[float]] = []
    order, cursor = batch_rng.permutation(n_train), 0
    for step in range(spec.steps + 1):
        if cursor + batch > n_train:
            order, cursor = batch_rng.permutation(n_train), 0
        index = order[cursor:cursor + batch]
        cursor += batch
        x, y = data.x_train[index], data.y_train[index]
        values, z, back = net.loss_and_backward(x, y, loss)
        logged = step % spec.log_every == 0 or step == spec.steps
        if logged:
            rows.append(_measure(net, back, values, z, y, step, opt.schedule(step), names))
            if step % spec.eval_interval == 0 or step == spec.steps:
                row = rows[-1]
                for prefix, xs, ys in (("train", data.x_train[train_eval], data.y_train[train_eval]),
                                       ("test", data.x_test, data.y_test)):
                    ze = net.forward(xs)
                    row[names.index(f"{prefix}_loss")] = float(loss.value(ze.astype(float), ys).mean())
                    row[names.index(f"{prefix}_acc")] = _accuracy(ze, ys)
        if step < spec.steps:
            opt.step(net.params, back.grads)
            if tick is not None:
                tick(1)
    columns = {name: np.array([row[i] for row in rows], float) for i, name in enumerate(names)}
    return RunLog(role, cfg.act, seed, columns)


def sign_at_init(config: Config, spec: TrainSpec, data: Dataset, seeds: list[int], batch: int) -> dict[str, list]:
    """The sign statistic of every hidden layer at initialization, one network per seed.

    Each network (drawn as ``train_seed`` draws it) sees the first ``batch`` training samples.
    Cheap (one forward and backward per seed), so the t = 0 sign can rest on many network draws.
    """
    cfg = net_config(config, data)
    x, y = data.x_train[:batch], data.y_train[:batch]
    out: dict[str, list] = {f"L{layer}": [] for layer in range(1, cfg.depth + 1)}
    for seed in seeds:
        net = build_net(spec.arch, cfg, rng=np.random.default_rng([seed, 2]), dtype=spec.dtype)
        _, _, back = net.loss_and_backward(x, y, cfg.loss_fn)
        for layer in range(1, cfg.depth + 1):
            out[f"L{layer}"].append(sign_statistic(back.deltas[layer - 1], net.cache["p"][layer - 1])[0])
    return out


def _measure(net, back, values, z, y, step, lr, names) -> list[float]:
    P, cache = net.params, net.cache
    out = {"step": step, "lr": lr, "loss": float(np.mean(values)), "acc": _accuracy(z, y)}
    for layer in range(1, net.depth + 1):
        w, b = net.layer_params(layer)
        p, h, delta = cache["p"][layer - 1], cache["h"][layer - 1], back.deltas[layer - 1]
        out[f"L{layer}.sign"], out[f"L{layer}.sign_se"] = sign_statistic(delta, p)
        out[f"L{layer}.w_mean"] = float(P[w].mean(dtype=np.float64))
        out[f"L{layer}.b_mean"] = float(P[b].mean(dtype=np.float64))
        out[f"L{layer}.w_grad"] = float(back.grads[w].mean(dtype=np.float64))
        out[f"L{layer}.b_grad"] = float(back.grads[b].mean(dtype=np.float64))
        out[f"L{layer}.zero_frac"] = float(np.mean(h == 0))
        out[f"L{layer}.nonpos_frac"] = float(np.mean(p <= 0))
        if f"U{layer}" in P:
            out[f"L{layer}.u_mean"] = float(P[f"U{layer}"].mean(dtype=np.float64))
    out["out.w_mean"] = float(P["V"].mean(dtype=np.float64))
    out["out.b_mean"] = float(P["c"].mean(dtype=np.float64))
    out["out.w_grad"] = float(back.grads["V"].mean(dtype=np.float64))
    out["out.b_grad"] = float(back.grads["c"].mean(dtype=np.float64))
    return [out.get(name, math.nan) for name in names]


def resolve_kernel(config: Config, spec: TrainSpec, runs: int) -> str:
    """numpy or numba for these runs (``auto`` weighs the Numba compile against the work)."""
    elements = float(spec.steps) * spec.batch * config.width * config.depth * runs
    return choose_kernel(spec.kernel, elements)
