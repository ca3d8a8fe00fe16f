"""The public Python API: the command line's operations as functions, with the same defaults.

Each function takes the command line's options as keyword arguments (``--input-dim`` is
``input_dim``), validates them exactly as the CLI does, and returns a result object that
prints itself (``repr``), shows itself in a notebook (``_repr_html_``), serializes
(``to_dict``/``to_json``) and, where a picture says more, plots itself (``plot()``).
Bad input raises :class:`driftproof.InputError` with the CLI's one-line message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from .config import Config, environment
from .errors import InputError
from .evidence import ARCHS, KINDS
from .evidence import verify as _verify
from .montecarlo import compare_conditional, compare_marginal, conditional, marginal
from .montecarlo.compare import Comparison, unit_predictions
from .montecarlo.gap import GapTrend, gap_trend
from .montecarlo.outcomes import ConditionalResult, MarginalResult
from .nets import LN_EPS
from .budget import Budget, check_memory, mc_budget
from .commands.common import output_folder
from .render import montecarlo_text
from .render.claims import claim_dict, claims_text, evidence_text, statement, verdict_word
from .render.html import table_html, verdict_cell
from .render.runs import run_text
from .results import Evidence, Verdict, Verification, json_default
from .sweeps import DEFAULT_OUT, GRIDS, SweepStore, claims_table, make_grid, run_sweep
from .theory.derivation import Derivation
from .theory.derive import derive_all
from .theory.normalized import Residual, derive_residual
from .training.run import TrainResult, check_size, control_activation
from .training.run import train as train_runs
from .training.runfolder import load_run, save_run
from .training.spec import TrainSpec

__all__ = ["verify", "derive", "mc", "train", "sweep", "claims", "report", "load", "Derivations", "MonteCarloCheck", "TrainingRun",
           "ClaimsCheck", "network_config"]

MODES = ("conditional", "marginal")


def network_config(loss: str = "ce", act: str = "gelu", *, init: str = "normal", scale: str = "he", width: int = 256,
                   depth: int = 1, classes: int = 10, input_dim: int | None = None, seed: int = 0) -> Config:
    """The validated network configuration every operation starts from (InputError on bad values)."""
    return Config(loss=loss, act=act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                  input_dim=input_dim, seed=seed)


def _progress_bar(progress: bool, total: int, desc: str):
    """A tqdm bar (notebook widget or terminal, tqdm's auto mode) and its update callback, or (None, None)."""
    if not progress:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=False, unit="net")
    return bar, lambda done: bar.update(done - bar.n)


def verify(loss: str = "ce", act: str = "gelu", *, init: str = "normal", scale: str = "he", width: int = 256,
           depth: int = 1, classes: int = 10, input_dim: int | None = None, seed: int = 0, arch: str = "mlp",
           only: tuple[str, ...] | list[str] | str | None = None, progress: bool = False) -> Verification:
    """Check the claim E[δ_i | p] ≥ 0 for p_i > 0 at init with every kind of evidence (``driftproof verify``).

    Args:
        loss, act, init, scale, width, depth, classes, input_dim, seed: the network (as the CLI's options).
        arch: ``mlp`` (results R1-R5) or ``resmlp`` (pre-norm residual MLP, R6).
        only: the kinds of evidence to run, among ``symbolic``, ``montecarlo``, ``training`` (default all).
        progress: progress bars (tqdm's auto mode: a widget in a notebook).

    Returns:
        A :class:`~driftproof.results.Verification`: ``verdict``, ``evidence`` rows, ``exit_code``.
    """
    config = network_config(loss, act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                            input_dim=input_dim, seed=seed)
    kinds = KINDS if only is None else ((only,) if isinstance(only, str) else tuple(only))
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown or not kinds:
        raise InputError(f"only must name kinds of evidence among {', '.join(KINDS)}, got {only!r}")
    if arch not in ARCHS:
        raise InputError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    return _verify(config, arch=arch, progress=progress, kinds=kinds)


