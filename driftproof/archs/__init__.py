"""The registry of architectures: one module per architecture, each defining ``ARCH``, an :class:`Arch`.

An :class:`Arch` is everything the package knows about one network: its builder, its own shape
options (a frozen dataclass), its defaults for ``train`` and ``verify``, the options that do not
apply to it (refused with one line), the data sets it trains on, the evidence sources of
``verify``, its derivations, its training metrics, its sweep grid shape, and its display name and
family. The rest of the package looks an architecture up here (:func:`get_arch`) and never
compares its name.

To add an architecture: write ``driftproof/archs/<name>.py`` defining ``ARCH`` and add ``<name>`` to
:data:`NAMES` (``docs/extending.md``).

The modules are found by name (:func:`get_arch` imports ``driftproof.archs.<name>`` on first use):
an architecture sits above the core it plugs into (the training loop, the evidence, the theory),
while the core looks architectures up, so the imports stay one-way: this package imports none of
its architecture modules, and an architecture module imports the core it needs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable, Mapping

from ..errors import InputError

__all__ = ["Arch", "Renderer", "NAMES", "get_arch", "all_archs", "families", "family_of", "check_arch", "MLP_TRAIN_DEFAULTS",
           "MLP_VERIFY_DEFAULTS", "arch_help"]

# The registry's list: the architecture modules, in the order commands and tables list them.
NAMES = ("mlp", "resmlp", "gpt", "vit", "glu")

# The defaults of the options whose good value depends on the architecture: ``train`` (depth, data,
# optimizer, learning rate, batch, held-out size, dtype) and ``verify`` (the network at init).
MLP_TRAIN_DEFAULTS = {"depth": 3, "data": "noise", "opt": "sgd", "lr": 0.05, "batch": 64, "n_test": 512,
                      "dtype": "float64"}
MLP_VERIFY_DEFAULTS = {"init": "normal", "scale": "he", "width": 256, "depth": 1, "classes": 10}


@dataclass(frozen=True)
class Renderer:
    """How an architecture's own evidence rows read: each row's label and details, the verdict line's addition,
    and ``Verification.plot()``'s figure (each takes what ``render.rows`` would)."""

    row_name: Callable
    row_summary: Callable
    headline: Callable
    figure: Callable


def _no_renderer():
    return None


