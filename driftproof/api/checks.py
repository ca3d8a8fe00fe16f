"""Checks of the claim at initialization: ``verify`` (every kind of evidence), ``derive`` (R1-R5, step
by step) and ``mc`` (Monte Carlo with intervals and the sequential sign test)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

import numpy as np

from ..budget import Budget, check_memory, mc_budget
from ..config import Config, environment
from ..envcheck import check_jit, check_numba_threads
from ..errors import InputError
from ..archs import all_archs, get_arch
from ..verification import KINDS
from ..verification import verify as _verify
from ..montecarlo import compare_conditional, compare_marginal, conditional, marginal
from ..montecarlo.compare import Comparison
from ..montecarlo.gap import GapTrend, gap_trend
from ..montecarlo.outcomes import ConditionalResult, MarginalResult
from ..render import montecarlo_text
from ..results import Verdict, Verification, json_default
from ..theory.derivation import Derivation
from .common import network_config, progress_bar

__all__ = ["verify", "verify_budget_for", "derive", "mc", "mc_budget_for", "Derivations", "MonteCarloCheck", "MODES",
           "DERIVE_ARCHS"]

MODES = ("conditional", "marginal")
# the architectures with derivations (mlp: R1-R5; resmlp: R1-R6): their registry entries say which
DERIVE_ARCHS = tuple(arch.name for arch in all_archs() if arch.derivations is not None)


def _resolved(arch: str, loss: str, options: dict) -> dict:
    """The options with each None replaced by the architecture's default; InputError (one line) for an option
    or a loss that does not apply to it."""
    entry = get_arch(arch)
    entry.refuse_options(options)
    entry.check_loss(loss)
    return {name: entry.verify_defaults.get(name) if value is None else value for name, value in options.items()}


def verify(loss: str = "ce", act: str = "gelu", *, init: str | None = None, scale: str | None = None,
           width: int | None = None, depth: int | None = None, classes: int | None = None,
           input_dim: int | None = None, seed: int = 0, arch: str = "mlp",
           only: tuple[str, ...] | list[str] | str | None = None, progress: bool = False) -> Verification:
    """Check the claim E[δ_i | p] ≥ 0 for p_i > 0 at init with every kind of evidence (``driftproof verify``).

    Args:
        loss, act, init, scale, width, depth, classes, input_dim, seed: the network (as the CLI's options);
            None: the architecture's default (mlp, resmlp: init normal, scale he, width 256, depth 1,
            10 classes; gpt, vit: width 32, depth 2, and init, scale, classes and input_dim must stay None).
        arch: ``mlp`` (results R1-R5), ``resmlp`` (pre-norm residual MLP, R6), ``gpt`` (the paper's
            GPT: R6's scope, the sign at t = 0 over independent inits, a short training run) or ``vit``
            (the same for the ViT on the digits).
        only: the kinds of evidence to run, among ``symbolic``, ``montecarlo``, ``training`` (default all).
        progress: progress bars (tqdm's auto mode: a widget in a notebook).

    Returns:
        A :class:`~driftproof.results.Verification`: ``verdict``, ``evidence`` rows, ``exit_code``.
    """
    if not isinstance(arch, str):  # the registry's look-up is cached: an unhashable name would not reach its check
        raise InputError(f"arch must be a name (a string), got {arch!r}")
    options = _resolved(arch, loss, {"init": init, "scale": scale, "width": width, "depth": depth,
                                     "classes": classes, "input_dim": input_dim})
    config = network_config(loss, act, seed=seed, **options)
    kinds = KINDS if only is None else ((only,) if isinstance(only, str) else tuple(only))
    unknown = [kind for kind in kinds if not isinstance(kind, str) or kind not in KINDS]
    if unknown or not kinds:
        raise InputError(f"only must name kinds of evidence among {', '.join(KINDS)}, got {only!r}")
    if "montecarlo" in kinds:
        check_numba_threads()
        check_jit()
    return _verify(config, arch=arch, progress=progress, kinds=kinds)


def verify_budget_for(loss: str = "ce", act: str = "gelu", *, arch: str = "gpt", seed: int = 0,
                      **network) -> Budget:
    """The time and memory :func:`verify` would need for ``arch`` (its registry entry's ``verify_budget``),
    estimated before any work (the CLI states it up front for a ``long_verify`` architecture); InputError for
    options that do not apply."""
    options = _resolved(arch, loss, {name: network.get(name) for name in
                                     ("init", "scale", "width", "depth", "classes", "input_dim")})
    return get_arch(arch).verify_budget(network_config(loss, act, seed=seed, **options))


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

    def plot(self):
        """The sign map of the activation (R3): σσ'(p) with its proved sign intervals shaded.
        Returns a matplotlib Figure (not shown)."""
        from ..activations import get_activation
        from ..render.plots import sign_map_figure
        from ..theory.signmap import sign_map

        activation = get_activation(self.config["act"])
        return sign_map_figure(activation, sign_map(activation).intervals, repr(self))


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
    entry = get_arch(arch)
    if entry.derivations is None:
        raise InputError(f"arch must be one of {', '.join(DERIVE_ARCHS)}, got {arch!r} ({entry.no_derivation})")
    return Derivations(config.to_dict(), tuple(entry.derivations(config)))


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

    def text(self, units: bool = False, wide: bool = False) -> str:
        """The command line's report; ``units`` adds one line per unit (conditional mode); it wraps
        to the terminal unless ``wide``."""
        comparison = self.comparison if self.mode == "conditional" else None
        predicted = ((np.asarray(comparison.units), comparison.exact, comparison.method)
                     if units and comparison is not None and comparison.units is not None else None)
        return montecarlo_text(self.config, self.result, self.comparison, predicted, self.trend, wide=wide)

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
        from ..render.plots import draw_conditional, new_figure

        figure, axes = new_figure(6.4, 4.0)
        ax = axes[0][0]
        if self.mode == "conditional":
            result, comparison = self.result, self.comparison
            draw_conditional(ax, result.p, result.means, result.stderrs, result.layer,
                             f"Monte Carlo ({result.method}, {result.sign_test.samples} samples, 95%)",
                             comparison.units if comparison is not None else None,
                             comparison.method if comparison is not None else "")
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
    if not isinstance(mode, str) or mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    _check_mc_types(method=method, layer=layer, samples=samples, alpha=alpha)
    check_numba_threads()
    check_jit()
    if mode == "marginal" and layer is not None:
        raise InputError("--layer is for --mode conditional; marginal mode reports every layer")
    method, samples = _mc_defaults(config, mode, method, samples)
    check_memory(mc_budget(config, mode=mode, samples=samples, method=method, layer=layer))
    with progress_bar(progress, samples, "mc", "net") as bar:
        update = (lambda done: bar.update(done - bar.n)) if bar is not None else None
        if mode == "conditional":
            result = conditional(config, layer=layer, method=method, samples=samples, alpha=alpha, stop_early=stop,
                                 progress=update)
            comparison = compare_conditional(config, result)
        else:  # marginal mode exists to compare with the mean field: always spend the whole budget
            result = marginal(config, method=method, samples=samples, alpha=alpha, progress=update)
            comparison = compare_marginal(config, result)
    if mode == "conditional":
        return MonteCarloCheck(config, result, comparison)
    return MonteCarloCheck(config, result, comparison,
                           tuple(gap_trend(config, comparison, method=method, samples=samples, alpha=alpha)))


def _check_mc_types(*, method, layer, samples, alpha) -> None:
    """The types of mc's own arguments (their ranges are checked where they are used), one line each."""
    if method is not None and not isinstance(method, str):
        raise InputError(f"method must be a name (a string), got {method!r}")
    for name, value in (("layer", layer), ("samples", samples)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise InputError(f"{name} must be an integer, got {value!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)):
        raise InputError(f"alpha must be a number, got {alpha!r}")


def _mc_defaults(config: Config, mode: str, method: str | None, samples: int | None) -> tuple[str, int]:
    method = method or ("cv" if config.init_dist.zero_mean else "naive")
    return method, samples if samples is not None else (20000 if mode == "conditional" else 2000)


def mc_budget_for(loss: str = "ce", act: str = "gelu", *, mode: str = "conditional", method: str | None = None,
                  layer: int | None = None, samples: int | None = None, **network) -> Budget:
    """The memory and time :func:`mc` would need, estimated before any work (the CLI prints long ones)."""
    config = network_config(loss, act, **network)
    _check_mc_types(method=method, layer=layer, samples=samples, alpha=0.0)
    method, samples = _mc_defaults(config, mode, method, samples)
    return mc_budget(config, mode=mode, samples=samples, method=method, layer=layer)