@dataclass(frozen=True)
class Derivations:
    """The derivations ``driftproof derive`` prints (R3, R1/R2, R4/R5), step by step."""

    config: dict
    derivations: tuple[Derivation, ...]

    def __iter__(self):
        return iter(self.derivations)

    def __len__(self) -> int:
        return len(self.derivations)

    def __getitem__(self, key: int | str) -> Derivation:
        """By position, or by result key (``"R3"``, ``"R2"``, ...)."""
        if isinstance(key, str):
            for derivation in self.derivations:
                if derivation.key == key:
                    return derivation
            raise KeyError(key)
        return self.derivations[key]

    def to_text(self) -> str:
        return "\n\n".join(d.to_text() for d in self.derivations)

    def to_latex(self) -> str:
        return "\n\n".join(d.to_latex() for d in self.derivations)

    def to_dict(self) -> dict:
        return {"config": self.config, "derivations": [d.to_dict() for d in self.derivations],
                "environment": environment()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=json_default)

    def __repr__(self) -> str:
        keys = ", ".join(d.key for d in self.derivations)
        return f"Derivations({self.config['loss']}/{self.config['act']}: {keys})"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return f"<pre>{escape(self.to_text())}</pre>"


def derive(loss: str = "ce", act: str = "gelu", *, init: str = "normal", scale: str = "he", width: int = 256,
           depth: int = 1, classes: int = 10, input_dim: int | None = None, seed: int = 0,
           arch: str = "mlp") -> Derivations:
    """The derivations R3 (sign map), R1/R2 (last layer) and R4/R5 (mean field), each step exact or numeric.

    Args:
        arch: ``mlp``, or ``resmlp`` to add R6 for the pre-norm residual MLP that ``verify --arch
            resmlp`` checks (LayerNorm, eps 1e-5): the eps = 0 statement, the attention blocks and
            the tied readout of a GPT, and each block's coefficient.
    """
    config = network_config(loss, act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                            input_dim=input_dim, seed=seed)
    if arch not in ARCHS:
        raise InputError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    derivations = tuple(derive_all(config))
    if arch == "resmlp":
        derivations += (derive_residual(Residual(config, "layernorm", LN_EPS)),)
    return Derivations(config.to_dict(), derivations)


