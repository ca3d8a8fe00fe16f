"""Summaries over seeds, with intervals (DESIGN.md §3), and the first step against R5.

Every interval is a Student-t interval over seeds (:meth:`Estimate.student_t`): the network
realization is the unit of replication (the theory's expectation is over the random weights,
and one network has one draw of them). From fewer than ``MIN_INTERVAL_N`` = 5 seeds there is no
interval (NaN in memory, null in JSON; the method says "no interval (n = 3 < 5)"): a t-interval
from 2-4 values rests on a variance estimate with 1-3 degrees of freedom and on normality that so
few values cannot check. Every summary is a frozen dataclass with ``to_dict``/``from_dict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..results import Estimate
from .seed import RunLog
from .split import CROSSOVER_WINDOW, crossover_step

__all__ = ["seed_estimate", "LayerSummary", "RoleSummary", "TrainSummary", "Comparison", "summarize",
           "first_step_vs_theory", "first_step_from_dict", "jsonable", "first_negative_running_mean", "CONFIDENCE",
           "MIN_INTERVAL_N", "paired_change"]

CONFIDENCE = 0.95
MIN_INTERVAL_N = 5  # no Student-t interval from fewer values (DESIGN.md §3)
# the range of each final metric: an interval over seeds is cut to it (Estimate.within)
RANGES = {"loss": (0.0, math.inf), "train_loss": (0.0, math.inf), "test_loss": (0.0, math.inf),
          "train_acc": (0.0, 1.0), "test_acc": (0.0, 1.0)}


def seed_estimate(values) -> Estimate:
    """Mean and Student-t interval over seeds of ``values`` (non-finite values dropped); no interval (NaN
    bounds, the method says so) from fewer than MIN_INTERVAL_N values."""
    estimate = Estimate.student_t(values, CONFIDENCE)
    if estimate.n >= MIN_INTERVAL_N:
        return estimate
    return Estimate(estimate.mean, estimate.stderr, estimate.n, math.nan, math.nan, CONFIDENCE,
                    f"student_t: no interval (n = {estimate.n} < {MIN_INTERVAL_N})", None, estimate.values)


def paired_change(start, end) -> Estimate:
    """End minus start per seed (a paired change, e.g. "sparsity rises"), over seeds, with its interval."""
    return seed_estimate([b - a for a, b in zip(start, end)
                          if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)])


def _fraction(values) -> Estimate:
    """A fraction's mean over seeds, its interval cut to [0, 1]."""
    return seed_estimate(values).within(0.0, 1.0)


