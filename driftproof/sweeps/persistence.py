"""The referee's question by loss x data x optimizer: does the sign of E[δ|p>0] persist in training, and do
the biases and weights drift negative (issue 22 item 4)?

One *cell* is a loss (MSE, CE) x data (noise: random inputs and labels; digits: real labels) x optimizer
(SGD, AdamW, Muon) x gradient clipping (none, global norm CLIP_NORM) x activation. The paper's activations
(PAPER_ACTS) decide; tanh and identity are controls (odd: the pointwise sign but no net drift, R5), judged
apart and never part of an answer. Every cell trains the same small MLP (``STUDY``) over the same seeds.

Per seed and hidden layer (:func:`seed_measures`): the sign statistic at t = 0 and over the *late window*
(the mean over the last LATE_FRACTION of the logged steps), the fraction of logged steps with a positive
sign, the first step at which its running mean turns negative, the drift of the layer's mean bias and mean
weight (end minus start), and the self and label parts of the sign over the late window (DESIGN.md §2
item D). Seeds are the unit of replication: each cell gives a Student-t interval over seeds (none from
fewer than 5) and, for the three sign questions (late sign > 0? bias drift < 0? weight drift < 0?), an exact
sign test; each question is judged with Holm's procedure across every (paper cell, layer) at family-wise
level ALPHA (the controls: a family of their own). Diverged runs (driftproof.divergence's rule) are named
with their step and left out; a cell where most seeds diverged is *not measured*.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from ..divergence import DivergenceCount
from ..training.spec import TrainSpec, dataset_for
from ..training.summary import first_negative_running_mean, seed_estimate
from .stats import ALPHA, holm_sign_tests

__all__ = ["STUDY", "LOSSES", "DATASETS", "OPTIMIZERS", "CLIPS", "PAPER_ACTS", "CONTROLS", "CLIP_NORM",
           "LATE_FRACTION", "MEASURES", "QUESTIONS", "Cell", "CellResult", "cells", "cell_run", "seed_measures",
           "run_cell", "judge", "VERDICTS", "answers", "load_stored", "STORED", "STORED_WIDE", "ESTIMATE_FIELDS",
           "ESTIMATE_METHOD", "CALL_FIELDS", "CALL_METHOD", "estimate_of", "families", "CE_REVERSAL",
           "load_ce_reversal"]

# The scale: small enough that the whole study (every cell x STUDY["seeds"]) trains in under 15 minutes on one
# core (scripts/persistence.py prints its time); the numbers are recorded in the JSON beside the results.
# LeCun scale (1/fan_in) for every activation: at He scale the plain ReLU^2 and GELU^2 MLPs diverge in most
# cells before they learn (their variance grows as q^2 per layer, and the digits' standardized pixels are
# heavy-tailed); the theorem's sign does not depend on the scale, and the paper's GPT (std 0.02 at width 768,
# 0.3/fan_in) starts smaller still.
STUDY = {"width": 32, "depth": 2, "steps": 200, "batch": 32, "n_train": 1024, "n_test": 256, "seeds": 16,
         "log_every": 2, "scale": "lecun"}
LOSSES = ("mse", "ce")
DATASETS = ("noise", "digits")
# The paper trains block matrices with Muon and embeddings/norms with AdamW; SGD is the theory's optimizer.
OPTIMIZERS = {"sgd": {"opt": "sgd", "lr": 0.05}, "adamw": {"opt": "adamw", "lr": 1e-3, "wd": 0.1},
              "muon": {"opt": "muon", "lr": 0.02}}
CLIP_NORM = 1.0
CLIPS = (None, CLIP_NORM)
PAPER_ACTS = ("relu", "relu2", "gelu", "gelu2")
CONTROLS = ("tanh", "identity")
LATE_FRACTION = 0.25
MEASURES = ("sign_t0", "sign_late", "positive_fraction", "b_drift", "w_drift", "self_late", "label_late")
# question -> (measure, the sign the paper's mechanism predicts)
QUESTIONS = {"sign": ("sign_late", 1), "b_drift": ("b_drift", -1), "w_drift": ("w_drift", -1)}
VERDICTS = {"sign": {1: "persists", -1: "reverses", 0: "unresolved"},
            "b_drift": {-1: "negative", 1: "positive", 0: "unresolved"},
            "w_drift": {-1: "negative", 1: "positive", 0: "unresolved"}}


@dataclass(frozen=True)
class Cell:
    """One configuration of the study (trained over seeds)."""

    loss: str
    data: str
    opt: str
    clip: float | None
    act: str

    @property
    def control(self) -> bool:
        return self.act in CONTROLS

    @property
    def group(self) -> tuple:
        """The (loss, data, optimizer, clip) the answer is stated per."""
        return (self.loss, self.data, self.opt, self.clip)

    @property
    def name(self) -> str:
        clip = "clip" if self.clip is not None else "noclip"
        return f"{self.loss}/{self.data}/{self.opt}/{clip}/{self.act}"

    def to_dict(self) -> dict:
        return {"loss": self.loss, "data": self.data, "opt": self.opt, "clip": self.clip, "act": self.act}


def cells(acts=PAPER_ACTS + CONTROLS) -> list[Cell]:
    """Every cell of the study, in a fixed order."""
    return [Cell(loss, data, opt, clip, act)
            for loss, data, opt, clip, act in itertools.product(LOSSES, DATASETS, OPTIMIZERS, CLIPS, acts)]


def cell_run(cell: Cell, study: dict = STUDY) -> tuple[Config, TrainSpec]:
    """(Config, TrainSpec) of one cell at the study's scale (plain MLP, normal weights, ``study["scale"]``)."""
    config = Config(loss=cell.loss, act=cell.act, width=study["width"], depth=study["depth"],
                    scale=study["scale"], input_dim=study["width"] if cell.data == "noise" else None)
    spec = TrainSpec(arch="mlp", data=cell.data, steps=study["steps"], batch=study["batch"], n_train=study["n_train"],
                     n_test=study["n_test"], seeds=study["seeds"], control=None, kernel="numpy",
                     log_every=study["log_every"], clip_norm=cell.clip, **OPTIMIZERS[cell.opt])
    return config, spec


