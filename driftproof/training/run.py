"""Train a configuration over several seeds, with its tanh control, and summarize (DESIGN.md §3)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from ..config import Config, environment
from ..errors import InputError
from ..archs import get_arch
from ..budget import time_limit
from ..ranges import check_float_range
from .paper_summary import paper_summary
from .seed import RunLog, train_seed
from .spec import MAX_BYTES, TrainSpec, dataset_for, estimate_bytes, estimate_seconds, net_config, resolve_kernel
from .summary import Comparison, TrainSummary, first_step_from_dict, first_step_vs_theory, summarize

__all__ = ["TrainResult", "Divergence", "train", "control_activation", "check_size"]


@dataclass(frozen=True)
class Divergence:
    """A run whose batch loss stopped being finite, and the first step where it did."""

    role: str
    act: str
    seed: int
    step: int

    def to_dict(self) -> dict:
        return {"role": self.role, "act": self.act, "seed": self.seed, "step": self.step}


@dataclass(frozen=True)
class TrainResult:
    """Everything one ``driftproof train`` produced: configuration, logs, summaries.

    ``config`` is the effective configuration (the data set's input dimension and classes) and
    ``spec`` the TrainSpec, both as JSON-ready dicts; ``first_step`` maps layer -> quantity ->
    :class:`Comparison` with R5 (None where R5 does not apply).
    """

    config: dict
    spec: dict
    seeds: tuple[int, ...]
    dataset: dict
    logs: tuple[RunLog, ...]
    summary: TrainSummary
    first_step: dict[str, dict[str, Comparison]] | None
    notes: tuple[str, ...] = ()
    environment: dict = field(default_factory=dict)
    kernel: str = "numpy"
    seconds: float = 0.0
    paper: dict | None = None  # transformers: the paper's metrics over seeds (paper_metrics.paper_summary)

    @property
    def diverged(self) -> tuple[Divergence, ...]:
        """The runs that diverged (a non-finite loss, or above 4x the constant predictor's), with the step."""
        return tuple(Divergence(log.role, log.act, log.seed, log.diverged_at) for log in self.logs
                     if log.diverged_at is not None)

    def to_dict(self, with_logs: bool = False) -> dict:
        out = {"config": self.config, "spec": self.spec, "seeds": list(self.seeds), "dataset": self.dataset,
               "summary": self.summary.to_dict(),
               "first_step_vs_R5": None if self.first_step is None else
               {key: {what: cmp.to_dict() for what, cmp in entry.items()} for key, entry in self.first_step.items()},
               "diverged": [d.to_dict() for d in self.diverged], "notes": list(self.notes),
               "environment": self.environment, "kernel": self.kernel, "seconds": self.seconds}
        if self.paper is not None:
            out["paper_metrics"] = self.paper
        if with_logs:
            out["runs"] = [log.to_dict() for log in self.logs]
        return out

    @classmethod
    def from_dict(cls, data: dict, logs: list[RunLog] | None = None) -> TrainResult:
        """The result of ``to_dict``; the logs from ``data["runs"]`` unless given."""
        if logs is None:
            logs = [RunLog.from_dict(run) for run in data.get("runs", [])]
        return cls(data["config"], data["spec"], tuple(data["seeds"]), data["dataset"], tuple(logs),
                   TrainSummary.from_dict(data["summary"]), first_step_from_dict(data["first_step_vs_R5"]),
                   tuple(data.get("notes", ())), data.get("environment", {}), data.get("kernel", "numpy"),
                   data.get("seconds", 0.0), data.get("paper_metrics"))


def check_size(config: Config, spec: TrainSpec) -> None:
    """InputError if the run's arrays would need more than MAX_BYTES of memory, or if an MLP's
    numbers would leave float64 (:func:`~driftproof.ranges.check_float_range`)."""
    if not get_arch(spec.arch).pytorch_init:  # the transformers use their own init (--scale does not apply)
        check_float_range(config)
        seconds, limit = estimate_seconds(config, spec), time_limit()
        if seconds > limit:
            raise InputError(f"this run would take about {seconds / 60:.0f} min (width {config.width}, depth "
                             f"{config.depth}, classes {config.classes}, batch {spec.batch}, {spec.steps} steps x "
                             f"{spec.seeds} seeds, with its control), more than the {limit / 60:.0f} min allowed: "
                             f"make it smaller (or raise DRIFTPROOF_MAX_SECONDS)")
    need = estimate_bytes(config, spec)
    if need > MAX_BYTES:
        raise InputError(f"this run would need about {need / 2**30:.1f} GiB (width {config.width}, depth "
                         f"{config.depth}, batch {spec.batch}, n_train {spec.n_train}); the limit is "
                         f"{MAX_BYTES / 2**30:.0f} GiB: make it smaller")


def control_activation(config: Config, spec: TrainSpec) -> str | None:
    """The symmetric control to train beside the run, unless the run's activation is odd itself."""
    if spec.control is None or config.activation.is_odd:
        return None
    return spec.control


def _theory(config: Config, spec: TrainSpec, data, notes: list[str]):
    """The mean-field prediction (R4-R5) where its assumptions hold for these runs, else None."""
    if not get_arch(spec.arch).mean_field or not data.gaussian_inputs:
        notes.append(f"first step vs R5 not compared: R5 assumes an MLP on x ~ N(0, I) "
                     f"(arch={spec.arch}, data={spec.data})")
        return None
    from ..theory.meanfield import mean_field  # SymPy-heavy: imported only when a comparison is made

    return mean_field(net_config(config, data))


def train(config: Config, spec: TrainSpec, *, tick: Callable[[int], None] | None = None) -> TrainResult:
    """Train ``spec.seeds`` seeds (config.seed, config.seed+1, ...) of the config and of its control.

    Args:
        tick: called with the number of optimizer steps done, for a progress bar.
    """
    check_size(config, spec)
    if spec.threads:
        with threadpool_limits(limits=spec.threads, user_api="blas"):
            return _train(config, spec, tick)
    return _train(config, spec, tick)


def _train(config: Config, spec: TrainSpec, tick) -> TrainResult:
    start = time.perf_counter()
    seeds = [config.seed + i for i in range(spec.seeds)]
    control = control_activation(config, spec)
    roles = [("main", None)] + ([("control", control)] if control else [])
    kernel = resolve_kernel(config, spec, len(seeds) * len(roles))
    logs, notes, prediction, dataset = [], [], None, {}
    for index, seed in enumerate(seeds):
        data = dataset_for(config, spec, seed)
        if index == 0:
            dataset = data.describe()
            prediction = _theory(config, spec, data, notes)
        for role, act in roles:
            # A diverging run overflows; it is reported as diverged below, not warned about step by step.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                logs.append(train_seed(config, spec, seed, data, role=role, act=act, kernel=kernel, tick=tick))
    depth = config.depth
    first_step = first_step_vs_theory(logs, prediction) if prediction is not None else None
    if first_step is not None and dataset.get("targets") == "regression":
        # R5's output-layer prediction assumes one-hot targets (E[y_k] = 1/K); hidden layers do not.
        first_step.pop("out", None)
        notes.append("output layer not compared with R5: its prediction assumes one-hot targets, "
                     "these are the teacher's regression targets")
    if spec.opt != "sgd" and first_step is not None:
        notes.append(f"first step measured as -lr * mean(gradient) at step 0, i.e. the plain-SGD step; "
                     f"{spec.opt} takes a different first step")
    effective = replace(config, input_dim=dataset["input_dim"], classes=dataset["classes"])
    paper = None
    if get_arch(spec.arch).paper_metrics:
        paper = paper_summary(logs, depth)
        notes.append("transformer: initialized as the paper's code (PyTorch defaults, U(+-1/sqrt(fan_in))); "
                     "--init and --scale apply to the MLPs only")
    return TrainResult(effective.to_dict(), spec.to_dict(), tuple(seeds), dataset, tuple(logs),
                       summarize(logs, depth), first_step, tuple(notes), environment(), kernel,
                       time.perf_counter() - start, paper)