def jsonable(value):
    """JSON-ready: Estimates and summaries by their to_dict, non-finite floats as None, recursively."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _estimates(data: dict) -> dict[str, Estimate]:
    return {key: Estimate.from_dict(item) for key, item in data.items()}


def first_negative_running_mean(steps: np.ndarray, sign: np.ndarray) -> int | None:
    """The first logged step at which the running mean of the sign statistic is below 0."""
    finite = np.isfinite(sign)
    running = np.cumsum(np.where(finite, sign, 0.0)) / np.maximum(1, np.cumsum(finite))
    below = np.flatnonzero(finite & (running < 0))
    return int(steps[below[0]]) if len(below) else None


@dataclass(frozen=True)
class LayerSummary:
    """One hidden layer over seeds: the sign at t = 0 and over the run, drifts, sparsity."""

    sign_t0: Estimate
    sign_t0_batch_se: tuple[float, ...]  # the batch standard error of each seed's t = 0 sign
    sign_mean_over_run: Estimate
    positive_fraction: Estimate  # of logged steps with a positive sign statistic
    first_negative_running_mean: tuple[int | None, ...]  # per seed; None: never
    w_drift: Estimate
    b_drift: Estimate
    zero_frac_start: Estimate
    zero_frac_end: Estimate
    zero_frac_max: Estimate
    zero_frac_argmax_step: tuple[int, ...]
    nonpos_frac_start: Estimate
    nonpos_frac_end: Estimate
    u_drift: Estimate | None = None  # the residual branch's output weights (resmlp)
    # The self/label split of the sign statistic (DESIGN.md §2 item D); None for logs without it.
    self_t0: Estimate | None = None
    label_t0: Estimate | None = None
    self_end: Estimate | None = None  # mean over the last CROSSOVER_WINDOW logged steps
    label_end: Estimate | None = None
    crossover: tuple[int | None, ...] | None = None  # per seed: the label part overtakes (crossover_step)
    # "sparsity rises": end minus start per seed, paired (the statistic C1 uses in the sweep's claims)
    zero_frac_rise: Estimate | None = None
    nonpos_frac_rise: Estimate | None = None

    @property
    def turned(self) -> list[int]:
        """The steps at which the running mean turned negative, of the seeds where it did."""
        return [f for f in self.first_negative_running_mean if f is not None]

    @property
    def never_negative(self) -> int:
        return len(self.first_negative_running_mean) - len(self.turned)

    @property
    def first_negative_median(self) -> float | None:
        return float(np.median(self.turned)) if self.turned else None

    @property
    def crossed(self) -> list[int]:
        """The crossover steps of the seeds where the label part overtook the self part."""
        return [c for c in self.crossover or () if c is not None]

    @property
    def crossover_estimate(self) -> Estimate | None:
        """Mean and t-interval of the crossover step over the seeds that crossed (None: no split logged).

        Conditional on crossing: seeds that never crossed within the run are counted in
        ``never_crossed``, not in the interval (their step is only known to exceed the run).
        """
        return None if self.crossover is None else seed_estimate([float(c) for c in self.crossed]).within(0.0)

    @property
    def never_crossed(self) -> int | None:
        return None if self.crossover is None else len(self.crossover) - len(self.crossed)

    def to_dict(self) -> dict:
        out = {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}
        out.update(never_negative=self.never_negative, first_negative_median=self.first_negative_median)
        if self.crossover is not None:
            out.update(crossover_estimate=jsonable(self.crossover_estimate), never_crossed=self.never_crossed)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> LayerSummary:
        values = {}
        for f in fields(cls):
            item = data.get(f.name)
            if isinstance(item, dict):
                values[f.name] = Estimate.from_dict(item)
            elif isinstance(item, list):
                values[f.name] = tuple(math.nan if v is None and f.name == "sign_t0_batch_se" else v for v in item)
        return cls(**values)


def _layer_summary(logs: list[RunLog], key: str, columns: set[str]) -> LayerSummary:
    """Over ``logs`` (possibly none: every run diverged, then every estimate is undefined);
    ``columns`` names the logged columns."""
    def column(name: str) -> list[np.ndarray]:
        return [log.columns[f"{key}.{name}"] for log in logs]

    def drift(name: str) -> Estimate:
        return seed_estimate([col[-1] - col[0] for col in column(name)])

    signs = column("sign")
    finite = [sign[np.isfinite(sign)] for sign in signs]
    zeros = column("zero_frac")
    return LayerSummary(
        sign_t0=seed_estimate([sign[0] for sign in signs]),
        sign_t0_batch_se=tuple(float(se[0]) for se in column("sign_se")),
        sign_mean_over_run=seed_estimate([_nanmean(sign) for sign in signs]),
        positive_fraction=_fraction([float(np.mean(f > 0)) if len(f) else math.nan for f in finite]),
        first_negative_running_mean=tuple(first_negative_running_mean(log.columns["step"], sign)
                                          for log, sign in zip(logs, signs)),
        w_drift=drift("w_mean"), b_drift=drift("b_mean"),
        zero_frac_start=_fraction([z[0] for z in zeros]), zero_frac_end=_fraction([z[-1] for z in zeros]),
        zero_frac_max=_fraction([np.nanmax(z) for z in zeros]),
        zero_frac_argmax_step=tuple(int(log.columns["step"][int(np.nanargmax(z))]) for log, z in zip(logs, zeros)),
        nonpos_frac_start=_fraction([c[0] for c in column("nonpos_frac")]),
        nonpos_frac_end=_fraction([c[-1] for c in column("nonpos_frac")]),
        zero_frac_rise=paired_change([z[0] for z in zeros], [z[-1] for z in zeros]),
        nonpos_frac_rise=paired_change([c[0] for c in column("nonpos_frac")], [c[-1] for c in column("nonpos_frac")]),
        u_drift=drift("u_mean") if f"{key}.u_mean" in columns else None,
        **_split_summary(logs, key, columns))


def _split_summary(logs: list[RunLog], key: str, columns: set[str]) -> dict:
    """The self/label fields of a LayerSummary (none for logs without the split's columns)."""
    if f"{key}.label" not in columns:
        return {}
    parts = {part: [log.columns[f"{key}.{part}"] for log in logs] for part in ("self", "label")}

    def end(column: np.ndarray) -> float:
        tail = column[-CROSSOVER_WINDOW:]
        tail = tail[np.isfinite(tail)]
        return float(np.mean(tail)) if len(tail) else math.nan

    return {"self_t0": seed_estimate([c[0] for c in parts["self"]]),
            "label_t0": seed_estimate([c[0] for c in parts["label"]]),
            "self_end": seed_estimate([end(c) for c in parts["self"]]),
            "label_end": seed_estimate([end(c) for c in parts["label"]]),
            "crossover": tuple(crossover_step(log.columns["step"], s, lab)
                               for log, s, lab in zip(logs, parts["self"], parts["label"]))}


@dataclass(frozen=True)
class RoleSummary:
    """The runs of one role (main or control) over seeds."""

    act: str
    seeds: tuple[int, ...]
    layers: dict[str, LayerSummary]
    output: dict[str, Estimate]  # w_drift, b_drift of the output layer
    final: dict[str, Estimate]  # loss, train_loss, train_acc, test_loss, test_acc at the last step
    # Seeds whose run diverged (driftproof.divergence's rule): left out of every summary above, listed here.
    diverged: tuple[int, ...] = ()
    # True when every run diverged: then the summary is over each run's steps before its divergence.
    before_divergence: bool = False

    def to_dict(self) -> dict:
        return {"act": self.act, "seeds": list(self.seeds), "diverged_seeds": list(self.diverged),
                "before_divergence": self.before_divergence,
                "layers": jsonable(self.layers), "output": jsonable(self.output), "final": jsonable(self.final)}

    @classmethod
    def from_dict(cls, data: dict) -> RoleSummary:
        return cls(data["act"], tuple(data["seeds"]),
                   {key: LayerSummary.from_dict(item) for key, item in data["layers"].items()},
                   _estimates(data["output"]), _estimates(data["final"]), tuple(data.get("diverged_seeds", ())),
                   bool(data.get("before_divergence", False)))


def _before_divergence(log: RunLog) -> RunLog:
    """The logged steps of ``log`` before its divergence (at least the first, the initialization)."""
    keep = np.asarray(log.columns["step"]) < log.diverged_at
    keep[0] = True
    return RunLog(log.role, log.act, log.seed, {name: col[keep] for name, col in log.columns.items()}, None)


def _role_summary(logs: list[RunLog], depth: int) -> RoleSummary:
    """The summary over the runs that did not diverge; the diverged seeds are listed, not averaged
    (a diverged run's sign statistic and drift are overflow, not measurements). Where every run
    diverged, each is summarized over its steps before the divergence, and the summary says so."""
    kept = [log for log in logs if log.diverged_at is None]
    before = not kept
    if before:
        kept = [_before_divergence(log) for log in logs]
    columns = set(logs[0].columns)

    def out_drift(name: str) -> Estimate:
        return seed_estimate([log.columns[f"out.{name}"][-1] - log.columns[f"out.{name}"][0] for log in kept])

    return RoleSummary(
        logs[0].act, tuple(log.seed for log in kept),
        {f"L{layer}": _layer_summary(kept, f"L{layer}", columns) for layer in range(1, depth + 1)},
        {"w_drift": out_drift("w_mean"), "b_drift": out_drift("b_mean")},
        {name: seed_estimate([log.columns[name][-1] for log in kept]).within(*RANGES[name])
         for name in ("loss", "train_loss", "train_acc", "test_loss", "test_acc")},
        tuple(log.seed for log in logs if log.diverged_at is not None), before)


@dataclass(frozen=True)
class TrainSummary:
    """Per role (main, control) the per-layer summaries; with a control, the paired main - control drifts."""

    roles: dict[str, RoleSummary]
    main_minus_control: dict[str, dict[str, Estimate]] | None = None  # layer -> w_drift, b_drift

    def to_dict(self) -> dict:
        out = {"roles": jsonable(self.roles)}
        if self.main_minus_control is not None:
            out["main_minus_control"] = jsonable(self.main_minus_control)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> TrainSummary:
        paired = data.get("main_minus_control")
        return cls({role: RoleSummary.from_dict(item) for role, item in data["roles"].items()},
                   None if paired is None else {key: _estimates(item) for key, item in paired.items()})


def _paired_drifts(logs: list[RunLog], depth: int) -> dict[str, dict[str, Estimate]]:
    """Main minus control per seed, over the seeds where neither run diverged."""
    main = {log.seed: log for log in logs if log.role == "main" and log.diverged_at is None}
    control = {log.seed: log for log in logs if log.role == "control" and log.diverged_at is None}
    seeds = sorted(set(main) & set(control))

    def drift(log: RunLog, column: str) -> float:
        return log.columns[column][-1] - log.columns[column][0]

    return {f"L{layer}": {name.replace("_mean", "_drift"): seed_estimate(
                [drift(main[s], f"L{layer}.{name}") - drift(control[s], f"L{layer}.{name}") for s in seeds])
            for name in ("w_mean", "b_mean")} for layer in range(1, depth + 1)}


def summarize(logs: list[RunLog], depth: int) -> TrainSummary:
    """Per role (main, control): per-layer summaries; plus paired main - control drifts."""
    roles = {}
    for role in ("main", "control"):
        chosen = [log for log in logs if log.role == role]
        if chosen:
            roles[role] = _role_summary(chosen, depth)
    return TrainSummary(roles, _paired_drifts(logs, depth) if "control" in roles else None)


@dataclass(frozen=True)
class Comparison:
    """A measured Estimate against a predicted value (R5)."""

    measured: Estimate
    predicted: float
    relative_error: float | None  # |measured - predicted| / |predicted|; None where the prediction is 0
    prediction_in_interval: bool

    @classmethod
    def of(cls, measured: Estimate, predicted: float) -> Comparison:
        predicted = float(predicted)
        rel = None
        if measured.n and abs(predicted) > 1e-12:
            rel = abs(measured.mean - predicted) / abs(predicted)
        return cls(measured, predicted, rel, measured.defined and measured.contains(predicted))

    def to_dict(self) -> dict:
        return {"measured": self.measured.to_dict(), "predicted": self.predicted,
                "relative_error": self.relative_error, "prediction_in_interval": self.prediction_in_interval}

    @classmethod
    def from_dict(cls, data: dict) -> Comparison:
        return cls(Estimate.from_dict(data["measured"]), float(data["predicted"]), data["relative_error"],
                   bool(data["prediction_in_interval"]))


def first_step_vs_theory(logs: list[RunLog], prediction) -> dict[str, dict[str, Comparison]]:
    """R5: the measured first SGD step of each layer's mean weight and bias, per unit lr.

    The measurement is ``-mean(grad)`` at step 0 (exactly the first step of plain SGD
    divided by the learning rate), over seeds; ``prediction`` is a MeanField. The relative
    error is |measured - predicted| / |predicted|, reported only where the prediction is
    not zero (for zero-mean inputs the first layer's weight mean has no predicted drift).
    """
    main = [log for log in logs if log.role == "main"]
    rows = {}
    targets = [(f"L{lp.layer}", lp.dW_mean, lp.db_mean, lp.delta_given_positive) for lp in prediction.layers]
    targets.append(("out", prediction.output.dV_mean, prediction.output.dc_mean, None))
    for key, dw, db, given_positive in targets:
        entry = {what: Comparison.of(seed_estimate([-log.columns[column][0] for log in main]), predicted)
                 for what, column, predicted in (("dW_mean", f"{key}.w_grad", dw), ("db_mean", f"{key}.b_grad", db))}
        if given_positive is not None:
            entry["sign_t0"] = Comparison.of(seed_estimate([log.columns[f"{key}.sign"][0] for log in main]),
                                             given_positive)
        rows[key] = entry
    return rows


def first_step_from_dict(data: dict | None) -> dict[str, dict[str, Comparison]] | None:
    if data is None:
        return None
    return {key: {what: Comparison.from_dict(item) for what, item in entry.items()} for key, entry in data.items()}


def _nanmean(values: np.ndarray) -> float:
    """np.nanmean, and nan without numpy's "Mean of empty slice" warning for a run that diverged at its first step."""
    if np.isnan(values).all():
        return math.nan
    return float(np.nanmean(values))