def _late(values: np.ndarray) -> float:
    tail = values[-max(1, int(round(LATE_FRACTION * len(values)))):]
    tail = tail[np.isfinite(tail)]
    return float(np.mean(tail)) if len(tail) else math.nan


def seed_measures(columns: dict[str, np.ndarray], depth: int) -> dict[str, dict]:
    """Per hidden layer ``L{l}``: each of MEASURES for one seed's logged columns, and ``first_negative`` (the
    first logged step at which the running mean of the sign is below 0; None: never)."""
    out = {}
    for layer in range(1, depth + 1):
        col = {name: np.asarray(columns[f"L{layer}.{name}"], float)
               for name in ("sign", "b_mean", "w_mean", "self", "label")}
        finite = col["sign"][np.isfinite(col["sign"])]
        out[f"L{layer}"] = {
            "sign_t0": float(col["sign"][0]), "sign_late": _late(col["sign"]),
            "positive_fraction": float(np.mean(finite > 0)) if len(finite) else math.nan,
            "b_drift": float(col["b_mean"][-1] - col["b_mean"][0]),
            "w_drift": float(col["w_mean"][-1] - col["w_mean"][0]),
            "self_late": _late(col["self"]), "label_late": _late(col["label"]),
            "first_negative": first_negative_running_mean(np.asarray(columns["step"]), col["sign"])}
    return out


