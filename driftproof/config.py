"""The configuration a user names (loss, activation, init, scale, sizes, seed), validated once."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache

from ._version import __version__
from .activations import Activation, get_activation
from .errors import InputError
from .inits import Init, Scale, get_init, get_scale
from .losses import Loss, get_loss

__all__ = ["Config", "environment", "MAX_WIDTH", "MAX_DEPTH", "MAX_CLASSES"]

MAX_WIDTH = 65536
MAX_DEPTH = 64
MAX_CLASSES = 100000
# s^2 * fan_in of every layer: squares and sums of pre-activations must stay far inside float64.
MIN_VARIANCE, MAX_VARIANCE = 1e-200, 1e200


def _power_text(std: float, fan_in: int) -> str:
    """s^2 * fan_in as text even where the float overflows or underflows (1e200 -> '1e+402')."""
    import math

    if std == 0:
        return "0"
    exponent = 2 * math.log10(abs(std)) + math.log10(fan_in)
    return f"1e{exponent:+.0f}" if not 1e-300 < std * std * fan_in < 1e300 else f"{std * std * fan_in:.3g}"


def _positive_int(value, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{what} must be an integer, got {value!r}") from None
        if not as_float.is_integer():
            raise InputError(f"{what} must be an integer, got {value!r}")
        value = int(as_float)
    if not low <= value <= high:
        raise InputError(f"{what} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class Config:
    """A network at initialization: depth hidden layers of equal width, K outputs.

    Inputs x ~ N(0, I_d) (d = ``input_dim``, default the width), biases 0, every weight
    matrix drawn from ``init`` with the per-layer std given by ``scale``.
    """

    loss: str = "ce"
    act: str = "gelu"
    init: str = "normal"
    scale: str = "he"
    width: int = 256
    depth: int = 1
    classes: int = 10
    input_dim: int | None = None
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "width", _positive_int(self.width, "width", 2, MAX_WIDTH))
        object.__setattr__(self, "depth", _positive_int(self.depth, "depth", 1, MAX_DEPTH))
        object.__setattr__(self, "classes", _positive_int(self.classes, "classes", 2, MAX_CLASSES))
        if self.input_dim is not None:
            object.__setattr__(self, "input_dim", _positive_int(self.input_dim, "input_dim", 1, MAX_WIDTH))
        object.__setattr__(self, "seed", _positive_int(self.seed, "seed", 0, 2**63 - 1))
        # Resolve every name now so bad input fails before any work starts.
        _ = self.activation, self.loss_fn, self.init_dist, self.scale_rule
        self._check_variances()

    def _check_variances(self) -> None:
        """Refuse a scale whose per-layer variance s^2 * fan_in leaves float64's normal range
        (std=1e200 squares to 1e400): every kind of evidence computes with it."""
        shift = self.init_dist.mean_shift
        for (fan_in, _), std in zip(self.fans, self.stds):
            variance = std * std * fan_in
            if not MIN_VARIANCE <= variance <= MAX_VARIANCE:
                raise InputError(f"scale {self.scale!r} gives a layer of fan-in {fan_in} the pre-activation "
                                 f"variance {std:.3g}^2 * {fan_in} = {_power_text(std, fan_in)}, outside "
                                 f"[{MIN_VARIANCE:g}, {MAX_VARIANCE:g}] where float64 arithmetic stays exact enough")
            if shift * shift * fan_in > MAX_VARIANCE:  # a shifted init's mean: the same bound on E[W^2] * fan_in
                raise InputError(f"init {self.init!r} gives a layer of fan-in {fan_in} the pre-activation second "
                                 f"moment mean^2 * {fan_in} = {_power_text(shift, fan_in)}, above {MAX_VARIANCE:g} "
                                 "where float64 arithmetic stays exact enough")

    @cached_property
    def activation(self) -> Activation:
        return get_activation(self.act)

    @cached_property
    def loss_fn(self) -> Loss:
        return get_loss(self.loss)

    @cached_property
    def init_dist(self) -> Init:
        return get_init(self.init)

    @cached_property
    def scale_rule(self) -> Scale:
        return get_scale(self.scale)

    @property
    def d_in(self) -> int:
        return self.input_dim or self.width

    @property
    def fans(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of W^1..W^L and of the output layer V, in order."""
        sizes = [self.d_in] + [self.width] * self.depth + [self.classes]
        return list(zip(sizes[:-1], sizes[1:]))

    @property
    def stds(self) -> list[float]:
        """Per-entry std s_l of W^1..W^L, then s_V of the output layer."""
        return [self.scale_rule.std(fan_in, fan_out) for fan_in, fan_out in self.fans]

    def to_dict(self) -> dict:
        out = {key: value for key, value in asdict(self).items()}
        out["input_dim"] = self.d_in
        out["activation_expression"] = str(self.activation.expr)
        out["act_name"], out["init_name"] = self.activation.name, self.init_dist.name
        return out


def environment() -> dict:
    """Versions that a result depends on, recorded with every run."""
    import numpy
    import scipy
    import sympy

    return {"driftproof": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__, "numba": _numba_version(),
            "platform": platform.platform()}


@lru_cache(maxsize=1)
def _numba_version() -> str:
    """Numba's version, read from its metadata where it is not loaded (importing it costs ~0.2 s)."""
    import sys
    from importlib.metadata import version

    return sys.modules["numba"].__version__ if "numba" in sys.modules else version("numba")