@dataclass(frozen=True)
class Arch:
    """One architecture: what ``train``, ``verify``, ``derive``, ``sweep`` and the report need of it.

    Attributes:
        name: the ``--arch`` value (and the module's name).
        title: display name ("MLP"); ``help``: its line in ``--help``.
        family: the sweep family whose claims table its runs join; ``family_title`` and
            ``family_name``: the family's display names (set on the family's first architecture).
        network: the builder, ``network(config, activation, *, rng, dtype, kernel, **shape)``.
        shape: the frozen dataclass of its own shape options beyond :class:`~driftproof.config.Config`
            (the transformers' heads, context and norm), or None.
        datasets: the data sets it trains on, its default first.
        train_defaults, verify_defaults: the defaults of the options left None.
        not_for: option -> why it does not apply (``verify`` refuses it with one line).
        task: for an architecture that trains with one loss only, why (``losses`` lists the loss).
        losses: the losses it accepts, or None for any.
        sources: verify's evidence sources, in table order (a callable: they import the evidence).
        derivations: ``derive``'s derivations for a config, in reading order, or None if it has none (then
            ``derive --arch`` refuses it, saying ``no_derivation``).
        metrics: the training observer, ``metrics(depth, loss, data, spec)``, and ``columns(depth)``.
        mean_field: the plain MLP's theory applies in training: the first step is compared with R5 (on Gaussian
            inputs), and the report predicts the self/label crossover and the blow-up step.
        pytorch_init: its weights are drawn as PyTorch draws them (``--init``/``--scale`` do not apply).
        paper_metrics: training summarizes the paper's metrics (spikes, sparsity per block) at start and end.
        sweep_kernel: the activation kernel of its sweep jobs (numba where a job evaluates ~1e9 activations).
        statement: the claim as the verdict line states it.
        renderer: its rows' own :class:`Renderer` (None: they read as an MLP's, :mod:`driftproof.render.rows`).
        grid: its sweep jobs' shape (``arch``, ``data``, ``opt``, ``lr``, sizes) in the ``transformer`` grid,
            or None; ``grid_quick``: what ``transformer_quick`` changes in it.
        long_verify: ``verify`` states its time before any work (and refuses it over the limit).
    """

    name: str
    title: str
    help: str
    family: str
    network: Callable[..., Any]
    datasets: tuple[str, ...]
    sources: Callable[[], tuple]
    metrics: Callable[..., Any]
    columns: Callable[[int], list[str]]
    train_defaults: Mapping[str, Any] = field(default_factory=lambda: dict(MLP_TRAIN_DEFAULTS))
    verify_defaults: Mapping[str, Any] = field(default_factory=lambda: dict(MLP_VERIFY_DEFAULTS))
    not_for: Mapping[str, str] = field(default_factory=dict)
    losses: tuple[str, ...] | None = None
    task: str = ""
    shape: type | None = None
    derivations: Callable | None = None
    no_derivation: str = ""
    derives: str = ""  # what ``derive --arch`` prints for it, in a few words
    mean_field: bool = False
    pytorch_init: bool = False
    paper_metrics: bool = False
    sweep_kernel: str = "numpy"
    statement: str = "E[δ|p] ≥ 0 for p > 0"
    renderer: Callable[[], Renderer | None] = _no_renderer
    grid: Mapping[str, Any] | None = None
    grid_quick: Mapping[str, Any] = field(default_factory=dict)
    long_verify: bool = False
    family_title: str = ""
    family_name: str = ""
    extra_params: Callable[[int, int, int], int] | None = None  # weights beyond the MLP's: (d_in, width, depth)
    floats_per_unit: int = 4
    budget: Callable | None = None  # verify's time and memory for a config (or override verify_budget)

    @property
    def default_data(self) -> str:
        return self.datasets[0]

    def build(self, config, activation=None, *, rng, dtype: str = "float64", kernel: str = "numpy", **shape):
        """The network at initialization; InputError for a shape option it does not take."""
        allowed = () if self.shape is None else tuple(self.shape.__dataclass_fields__)
        unknown = [name for name in shape if name not in allowed]
        if unknown:
            raise InputError(f"{', '.join(unknown)} do not apply to arch {self.name!r}")
        return self.network(config, activation, rng=rng, dtype=dtype, kernel=kernel, **shape)

    def shape_of(self, spec) -> dict:
        """The builder's shape keyword arguments that a TrainSpec names (nothing for an architecture without)."""
        return {} if self.shape is None else {name: getattr(spec, name) for name in self.shape.__dataclass_fields__
                                              if hasattr(spec, name)}

    def check_loss(self, loss: str) -> None:
        if self.losses is not None and loss not in self.losses:
            raise InputError(f"--arch {self.name} is {self.task}: --loss must be {' or '.join(self.losses)}, "
                             f"got {loss!r}")

    def check_data(self, data: str) -> None:
        """InputError unless it trains on ``data`` (the data set names have been checked)."""
        if data in self.datasets:
            return
        if len(self.datasets) == 1:
            raise InputError(f"arch {self.name} trains on data {self.datasets[0]}, got data {data!r}")
        readers = [arch.name for arch in all_archs() if data in arch.datasets]
        raise InputError(f"data {data} needs arch {' or '.join(readers)}, got arch {self.name!r}")

    def refuse_options(self, options: Mapping[str, Any]) -> None:
        """InputError (one line) for an option given that does not apply to this architecture."""
        for name, why in self.not_for.items():
            if options.get(name) is not None:
                raise InputError(f"--{name.replace('_', '-')} does not apply to --arch {self.name}: {why}")

    def parameter_count(self, d_in: int, width: int, depth: int, classes: int) -> int:
        """Weights of an MLP-like network (the estimates of time and memory)."""
        extra = 0 if self.extra_params is None else self.extra_params(d_in, width, depth)
        return d_in * width + width * width * (depth - 1) + width * classes + extra

    def estimate_bytes(self, config, spec) -> int:
        """Memory for data, parameters (+ gradients and optimizer state) and cached activations."""
        d = config.d_in if spec.data != "digits" else 64
        params = self.parameter_count(d, config.width, config.depth, config.classes)
        itemsize = 4 if spec.dtype == "float32" else 8
        activations = max(spec.batch, spec.n_test) * config.width * config.depth * self.floats_per_unit
        data = 0 if spec.data == "digits" else (spec.n_train + spec.n_test) * d * 8
        return int(4 * params * itemsize + activations * itemsize + data)

    def kernel_elements(self, config, spec) -> float:
        """Activations evaluated over the runs' steps, per run (what ``--kernel auto`` weighs)."""
        return float(spec.steps) * spec.batch * config.width * config.depth

    def verify_budget(self, config):
        """The time and memory of ``verify --arch`` for this config (a :class:`~driftproof.budget.Budget`)."""
        return self.budget(config)

    def describe(self, config) -> dict:
        """Entries of a Verification's configuration beyond the config's own."""
        return {}

    def rows_init(self, config) -> str:
        """The init its evidence rows are keyed by (the verdict weighs Monte Carlo rows of this init)."""
        return config.init_dist.name


def arch_help(names=NAMES, what: str = "help") -> str:
    """``--arch``'s help: each architecture's ``help`` (or ``derives``), one after the other."""
    return "; ".join(f"{name}: {getattr(get_arch(name), what)}" for name in names)


def check_arch(name: str) -> str:
    if name not in NAMES:
        raise InputError(f"arch must be one of {', '.join(NAMES)}, got {name!r}")
    return name


@functools.cache
def get_arch(name: str) -> Arch:
    """The architecture ``name``; InputError for a name not in the registry."""
    return import_module(f"{__name__}.{check_arch(name)}").ARCH


def all_archs() -> tuple[Arch, ...]:
    return tuple(get_arch(name) for name in NAMES)


def families() -> dict[str, tuple[str, ...]]:
    """Sweep family -> its architectures, in registry order."""
    out: dict[str, tuple[str, ...]] = {}
    for arch in all_archs():
        out[arch.family] = out.get(arch.family, ()) + (arch.name,)
    return out


def family_of(name: str) -> str:
    return get_arch(name).family


def family_titles() -> dict[str, str]:
    """Family -> its title in figures ("MLP / ResMLP")."""
    return {arch.family: arch.family_title for arch in all_archs() if arch.family_title}


def family_names() -> dict[str, str]:
    """Family -> its name in tables ("MLP and residual MLP")."""
    return {arch.family: arch.family_name for arch in all_archs() if arch.family_name}


__all__ += ["family_titles", "family_names"]