@dataclass(frozen=True)
class CellResult:
    """One cell over its seeds: the measured seeds' values per layer, and the diverged seeds."""

    cell: Cell
    seeds: tuple[int, ...]  # the measured (not diverged) seeds, in order
    layers: dict[str, dict[str, tuple]]  # layer -> measure (MEASURES, first_negative) -> one value per seed
    divergence: DivergenceCount
    test_acc: tuple[float, ...] = ()
    calls: dict[str, dict[str, dict]] = field(default_factory=dict)  # layer -> question -> judged sign test
    train_acc: tuple[float, ...] = ()  # at the end, on up to 1024 training samples: how well the labels were fit

    @property
    def measured(self) -> bool:
        return self.divergence.measured

    def estimate(self, layer: str, measure: str):
        """Mean and 95% Student-t interval over the measured seeds (no interval below 5)."""
        return seed_estimate(self.layers[layer][measure])

    def to_dict(self) -> dict:
        return {"cell": self.cell.to_dict(), "name": self.cell.name, "control": self.cell.control,
                "seeds": list(self.seeds), "divergence": self.divergence.to_dict(),
                "test_acc": {"estimate": _summary(self.test_acc), "values": [_round(v) for v in self.test_acc]},
                "train_acc": {"estimate": _summary(self.train_acc), "values": [_round(v) for v in self.train_acc]},
                "layers": {layer: {"values": {m: [_round(v) for v in values] for m, values in measures.items()},
                                   "estimates": {m: _summary(measures[m]) for m in MEASURES},
                                   "never_negative": sum(v is None for v in measures["first_negative"]),
                                   "calls": self.calls.get(layer, {})}
                           for layer, measures in self.layers.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> CellResult:
        layers = {layer: {m: tuple(math.nan if v is None and m != "first_negative" else v for v in values)
                          for m, values in item["values"].items()} for layer, item in data["layers"].items()}
        return cls(Cell(**data["cell"]), tuple(data["seeds"]), layers, DivergenceCount.from_dict(data["divergence"]),
                   tuple(data["test_acc"]["values"]), {k: v["calls"] for k, v in data["layers"].items() if v["calls"]},
                   tuple(data.get("train_acc", {}).get("values", ())))


# How the stored file writes an estimate and a judged sign test (one list each, keys named once, in the file too)
ESTIMATE_FIELDS = ("mean", "ci_low", "ci_high", "n")
ESTIMATE_METHOD = "mean over seeds and 95% Student-t interval (none from fewer than 5 seeds: null bounds)"
CALL_FIELDS = ("positive", "negative", "p_value", "call", "verdict")
CALL_METHOD = "exact two-sided sign test over seeds (binomial); call +1/-1/0 under Holm within its family"


def _round(value):
    """Four significant digits (the stored file stays small; far below any interval's width, and a value's
    sign is kept)."""
    if value is None or isinstance(value, int):
        return value
    return float(f"{value:.4g}") if math.isfinite(value) else None


def _summary(values) -> list:
    """[mean, ci_low, ci_high, n] over seeds (ESTIMATE_FIELDS)."""
    e = seed_estimate(values)
    return [_round(e.mean), _round(e.ci_low), _round(e.ci_high), e.n]


def estimate_of(stored: list) -> dict:
    """A stored estimate as a dict keyed by ESTIMATE_FIELDS."""
    return dict(zip(ESTIMATE_FIELDS, stored))


def run_cell(cell: Cell, study: dict = STUDY, seeds=None, train=None) -> CellResult:
    """Train ``cell`` over ``seeds`` (default: range(study["seeds"])) and measure each seed.

    ``train(config, spec, seed, data)`` defaults to :func:`~driftproof.training.seed.train_seed` (tests plant
    their own logs through it)."""
    from ..training.seed import train_seed

    train = train or train_seed
    config, spec = cell_run(cell, study)
    seeds = range(study["seeds"]) if seeds is None else seeds
    kept, gone, layers, acc, fit = [], [], {}, [], []
    for seed in seeds:
        with np.errstate(all="ignore"):  # a diverging run is named, not warned about
            log = train(config, spec, seed, dataset_for(config, spec, seed))
        if log.diverged_at is not None:
            gone.append((seed, int(log.diverged_at)))
            continue
        kept.append(seed)
        acc.append(float(log.columns["test_acc"][-1]) if "test_acc" in log.columns else math.nan)
        fit.append(float(log.columns["train_acc"][-1]) if "train_acc" in log.columns else math.nan)
        for layer, measures in seed_measures(log.columns, config.depth).items():
            for name, value in measures.items():
                layers.setdefault(layer, {}).setdefault(name, []).append(value)
    if not kept:
        layers = {f"L{layer}": {name: [] for name in MEASURES + ("first_negative",)}
                  for layer in range(1, config.depth + 1)}
    divergence = DivergenceCount(len(kept) + len(gone), tuple(s for s, _ in gone), tuple(t for _, t in gone))
    return CellResult(cell, tuple(kept), {k: {m: tuple(v) for m, v in d.items()} for k, d in layers.items()},
                      divergence, tuple(acc), train_acc=tuple(fit))


def families(results: list[CellResult]) -> dict[str, int]:
    """The Holm families: ``question/paper`` and ``question/controls`` -> the number of (cell, layer) tests."""
    return {f"{question}/{'controls' if control else 'paper'}":
            sum(len(r.layers) for r in results if r.cell.control == control and r.measured)
            for question in QUESTIONS for control in (False, True)}


def judge(results: list[CellResult], alpha: float = ALPHA) -> list[CellResult]:
    """``results`` with each (cell, layer)'s sign tests called under Holm, one family per question and per
    role (paper activations; controls), over the measured cells only."""
    calls: dict[str, dict[str, dict]] = {r.cell.name: {} for r in results}
    for question, (measure, _) in QUESTIONS.items():
        for control in (False, True):
            family = {(r.cell.name, layer): values[measure] for r in results if r.cell.control == control
                      and r.measured for layer, values in r.layers.items()}
            for (name, layer), test in holm_sign_tests(family, alpha).items():
                calls[name].setdefault(layer, {})[question] = [test.positive, test.negative, _round(test.p_value),
                                                               test.call, VERDICTS[question][test.call]]
    return [CellResult(r.cell, r.seeds, r.layers, r.divergence, r.test_acc, calls[r.cell.name], r.train_acc)
            for r in results]


def answers(results: list[CellResult]) -> list[dict]:
    """The answer per (loss, data, optimizer, clip), from the paper activations' judged cells: per question, how
    many (activation, layer) cases each verdict got, the cells not measured (most seeds diverged) and the runs
    that diverged. Controls are listed beside, never counted."""
    out = []
    for group in dict.fromkeys(r.cell.group for r in results):
        mine = [r for r in results if r.cell.group == group]
        paper = [r for r in mine if not r.cell.control]
        counts = {question: {verdict: 0 for verdict in VERDICTS[question].values()} for question in QUESTIONS}
        for r in paper:
            for layer in r.calls.values():
                for question, call in layer.items():
                    counts[question][call[CALL_FIELDS.index("verdict")]] += 1
        loss, data, opt, clip = group
        out.append({"loss": loss, "data": data, "opt": opt, "clip": clip, "counts": counts,
                    "cases": sum(len(r.calls) for r in paper),
                    "not_measured": [r.cell.act for r in paper if not r.measured],
                    "diverged": {r.cell.act: r.divergence.text() for r in mine if r.divergence.diverged},
                    "controls": {r.cell.act: {layer: {q: c[-1] for q, c in calls.items()}
                                              for layer, calls in r.calls.items()} for r in mine if r.cell.control}})
    return out


STORED = "stored/persistence.json"
STORED_WIDE = "stored/persistence_w64.json"  # the same study at width 64: does the answer depend on the scale?


def load_stored(name: str = STORED) -> dict | None:
    """A shipped study (``driftproof/stored/persistence.json``, or ``name``) with its cells as CellResults; None if
    absent."""
    import json
    from importlib.resources import files

    path = files("driftproof").joinpath(name)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return {**data, "cells": [CellResult.from_dict(item) for item in data["cells"]]}


CE_REVERSAL = "stored/ce_reversal.json"


def load_ce_reversal() -> dict | None:
    """The shipped one-factor-at-a-time study of the cross-entropy reversal (scripts/ce_reversal.py) as written
    (cells: factor -> value -> per-layer Estimates as dicts, with their sign tests); None if absent."""
    import json
    from importlib.resources import files

    path = files("driftproof").joinpath(CE_REVERSAL)
    return json.loads(path.read_text()) if path.is_file() else None