@dataclass(frozen=True)
class MonteCarloCheck:
    """A Monte Carlo estimate of E[δ] (``driftproof mc``) beside the theory's prediction, with its sign test."""

    config: Config
    result: ConditionalResult | MarginalResult
    comparison: Comparison | list[Comparison] | None
    trend: tuple[GapTrend, ...] = ()  # marginal mode: resolved gaps to R4 measured again at width N/2

    @property
    def verdict(self) -> Verdict:
        return Verdict(self.result.verdict)

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    @property
    def mode(self) -> str:
        return "conditional" if isinstance(self.result, ConditionalResult) else "marginal"

    def to_dict(self) -> dict:
        payload = self.result.to_dict()
        comparison = self.comparison
        payload["theory"] = (None if comparison is None else [c.to_dict() for c in comparison]
                             if isinstance(comparison, list) else comparison.to_dict())
        payload["finite_width_trend"] = [t.to_dict() for t in self.trend]
        payload["environment"] = environment()
        return payload

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=json_default)

    def text(self, units: bool = False) -> str:
        """The command line's report; ``units`` adds one line per unit (conditional mode)."""
        predicted = (unit_predictions(self.config, self.result.layer, self.result.p)
                     if units and self.mode == "conditional" else None)
        return montecarlo_text(self.config, self.result, self.comparison, predicted, self.trend)

    def __repr__(self) -> str:
        return (f"MonteCarloCheck({self.verdict.upper()}: {self.mode}, {self.result.method}, "
                f"{self.result.sign_test.samples} samples, {self.config.loss}/{self.config.act}/{self.config.init})")

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre>{escape(self.text())}</pre>"

    def plot(self):
        """Conditional: E[δ_i | p] per unit against p_i, with 95% error bars and the theory's prediction;
        marginal: E[δ^l | p > 0] per layer against the mean field. Returns a matplotlib Figure (not shown)."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = figure.add_subplot()
        if self.mode == "conditional":
            result = self.result
            order = np.argsort(result.p)
            ax.errorbar(result.p[order], result.means[order], yerr=1.96 * result.stderrs[order], fmt=".", ms=3,
                        lw=0.6, label=f"Monte Carlo ({result.method}, {result.sign_test.samples} samples)")
            values, _, method = unit_predictions(self.config, result.layer, result.p)
            ax.plot(result.p[order], values[order], "-", lw=1.2, label=f"theory ({method})")
            ax.set_xlabel(f"p_i (layer {result.layer})")
            ax.set_ylabel("E[δ_i | p]")
        else:
            layers = [layer.layer for layer in self.result.layers]
            estimates = [layer.delta_given_positive for layer in self.result.layers]
            ax.errorbar(layers, [e.mean for e in estimates], yerr=[1.96 * e.stderr for e in estimates], fmt="o",
                        label="Monte Carlo")
            if self.comparison:
                ax.plot(layers, [c.prediction for c in self.comparison], "x", ms=9, label="mean field (R4)")
            ax.set_xlabel("hidden layer")
            ax.set_ylabel("E[δ | p > 0]")
            ax.set_xticks(layers)
        ax.axhline(0.0, color="0.6", lw=0.6)
        ax.set_title(f"{self.config.loss}/{self.config.act}/{self.config.init}, width {self.config.width}", fontsize=9)
        ax.legend(fontsize=8)
        return figure


def mc(loss: str = "ce", act: str = "gelu", *, init: str = "normal", scale: str = "he", width: int = 256,
       depth: int = 1, classes: int = 10, input_dim: int | None = None, seed: int = 0, mode: str = "conditional",
       method: str | None = None, layer: int | None = None, samples: int | None = None, alpha: float = 1e-6,
       stop: bool = True, progress: bool = False) -> MonteCarloCheck:
    """Monte Carlo estimates of E[δ] with intervals and the sequential sign test (``driftproof mc``).

    Args:
        mode: ``conditional`` (fix p, resample the downstream weights: E[δ_i | p] per unit, against
            R1/R2 or R4) or ``marginal`` (resample everything: E[δ^l | p > 0] per layer, against R4).
        method: naive, cv, reduced or antithetic (default cv for a zero-mean init, else naive).
        layer: the hidden layer (conditional mode; default the last).
        samples: the budget (default 20000 conditional, 2000 marginal); alpha: family-wise error.
        stop: conditional mode, stop once every sign is resolved (``--no-stop`` is ``stop=False``).
    """
    config = network_config(loss, act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                            input_dim=input_dim, seed=seed)
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "marginal" and layer is not None:
        raise InputError("--layer is for --mode conditional; marginal mode reports every layer")
    method, samples = _mc_defaults(config, mode, method, samples)
    check_memory(mc_budget(config, mode=mode, samples=samples, method=method, layer=layer))
    bar, update = _progress_bar(progress, samples, "mc")
    try:
        if mode == "conditional":
            result = conditional(config, layer=layer, method=method, samples=samples, alpha=alpha, stop_early=stop,
                                 progress=update)
            comparison = compare_conditional(config, result)
        else:  # marginal mode exists to compare with the mean field: always spend the whole budget
            result = marginal(config, method=method, samples=samples, alpha=alpha, progress=update)
            comparison = compare_marginal(config, result)
            trend = tuple(gap_trend(config, comparison, method=method, samples=samples, alpha=alpha))
    finally:
        if bar is not None:
            bar.close()
    return MonteCarloCheck(config, result, comparison, trend if mode == "marginal" else ())


def _mc_defaults(config: Config, mode: str, method: str | None, samples: int | None) -> tuple[str, int]:
    method = method or ("cv" if config.init_dist.zero_mean else "naive")
    return method, samples if samples is not None else (20000 if mode == "conditional" else 2000)


def mc_budget_for(loss: str = "ce", act: str = "gelu", *, mode: str = "conditional", method: str | None = None,
                  layer: int | None = None, samples: int | None = None, **network) -> Budget:
    """The memory and time :func:`mc` would need, estimated before any work (the CLI prints long ones)."""
    config = network_config(loss, act, **network)
    method, samples = _mc_defaults(config, mode, method, samples)
    return mc_budget(config, mode=mode, samples=samples, method=method, layer=layer)


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
        return (f"TrainingRun({s['arch']} {c['loss']}/{c['act']}, {s['data']}, {s['opt']} lr {s['lr']:g}, "
                f"{s['steps']} steps, seeds {list(self.result.seeds)}{diverged})")

    def __str__(self) -> str:
        return run_text(self.result, self.folder)

    def _repr_html_(self) -> str:
        return f"<pre>{escape(str(self))}</pre>"

    def plot(self):
        """Per layer: the sign statistic, the mean weight and the sparsity over training, every seed
        (main in red, tanh control in blue); diverged runs are left out and named in the title.
        Returns a matplotlib Figure (not shown)."""
        from matplotlib.figure import Figure

        depth = int(self.result.config["depth"])
        figure = Figure(figsize=(3.6 * depth, 7.2), layout="constrained")
        axes = figure.subplots(3, depth, squeeze=False)
        stopped = {(d.role, d.seed) for d in self.diverged}
        colours = {"main": "tab:red", "control": "tab:blue"}
        panels = (("sign", "sign statistic E[δ|p>0]"), ("w_mean", "mean weight"), ("zero_frac", "sparsity (h = 0)"))
        for row, (metric, label) in enumerate(panels):
            for layer in range(1, depth + 1):
                ax = axes[row][layer - 1]
                labelled = set()
                for log in self.result.logs:
                    if (log.role, log.seed) in stopped:
                        continue
                    label = None if log.role in labelled else f"{log.act} ({log.role})"
                    labelled.add(log.role)
                    ax.plot(log.columns["step"], log.columns[f"L{layer}.{metric}"], color=colours[log.role],
                            lw=0.8, alpha=0.7, label=label)
                if metric == "sign":
                    ax.axhline(0.0, color="black", lw=0.6)
                ax.set_title(f"layer {layer}", fontsize=8)
                ax.set_xlabel("step", fontsize=8)
                ax.set_ylabel(label, fontsize=8)
        axes[0][0].legend(fontsize=7)
        note = f"; left out (diverged): {sorted(stopped)}" if stopped else ""
        figure.suptitle(repr(self) + note, fontsize=8)
        return figure


def train(loss: str = "ce", act: str = "relu", *, init: str = "normal", scale: str = "he", width: int = 128,
          depth: int = 3, classes: int = 10, input_dim: int | None = None, seed: int = 0, arch: str = "mlp",
          data: str = "noise", opt: str = "sgd", lr: float = 0.05, wd: float = 0.0, momentum: float = 0.9,
          schedule: str = "constant", warmup: int = 0, steps: int = 200, batch: int = 64, seeds: int = 3,
          log_every: int = 1, eval_every: int = 0, n_train: int = 2048, n_test: int = 512, dtype: str = "float64",
          kernel: str = "auto", threads: int = 1, control: bool = True, out: str | Path | None = None,
          figures: bool = True, progress: bool = False) -> TrainingRun:
    """Train small networks and measure whether the sign and the drift persist (``driftproof train``).

    Trains ``seeds`` networks (and the tanh control unless ``control=False``), measuring per layer
    at every logged step the sign statistic, mean weight and bias, sparsity, loss and accuracy
    (DESIGN.md §3); summaries over seeds carry Student-t intervals, and the first step is compared
    with R5. With ``out`` the run folder is written there (CSV, JSON, PNG figures unless
    ``figures=False``) and can be read back with :func:`load`.
    """
    config = network_config(loss, act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                            input_dim=input_dim, seed=seed)
    spec = TrainSpec(arch=arch, data=data, opt=opt, lr=lr, wd=wd, momentum=momentum, schedule=schedule, warmup=warmup,
                     steps=steps, batch=batch, seeds=seeds, log_every=log_every, eval_every=eval_every,
                     n_train=n_train, n_test=n_test, dtype=dtype, kernel=kernel,
                     control="tanh" if control else None, threads=threads)
    check_size(config, spec)
    folder = output_folder(str(out)) if out is not None else None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        runs = 2 if control_activation(config, spec) else 1
        bar = tqdm(total=spec.steps * spec.seeds * runs, desc="train", unit="step")
    try:
        result = train_runs(config, spec, tick=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    if folder is not None:
        folder = save_run(result, folder, figures=figures)
    return TrainingRun(result, folder)


@dataclass(frozen=True)
class ClaimsCheck:
    """The paper's empirical claims C1-C5 (``driftproof claims``), checked against a stored sweep."""

    rows: tuple[Evidence, ...]
    n_results: int
    out: str

    def to_dict(self) -> dict:
        return {"out": self.out, "n_results": self.n_results, "claims": [claim_dict(row) for row in self.rows],
                "environment": environment()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=json_default)

    def __repr__(self) -> str:
        verdicts = ", ".join(f"{row.key.result} {verdict_word(row.verdict)}" for row in self.rows)
        return f"ClaimsCheck({self.n_results} configurations in {self.out}: {verdicts})"

    def __str__(self) -> str:
        return claims_text(list(self.rows), self.n_results, self.out)

    def _repr_html_(self) -> str:
        rows = [[escape(row.key.result), verdict_cell(verdict_word(row.verdict)), escape(statement(row)),
                 escape(evidence_text(row))] for row in self.rows]
        return table_html(["claim", "verdict", "statement", "evidence"], rows,
                          escape(f"{self.n_results} stored configurations in {self.out}"))


