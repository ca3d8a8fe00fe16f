"""The run folder: configuration, seeds, versions, metrics (CSV + JSON), summary, figures.

Layout::

    run.json        config, spec, seeds, data set, environment, notes, kernel, timing
    summary.json    summaries over seeds and the first step against R5
    metrics.json    every run's metric columns (reloadable)
    metrics.csv     the same, long format: one row per (role, seed, step)
    sign.png, mean_weight.png, mean_bias.png, sparsity.png, loss.png

A transformer run (gpt, vit) has no biases: no mean_bias.png; instead ``paper_metrics.json``
(the paper's metrics over seeds), ``spikes.png`` (max and min of every linear layer's input on
the held-out set) and ``matrices.png`` (mean and fraction negative of every block matrix).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..results import json_default
from .seed import RunLog
from .split_figure import save_split_figure
from .run import TrainResult

__all__ = ["save_run", "load_run", "run_folder_conflict", "FILES", "FIGURES", "TRANSFORMER_FIGURES", "OWNED"]

FIGURES = ("sign.png", "mean_weight.png", "mean_bias.png", "sparsity.png", "loss.png", "split.png")
FILES = ("run.json", "summary.json", "metrics.json", "metrics.csv") + FIGURES
TRANSFORMER_FIGURES = ("sign.png", "mean_weight.png", "sparsity.png", "loss.png", "spikes.png", "matrices.png")
# Every file a run folder may hold: a rerun into the folder replaces them all, the ones it does not write removed.
OWNED = tuple(dict.fromkeys(FILES + TRANSFORMER_FIGURES + ("paper_metrics.json",)))
# The configuration entries a run folder is matched on; the data set decides the effective input_dim and classes.
_DERIVED = ("input_dim", "classes")


def _write_json(path: Path, payload) -> None:
    path.write_text(json.dumps(payload, indent=2, default=json_default, allow_nan=False) + "\n")


def save_run(result: TrainResult, out: str | Path, *, figures: bool = True) -> Path:
    """Write the run folder ``out`` (created if needed) and return its path."""
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create the run folder {str(folder)!r}: {error.strerror}") from None
    meta = result.to_dict()
    summary = {"summary": meta.pop("summary"), "first_step_vs_R5": meta.pop("first_step_vs_R5")}
    paper = meta.pop("paper_metrics", None)
    if paper is not None:
        _write_json(folder / "paper_metrics.json", paper)
    _write_json(folder / "run.json", meta)
    _write_json(folder / "summary.json", summary)
    _write_json(folder / "metrics.json", {"runs": [log.to_dict() for log in result.logs]})
    with open(folder / "metrics.csv", "w", newline="") as handle:
        names = list(result.logs[0].columns)
        writer = csv.writer(handle)
        writer.writerow(["role", "act", "seed"] + names)
        for log in result.logs:
            for i in range(len(log.columns["step"])):
                values = [log.columns[name][i] if name in log.columns else math.nan for name in names]
                writer.writerow([log.role, log.act, log.seed] + ["" if not math.isfinite(v) else repr(float(v))
                                                                  for v in values])
    if figures:
        _figures(result, folder)
        if paper is not None:
            _transformer_figures(result, folder)
    return folder


def load_run(folder: str | Path) -> TrainResult:
    """Reload a run folder written by :func:`save_run`; InputError naming the file for anything else."""
    folder = Path(folder)
    name = "run.json"
    try:
        meta = _read_json(folder / name)
        name = "summary.json"
        summary = _read_json(folder / name)
        name = "metrics.json"
        logs = [RunLog.from_dict(run) for run in _read_json(folder / name)["runs"]]
        name = "paper_metrics.json"
        paper = folder / name
        if paper.exists():
            meta["paper_metrics"] = _read_json(paper)
        name = "run.json"
        return TrainResult.from_dict({**meta, **summary}, logs)
    except FileNotFoundError:
        raise InputError(f"{str(folder)!r} is not a complete run folder: {name} is missing") from None
    except OSError as error:
        raise InputError(f"{str(folder)!r}: cannot read {name} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{str(folder)!r}: {name} is not text") from None
    except (json.JSONDecodeError, RecursionError) as error:
        raise InputError(f"{str(folder)!r}: {name} is not valid JSON ({getattr(error, 'msg', 'nested too deep')})") \
            from None
    except KeyError as error:
        raise InputError(f"{str(folder)!r}: {name} is not what driftproof writes (no {error.args[0]!r} entry)") \
            from None
    except (TypeError, ValueError, AttributeError, IndexError) as error:
        raise InputError(f"{str(folder)!r}: {name} is not what driftproof writes ({type(error).__name__}: "
                         f"{(str(error).splitlines() or [''])[0][:100]})") from None


def _read_json(path: Path):
    return json.loads(path.read_bytes().decode("utf-8"))


def run_folder_conflict(folder: Path, config: dict, spec: dict) -> str | None:
    """None when the non-empty ``folder`` is a run folder of this configuration and spec (a rerun may
    replace it); otherwise why it may not be written into, for the ``--out`` refusal."""
    meta_path = Path(folder) / "run.json"
    if not meta_path.is_file():
        return "is not empty and is not a driftproof run folder (it has no run.json)"
    try:
        meta = json.loads(meta_path.read_text())
        stored_config, stored_spec = dict(meta["config"]), dict(meta["spec"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        return "holds a run.json that driftproof did not write"
    wanted_config, wanted_spec = json.loads(json.dumps({"c": config, "s": spec}, default=json_default)).values()
    differ = [f"{name} {stored_config.get(name)!r}, not {value!r}" for name, value in wanted_config.items()
              if name not in _DERIVED and stored_config.get(name) != value]
    differ += [f"{name} {stored_spec.get(name)!r}, not {value!r}" for name, value in wanted_spec.items()
               if stored_spec.get(name) != value]
    differ += [f"{name} {value!r}, not unset" for name, value in stored_spec.items() if name not in wanted_spec]
    if differ:
        return f"holds a run of another configuration ({'; '.join(differ[:3])}{'; ...' if len(differ) > 3 else ''})"
    return None


def _drawn(result: TrainResult) -> list[RunLog]:
    """The runs a figure draws: diverged runs are left out (DESIGN.md §3), and named in its title."""
    stopped = {(d.role, d.seed) for d in result.diverged}
    return [log for log in result.logs if (log.role, log.seed) not in stopped]


def _figures(result: TrainResult, folder: Path) -> None:
    import matplotlib

    from ..render.curves import ROLE_COLOURS, curves_figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depth = int(result.config["depth"])
    transformer = result.paper is not None
    panels = [("sign.png", "sign", r"sign statistic: mean $\delta^l$ on $p^l>0$"),
              ("mean_weight.png", "w_mean", r"mean weight of $W^l$" if not transformer else r"mean of $W_{up}^l$"),
              ("mean_bias.png", "b_mean", r"mean bias of $b^l$"),
              ("sparsity.png", "zero_frac", r"sparsity: $h^l = 0$ (solid), $p^l \leq 0$ (dotted)")]
    if transformer:  # no biases
        panels.pop(2)
    for filename, metric, ylabel in panels:
        figure = curves_figure(_drawn(result), depth, [(metric, ylabel)], _title(result), width=4.2, height=3.4)
        figure.savefig(folder / filename, dpi=110)
    colors = ROLE_COLOURS
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for log in _drawn(result):
        steps = log.columns["step"]
        for ax, metric in zip(axes, ("loss", "acc")):
            ax.plot(steps, log.columns[metric], color=colors[log.role], alpha=0.35, lw=0.8)
            test = log.columns[f"test_{metric}"]
            keep = np.isfinite(test)
            ax.plot(steps[keep], test[keep], color=colors[log.role], lw=1.2, ls="--", marker=".")
    for ax, name in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("step")
        ax.set_ylabel(f"{name} (batch: thin; held-out: dashed)")
    fig.suptitle(_title(result), fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "loss.png", dpi=110)
    plt.close(fig)
    save_split_figure(result, folder)


def _title(result: TrainResult) -> str:
    c, s = result.config, result.spec
    left_out = sorted(f"{d.role} seed {d.seed}" for d in result.diverged)
    return (f"{s['arch']} width {c['width']} depth {c['depth']}, {c['loss']}, {c['act']} vs control, "
            f"{s['data']}, {s['opt']} lr {'n/a' if s['lr'] is None else format(s['lr'], 'g')}, batch {s['batch']}, "
            f"seeds {result.seeds}" + (f"; left out (diverged): {', '.join(left_out)}" if left_out else ""))


def _transformer_figures(result: TrainResult, folder: Path) -> None:
    """spikes.png and matrices.png: the paper's per-layer metrics over training, every run a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .paper_metrics import INPUTS
    from ..transformer import MATRICES

    depth = int(result.config["depth"])
    colors = {"main": "tab:red", "control": "tab:blue"}
    grids = [("spikes.png", INPUTS, ("max", "min"), "held-out input of each linear layer: max (solid), min (dotted)"),
             ("matrices.png", MATRICES, ("mean", "neg_frac"), "block matrices: mean (top), fraction negative (bottom)")]
    for filename, names, stats, title in grids:
        rows = 1 if filename == "spikes.png" else 2
        fig, axes = plt.subplots(rows * depth, len(names), figsize=(3.0 * len(names), 2.3 * rows * depth),
                                 squeeze=False)
        for layer in range(1, depth + 1):
            for j, name in enumerate(names):
                for r, stat in enumerate(stats):
                    ax = axes[(layer - 1) * rows + (r if rows == 2 else 0)][j]
                    for log in _drawn(result):
                        steps, values = log.columns["step"], log.columns[f"L{layer}.{name}.{stat}"]
                        keep = np.isfinite(values)
                        ax.plot(steps[keep], values[keep], color=colors[log.role], lw=1, alpha=0.7,
                                ls=":" if (rows == 1 and stat == "min") else "-")
                    if r == 0 or rows == 1:
                        ax.set_title(f"L{layer} {name}", fontsize=8)
                    if stat == "mean":
                        ax.axhline(0.0, color="black", lw=0.6)
                    if stat == "neg_frac":
                        ax.axhline(0.5, color="black", lw=0.6)
                    ax.tick_params(labelsize=7)
        fig.suptitle(f"{title}\n{_title(result)}; red {result.config['act']}, blue control", fontsize=8)
        fig.tight_layout(rect=(0, 0, 1, 0.97))  # room for the two-line title
        fig.savefig(folder / filename, dpi=100)
        plt.close(fig)
