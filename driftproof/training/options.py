"""The training options, each declared once: its type, default, allowed values and help.

The table drives the fields and validation of :class:`~driftproof.training.spec.TrainSpec`, the keyword
arguments and defaults of :func:`driftproof.api.train` and the options of ``driftproof train``. An option
marked ``per_arch`` takes its default from the architecture's ``train_defaults`` (:mod:`driftproof.archs`)
wherever it is left None; its ``default`` here is the plain MLP's (TrainSpec's own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..archs import MLP_TRAIN_DEFAULTS
from ..data import DATASETS
from ..errors import InputError
from ..network import DTYPES
from ..optim import OPTIMIZERS, SCHEDULES
from ..pointwise import KERNELS

__all__ = ["Option", "TRAIN_OPTIONS", "OPTIONS", "MAX_STEPS", "per_arch_text"]

MAX_STEPS = 10**7
_MLP = MLP_TRAIN_DEFAULTS


@dataclass(frozen=True)
class Option:
    """One training option.

    Attributes:
        type: int, float or str (the value's; None is allowed where the default is None).
        choices: the allowed values of a str option; ``low``/``high``: an int option's range.
        sign: a float option's bound, ``positive`` or ``non-negative`` (None: any finite number).
        per_arch: the architecture's ``train_defaults`` give its default (None in the API and the CLI).
        flag: the command line's flag where it is not ``--<name>`` (``clip_norm``: ``--clip``).
    """

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    low: int | None = None
    high: int | None = None
    sign: str | None = None
    per_arch: bool = False
    flag: str | None = None
    metavar: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def check_choice(self, value) -> None:
        if self.choices is not None and value not in self.choices:
            raise InputError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}")

    def check_number(self, value) -> None:
        """InputError unless an int option's value is an integer in its range, or a float option's finite."""
        if value is None and self.default is None:
            return
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
                raise InputError(f"{self.name} must be an integer between {self.low} and {self.high}, got {value!r}")
        elif self.type is float and (not isinstance(value, (int, float)) or not math.isfinite(value)):
            raise InputError(f"{self.name} must be a finite number, got {value!r}")

    def check_sign(self, value) -> None:
        if self.sign == "positive" and value <= 0:
            raise InputError(f"{self.name} must be positive, got {value!r}")
        if self.sign == "non-negative" and value < 0:
            raise InputError(f"{self.name} must be non-negative, got {value!r}")


# In TrainSpec's field order (its JSON's key order); ``control`` (a name, or None) sits between kernel and
# threads there and is the API's ``control=True`` and the CLI's ``--no-control``.
TRAIN_OPTIONS: tuple[Option, ...] = (
    Option("data", str, _MLP["data"], "data set", choices=DATASETS, per_arch=True),
    Option("opt", str, _MLP["opt"], "optimizer", choices=OPTIMIZERS, per_arch=True),
    Option("lr", float, _MLP["lr"], "learning rate (Muon at 0.1x)", sign="positive", per_arch=True),
    Option("wd", float, 0.0, "weight decay, weights only", sign="non-negative"),
    Option("momentum", float, 0.9, "momentum coefficient"),
    Option("schedule", str, "constant", "lr schedule", choices=SCHEDULES),
    Option("warmup", int, 0, "warmup steps for warmup_cosine", low=0, high=MAX_STEPS),
    Option("steps", int, 200, "optimizer steps", low=1, high=MAX_STEPS),
    Option("batch", int, _MLP["batch"], "batch size", low=1, high=10**6, per_arch=True),
    Option("seeds", int, 3, "seeds: --seed, --seed+1, ...", low=1, high=1000),
    Option("log_every", int, 1, "measure every k steps", low=1, high=MAX_STEPS),
    Option("eval_every", int, 0, "held-out evaluation every k steps (0: ~20 per run)", low=0, high=MAX_STEPS),
    Option("n_train", int, 2048, "training set size, noise/teacher", low=2, high=10**7),
    Option("n_test", int, _MLP["n_test"], "held-out set size", low=1, high=10**7, per_arch=True),
    Option("dtype", str, _MLP["dtype"], "floating-point type", choices=tuple(DTYPES), per_arch=True),
    Option("kernel", str, "auto", "activation kernel: numpy, numba (compiled, fast) or auto", choices=KERNELS),
    Option("threads", int, 1, "BLAS threads, 0 = library default; small nets run fastest on 1", low=0, high=1024),
    # the transformers' shape (archs/gpt.py, archs/vit.py)
    Option("heads", int, 4, "gpt/vit: attention heads", low=1, high=1024),
    Option("context", int, 64, "gpt: context length", low=2, high=4096),
    Option("norm", str, "rms", "gpt/vit: RMSNorm or LayerNorm in the blocks", choices=("rms", "layer")),
    Option("clip_norm", float, None, "clip the gradient's global L2 norm to NORM before each update (default: no "
           "clipping)", flag="--clip", metavar="NORM"),
)
OPTIONS = {option.name: option for option in TRAIN_OPTIONS}


def per_arch_text(name: str) -> str:
    """'0.05 for mlp, resmlp; 0.003 for gpt, vit': an architecture-dependent default, from the registry."""
    from ..archs import all_archs

    by_value: dict[str, list[str]] = {}
    for arch in all_archs():
        by_value.setdefault(f"{arch.train_defaults[name]:g}" if isinstance(arch.train_defaults[name], float)
                            else str(arch.train_defaults[name]), []).append(arch.name)
    return "; ".join(f"{value} for {', '.join(names)}" for value, names in by_value.items())
