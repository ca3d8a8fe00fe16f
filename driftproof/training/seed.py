"""One seed of a training run, and the sign at initialization over many network draws.

The same ``seed`` gives the same initial weights (generator ``[seed, 2]``) and batches
(``[seed, 3]``) whatever the activation, so a run and its tanh control are paired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..config import Config
from ..data import Dataset
from ..archs import get_arch
from ..nets import build_net
from .loop import fixed_batch, run_loop, shuffled_batches
from .measure import LayerSigns, Progress, SplitSigns
from .spec import TrainSpec, make_spec_optimizer, net_config, net_shape

__all__ = ["RunLog", "train_seed", "sign_at_init", "sign_and_split_at_init"]


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class RunLog:
    """One training run (one seed, one activation): metric columns over the logged steps.

    ``diverged_at`` is the first step whose batch loss was not finite (None: the run never diverged).
    """

    role: str  # "main" or "control"
    act: str
    seed: int
    columns: dict[str, np.ndarray]
    diverged_at: int | None = None

    def to_dict(self) -> dict:
        return {"role": self.role, "act": self.act, "seed": self.seed, "diverged_at": self.diverged_at,
                "columns": {k: [_finite_or_none(v) for v in col] for k, col in self.columns.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> RunLog:
        return cls(data["role"], data["act"], int(data["seed"]),
                   {k: np.array([np.nan if v is None else v for v in col], float)
                    for k, col in data["columns"].items()}, data.get("diverged_at"))


def train_seed(config: Config, spec: TrainSpec, seed: int, data: Dataset, *, role: str = "main",
               act: str | None = None, kernel: str = "numpy",
               tick: Callable[[int], None] | None = None) -> RunLog:
    """Train one network (``act`` or the config's activation) on ``data`` and log it (``RunMetrics``)."""
    cfg = net_config(replace(config, act=act) if act else config, data)
    net = build_net(spec.arch, cfg, rng=np.random.default_rng([seed, 2]), dtype=spec.dtype, kernel=kernel,
                    **net_shape(spec))
    batches = shuffled_batches(data.x_train, data.y_train, min(spec.batch, len(data.x_train)),
                               np.random.default_rng([seed, 3]))
    metrics = get_arch(spec.arch).metrics(cfg.depth, cfg.loss_fn, data, spec)
    observers = [metrics] + ([Progress(tick)] if tick is not None else [])
    optimizer = make_spec_optimizer(spec, getattr(net, "hidden_matrices", lambda: None)())
    outcome = run_loop(net, optimizer, batches, cfg.loss_fn, spec.steps, observers)
    columns = metrics.columns()
    diverged_at = outcome.diverged_at if outcome.diverged_at is not None else _diverged_by_rule(cfg, data, columns)
    return RunLog(role, cfg.act, seed, columns, diverged_at)


def _diverged_by_rule(cfg: Config, data: Dataset, columns: dict[str, np.ndarray]) -> int | None:
    """The logged step at which a run that stayed finite diverged by the rule of :mod:`driftproof.divergence`
    (a loss above 4x the constant predictor's), or None."""
    from ..divergence import NOT_LEARNABLE, divergence_step, reference_loss

    loss = cfg.loss_fn
    classes = int(data.classes)
    y = None if loss.family == "ce" else data.y_train
    reference = reference_loss(loss.family, classes, y, scale=loss.output_scale(classes))

    def last(name: str) -> float | None:
        value = float(columns[name][-1]) if name in columns and len(columns[name]) else math.nan
        return value if math.isfinite(value) else None

    index = divergence_step(columns["loss"], reference, final_train=last("train_loss"), final_test=last("test_loss"),
                            learnable=data.name not in NOT_LEARNABLE)
    return None if index is None else int(columns["step"][index])


def sign_at_init(config: Config, spec: TrainSpec, data: Dataset, seeds: list[int], batch: int) -> dict[str, list]:
    """The sign statistic of every hidden layer at initialization, one network per seed.

    Each network (drawn as ``train_seed`` draws it) sees the first ``batch`` training samples
    (the loop with no update). Cheap, so the t = 0 sign can rest on many network draws.
    """
    signs = LayerSigns()
    depth = _observe_at_init(config, spec, data, seeds, batch, [signs])
    return _by_layer(signs, depth)


def sign_and_split_at_init(config: Config, spec: TrainSpec, data: Dataset, seeds: list[int], batch: int
                           ) -> tuple[dict[str, list], dict[str, dict[str, list[float]]]]:
    """:func:`sign_at_init` and, from the same networks on the same batch (each drawn once), the self and
    label parts of the sign (:func:`~.split_init.split_at_init`): layer -> part -> one value per seed."""
    signs, split = LayerSigns(), SplitSigns(net_config(config, data).loss_fn)
    depth = _observe_at_init(config, spec, data, seeds, batch, [signs, split])
    return _by_layer(signs, depth), split.by_layer(depth)


def _observe_at_init(config: Config, spec: TrainSpec, data: Dataset, seeds: list[int], batch: int,
                     observers: list) -> int:
    """Each seed's network at initialization, shown once to ``observers`` on the first ``batch`` samples."""
    cfg = net_config(config, data)
    for seed in seeds:
        net = build_net(spec.arch, cfg, rng=np.random.default_rng([seed, 2]), dtype=spec.dtype, **net_shape(spec))
        run_loop(net, None, fixed_batch(data.x_train[:batch], data.y_train[:batch]), cfg.loss_fn, 0, observers)
    return cfg.depth


def _by_layer(signs: LayerSigns, depth: int) -> dict[str, list]:
    return {f"L{layer}": [draw[layer - 1] for draw in signs.signs] for layer in range(1, depth + 1)}