def claims(out: str = DEFAULT_OUT) -> ClaimsCheck:
    """The claims C1-C5 from the sweep stored in ``out`` (``driftproof claims``; run :func:`sweep` first).

    Raises:
        InputError: ``out`` holds no sweep results.
    """
    results = SweepStore(out).load()
    if not results:
        raise InputError(f"no sweep results in {out!r}: run `driftproof sweep --out {out}` first")
    return ClaimsCheck(tuple(claims_table(results)), len(results), str(out))


def load(path: str | Path):
    """Read back a saved result: a run folder (TrainingRun), a sweep folder (ClaimsCheck), or the
    JSON that ``verify --json`` wrote (Verification). InputError for anything else."""
    path = Path(path)
    if path.is_dir() and (path / "run.json").exists():
        return TrainingRun(load_run(path), path)
    if path.is_dir() and (path / "results").is_dir():
        return claims(str(path))
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"{str(path)!r} is not a JSON file driftproof wrote ({error})") from None
        if isinstance(data, dict) and "evidence" in data and "verdict" in data:
            return Verification.from_dict(data)
    raise InputError(f"{str(path)!r} is neither a run folder, a sweep folder nor a saved verify result")


def sweep(grid: str = "default", out: str = DEFAULT_OUT, *, scheduler=None, workers: int | None = None,
          progress: bool = False) -> ClaimsCheck:
    """Train a grid of configurations into ``out`` (``driftproof sweep``), then check the claims on it.

    Finished configurations already in ``out`` are skipped (resumable); ``scheduler`` sends the
    work to a Dask cluster (an address such as ``tcp://host:8786``), else local processes.

    Returns:
        The :class:`ClaimsCheck` of the claims C1-C5 against everything stored in ``out``.
    """
    if grid not in GRIDS:
        raise InputError(f"grid must be one of {', '.join(GRIDS)}, got {grid!r}")
    folder = output_folder(str(out))
    jobs = make_grid(grid)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="sweep", unit="config")
    try:
        run_sweep(jobs, SweepStore(folder), scheduler=scheduler, workers=workers,
                  tick=(lambda _: bar.update(1)) if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    return claims(str(folder))


def report(out: str | Path = "report", *, quick: bool = False, pairs: tuple[tuple[str, str], ...] | None = None,
           pdf: bool = True):
    """Build the verification report (``driftproof report``): LaTeX, figures and, with TeX, the PDF.

    Returns:
        The build's ReportResult (folder, tex, pdf or None, missing TeX packages, timings).
    """
    from .reporting import build_report  # matplotlib and the report load only when asked for (~0.3 s)

    for loss, act in pairs or ():
        network_config(loss, act)  # the CLI's validation, before any work
    return build_report(output_folder(str(out)), pairs=pairs, quick=quick, compile=pdf)
