"""``train``: small networks trained for real, measuring whether the sign and the drift persist."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from ..archs import all_archs, get_arch
from ..render.runs import run_text
from ..results import json_default
from ..training.run import TrainResult, check_size, control_activation
from ..training.run import train as train_runs
from ..training.estimate import check_train_budget, train_budget
from ..training.runfolder import OWNED, run_folder_conflict, save_run
from ..training.options import OPTIONS, TRAIN_OPTIONS
from ..training.spec import TrainSpec
from .common import network_config, output_folder, progress_bar, written_whole

__all__ = ["train", "TrainingRun", "ARCH_DEFAULTS", "default_run_folder"]

# Defaults of the options whose good value depends on the architecture (depth, data, opt, lr, batch, n_test,
# dtype): each architecture's ``train_defaults`` (driftproof/archs/).
ARCH_DEFAULTS = {arch.name: dict(arch.train_defaults) for arch in all_archs()}


def default_run_folder(act: str, data: str) -> Path:
    """``runs/<UTC timestamp>-<act>-<data>``, where ``driftproof train`` writes without ``--out``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return Path("runs") / (stamp + f"-{act}-{data}".replace("/", "_")[:60])


@dataclass(frozen=True)
class TrainingRun:
    """A training run (``driftproof train``): its result, and the run folder it was saved to (if any)."""

    result: TrainResult
    folder: Path | None = None

    def to_dict(self) -> dict:
        return {"run_folder": None if self.folder is None else str(self.folder), **self.result.to_dict()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=json_default)

    @property
    def diverged(self) -> tuple:
        return self.result.diverged

    def __repr__(self) -> str:
        c, s = self.result.config, self.result.spec
        diverged = f", {len(self.diverged)} diverged" if self.diverged else ""
        return (f"TrainingRun({s['arch']} {c['loss']}/{c['act']}, {s['data']}, {s['opt']} lr {'n/a' if s['lr'] is None else format(s['lr'], 'g')}, "
                f"{s['steps']} steps, seeds {list(self.result.seeds)}{diverged})")

    def text(self, wide: bool = False) -> str:
        """The command line's table; it wraps to the terminal unless ``wide``."""
        return run_text(self.result, self.folder, wide=wide)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre>{escape(str(self))}</pre>"

    def plot(self):
        """Per layer: the sign statistic, the mean weight and the sparsity over training, every seed
        (main in red, tanh control in blue); diverged runs are left out and named in the title.
        Returns a matplotlib Figure (not shown)."""
        from ..render.curves import curves_figure

        stopped = {(d.role, d.seed) for d in self.diverged}
        note = f"; left out (diverged): {sorted(stopped)}" if stopped else ""
        panels = (("sign", "sign statistic E[δ|p>0]"), ("w_mean", "mean weight"), ("zero_frac", "sparsity (h = 0)"))
        return curves_figure(self.result.logs, int(self.result.config["depth"]), panels, repr(self) + note,
                             left_out=stopped, lw=0.8)


def train(loss: str = "ce", act: str = "relu", *, init: str = "normal", scale: str = "he", width: int = 128,
          depth: int | None = None, classes: int = 10, input_dim: int | None = None, seed: int = 0, arch: str = "mlp",
          control: bool = True, out: str | Path | None = None, figures: bool = True, progress: bool = False,
          force: bool = False, on_estimate=None, **options) -> TrainingRun:
    """Train small networks and measure whether the sign and the drift persist (``driftproof train``).

    Trains ``seeds`` networks (and the tanh control unless ``control=False``), measuring per layer
    at every logged step the sign statistic, mean weight and bias, sparsity, loss and accuracy
    (DESIGN.md §3); summaries over seeds carry Student-t intervals, and the first step is compared
    with R5 (the drift rate at t = 0).

    Args:
        loss, act, init, scale, width, classes, input_dim, seed: the network (as the CLI's options).
        arch: an architecture of the registry (:mod:`driftproof.archs`): mlp, resmlp, gpt, vit, ... Left None,
            ``depth`` and the per-architecture options (data, opt, lr, batch, n_test, dtype) take its
            ``train_defaults`` (:data:`ARCH_DEFAULTS`).
        options: the training options of :data:`driftproof.training.options.TRAIN_OPTIONS` (data, opt, lr,
            wd, momentum, schedule, warmup, steps, batch, seeds, log_every, eval_every, n_train, n_test, dtype,
            kernel, threads, heads, context, norm, clip_norm), each with its default there.
        out: the run folder to write (CSV, JSON, PNG figures unless ``figures=False``), checked before
            any work; it is written whole or not at all (read it back with :func:`load`). None: no folder.
            An existing non-empty folder must be a run folder of the same configuration (a rerun replaces
            it), unless ``force`` (driftproof's files there are replaced, any other file is left alone).
        on_estimate: called with the run's estimated :class:`~driftproof.budget.Budget` before any work (the
            command line states a long one); a run over the time limit (``DRIFTPROOF_MAX_SECONDS``) is refused.

    Returns:
        A :class:`TrainingRun` (``diverged`` lists the runs that blew up, with their step).
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"train() got an unexpected keyword argument {unknown[0]!r}")
    defaults = get_arch(arch).train_defaults
    values = {option.name: options.get(option.name, None if option.per_arch else option.default)
              for option in TRAIN_OPTIONS}
    values.update({name: defaults[name] for name, value in values.items() if value is None and OPTIONS[name].per_arch})
    config = network_config(loss, act, init=init, scale=scale, width=width,
                            depth=defaults["depth"] if depth is None else depth, classes=classes,
                            input_dim=input_dim, seed=seed)
    spec = TrainSpec(arch=arch, control="tanh" if control else None, **values)
    check_size(config, spec)
    folder = None if out is None else output_folder(
        out, accept=lambda existing: run_folder_conflict(existing, config.to_dict(), spec.to_dict()), force=force,
        beside=True)
    runs = 2 if control_activation(config, spec) else 1
    budget = check_train_budget(train_budget(config, spec, runs))
    if on_estimate is not None:
        on_estimate(budget)
    with progress_bar(progress, spec.steps * spec.seeds * runs, "train", "step") as bar:
        result = train_runs(config, spec, tick=bar.update if bar is not None else None)
    if folder is not None:
        with written_whole(folder, OWNED) as scratch:
            save_run(result, scratch, figures=figures)
    return TrainingRun(result, folder)


def _signature(function):
    """``function``'s signature with ``**options`` spelled out from the option table (what ``help()`` shows)."""
    parameters = [p for p in inspect.signature(function).parameters.values() if p.kind is not p.VAR_KEYWORD]
    for option in TRAIN_OPTIONS:
        default = None if option.per_arch else option.default
        annotation = option.type if default is not None else option.type | None
        parameters.append(inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=annotation))
    return inspect.signature(function).replace(parameters=parameters)


train.__signature__ = _signature(train)
