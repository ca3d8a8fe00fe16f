"""The one vocabulary of results: verdicts, estimates with intervals, evidence rows.

Theory, Monte Carlo, training, sweeps, claims, the report cache and the CLI all speak these
frozen dataclasses; each serializes with ``to_dict`` and reads back with ``from_dict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Callable

import numpy as np

__all__ = ["json_default", "Verdict", "HOLDS", "VIOLATED", "INCONCLUSIVE", "ZERO", "INFO", "combine", "Estimate",
           "RowKey", "Evidence", "Verification", "register_display",
           "register_payload"]

# How a result shows itself (text, HTML, figure) is registered by driftproof.render, which the package
# root imports: renderers import this vocabulary, never the reverse (the import-cycle test checks it).
_DISPLAY: dict[tuple[type, str], Callable] = {}


def register_display(kind: type, form: str, function: Callable) -> None:
    """Make ``function(result, ...)`` the ``form`` (``text``, ``html`` or ``figure``) of results of type ``kind``."""
    _DISPLAY[(kind, form)] = function


# Which typed payload an evidence row holds is told by driftproof.payloads (imported by the package root),
# which defines the payloads on top of this module's Estimate and RowKey.
_PAYLOAD_TYPES: list[Callable] = []


def register_payload(lookup: Callable) -> None:
    """``lookup(kind, key)`` names the payload class of a row (or None: the row keeps a plain dict)."""
    _PAYLOAD_TYPES[:] = [lookup]


def _payload(kind: str, key, numbers):
    """A row's numbers as its typed payload (a dict, e.g. read from JSON, becomes one where a type is known)."""
    if not isinstance(numbers, dict) or not _PAYLOAD_TYPES:
        return numbers
    kind_of = _PAYLOAD_TYPES[0](kind, key)
    return numbers if kind_of is None else kind_of.from_dict(numbers)


def _display(result, form: str):
    function = _DISPLAY.get((type(result), form))
    if function is None:
        raise LookupError(f"no {form} renderer registered for {type(result).__name__}: import driftproof.render")
    return function


def json_default(value):
    """``json.dumps(default=...)`` for numpy scalars and arrays and enums, used by every JSON writer."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON-serializable: {type(value).__name__}")


class Verdict(StrEnum):
    """What a piece of evidence (or the whole check) says about the claim."""

    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"
    ZERO = "zero"  # a row's expectation is exactly 0: the claim holds only non-strictly (no drift)
    INFO = "info"  # informs, does not decide

    @property
    def exit_code(self) -> int:
        """The command line's exit status: 0 holds (zero: holds non-strictly, as verify says), 1 violated,
        3 inconclusive."""
        codes = {Verdict.HOLDS: 0, Verdict.ZERO: 0, Verdict.VIOLATED: 1, Verdict.INCONCLUSIVE: 3}
        if self not in codes:
            raise ValueError(f"{self.value!r} has no exit status")
        return codes[self]


HOLDS, VIOLATED, INCONCLUSIVE, ZERO, INFO = (Verdict.HOLDS, Verdict.VIOLATED, Verdict.INCONCLUSIVE, Verdict.ZERO,
                                            Verdict.INFO)


def combine(verdicts) -> Verdict:
    """violated if any row is violated; holds if every deciding row holds or is zero; else inconclusive.

    A ``zero`` row (the expectation proved to be exactly 0) satisfies E >= 0 but not its strict
    form: the whole verdict is then *holds*, and the text says "non-strictly" (see
    :attr:`Verification.strict`).
    """
    deciding = [Verdict(v) for v in verdicts if v != INFO]
    if VIOLATED in deciding:
        return VIOLATED
    if deciding and all(v in (HOLDS, ZERO) for v in deciding):
        return HOLDS
    return INCONCLUSIVE


def _finite_or_none(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _none_to_nan(value):
    return math.nan if value is None else value


@dataclass(frozen=True)
class Estimate:
    """A number with its uncertainty: never a bare number.

    ``method`` says how the interval was made: ``normal`` (mean ± z·stderr), ``student_t``
    (over a few replicates, e.g. seeds), ``bootstrap``, ``quadrature`` (± the integrator's
    error bound), ``exact``; a Monte Carlo estimator may name itself after a colon
    (``normal: antithetic``). Undefined parts (one replicate: no stderr, no interval) are NaN
    in memory and null in JSON. ``values`` keeps the replicates when there are few (seeds).
    """

    mean: float
    stderr: float
    n: int
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    seed: int | None = None
    values: tuple[float, ...] | None = None

    @classmethod
    def normal(cls, mean: float, stderr: float, n: int, confidence: float, method: str = "normal",
               seed: int | None = None) -> Estimate:
        """A normal-approximation interval mean ± z_{(1+c)/2} · stderr."""
        from scipy.special import ndtri  # on first use: scipy.special costs ~0.2-0.5 s at import

        half = float(ndtri(0.5 + confidence / 2)) * stderr
        return cls(float(mean), float(stderr), int(n), float(mean - half), float(mean + half), confidence, method,
                   seed)

    from_moments = normal

    @classmethod
    def student_t(cls, values, confidence: float = 0.95, method: str = "student_t") -> Estimate:
        """Mean and Student-t interval over a few replicates (non-finite values dropped)."""
        data = np.array([v for v in values if v is not None and math.isfinite(v)], float)
        n = len(data)
        mean = float(data.mean()) if n else math.nan
        stderr = low = high = math.nan
        if n >= 2:
            from scipy.special import stdtrit  # on first use, as ndtri

            with np.errstate(over="ignore", invalid="ignore"):  # huge values of a diverging run: no interval
                std = float(data.std(ddof=1))
                stderr = std / math.sqrt(n)
                # t * std / sqrt(n) in this order: the interval the training summaries always printed
                half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * std / math.sqrt(n)
            low, high = mean - half, mean + half
        return cls(mean, stderr, n, low, high, confidence, method, None, tuple(float(v) for v in data))

    def within(self, low: float = -math.inf, high: float = math.inf) -> Estimate:
        """The interval cut to the parameter's range [low, high] (a loss is >= 0, a fraction in [0, 1]).

        The parameter lies in its range, so the cut interval covers it whenever the uncut one
        did: the confidence level is kept. The method says the interval was cut.
        """
        if not (self.ci_low < low or self.ci_high > high):
            return self
        return Estimate(self.mean, self.stderr, self.n, max(self.ci_low, low), min(self.ci_high, high),
                        self.confidence, f"{self.method}, cut to [{low:g}, {high:g}]", self.seed, self.values)

    @classmethod
    def exact(cls, value: float, method: str = "exact") -> Estimate:
        """A value known exactly (zero-width interval, confidence 1)."""
        value = float(value)
        return cls(value, 0.0, 0, value, value, 1.0, method)

    @classmethod
    def bounded(cls, value: float, error: float, method: str = "quadrature") -> Estimate:
        """A value within ± ``error`` (e.g. a quadrature's error bound), confidence 1."""
        return cls(float(value), float(error), 0, float(value - error), float(value + error), 1.0, method)

    @property
    def is_exact(self) -> bool:
        """True for a value known exactly (method ``exact...``), not merely with a small error."""
        return self.method.startswith("exact")

    @property
    def defined(self) -> bool:
        """True when the interval exists (finite bounds)."""
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    @property
    def sign(self) -> int:
        """+1 / -1 if the interval excludes 0, else 0 (unresolved or undefined)."""
        if self.ci_low > 0:
            return 1
        if self.ci_high < 0:
            return -1
        return 0

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high

    def __repr__(self) -> str:
        n = f", n={self.n}" if self.n else ""
        return (f"Estimate({self.mean:.6g} ± {self.stderr:.2g}, {self.confidence:g} interval "
                f"[{self.ci_low:.6g}, {self.ci_high:.6g}]{n}, {self.method})")

    def _repr_html_(self) -> str:
        return _display(self, "html")(self)

    def to_dict(self) -> dict:
        out = {f.name: _finite_or_none(getattr(self, f.name)) for f in fields(self)}
        if self.values is None:
            del out["values"]
        else:
            out["values"] = [_finite_or_none(v) for v in self.values]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Estimate:
        values = data.get("values")
        return cls(_none_to_nan(data["mean"]), _none_to_nan(data["stderr"]), int(data["n"]),
                   _none_to_nan(data["ci_low"]), _none_to_nan(data["ci_high"]), float(data["confidence"]),
                   data["method"], data.get("seed"), None if values is None else tuple(map(_none_to_nan, values)))


@dataclass(frozen=True)
class RowKey:
    """What an evidence row is about, for code to select on (never the words printed for a reader).

    ``result`` names the check: R1-R6 (DESIGN.md §2), ``MC`` (Monte Carlo sign test), ``train``
    (a training run), C1-C5 and ``T0`` (a sweep's claims); ``layer``, ``init`` and ``data`` locate it.
    ``arch`` names the architecture (family) the row is about: ``gpt`` for the transformer arm of
    verify, the family (mlp, gpt, vit) for a claim row; None where it is the verification's own
    (the rows of ``verify --arch mlp|resmlp``, and rows stored before the field existed).
    """

    result: str
    layer: int | None = None
    init: str | None = None
    data: str | None = None
    arch: str | None = None

    def to_dict(self) -> dict:
        out = {"result": self.result, "layer": self.layer, "init": self.init, "data": self.data}
        if self.arch is not None:  # absent, not null: the JSON of the rows without it stays as it was
            out["arch"] = self.arch
        return out

    @classmethod
    def from_dict(cls, data: dict) -> RowKey:
        return cls(data["result"], data.get("layer"), data.get("init"), data.get("data"), data.get("arch"))


@dataclass(frozen=True)
class Evidence:
    """One row of evidence: its kind, its key, its verdict and its numbers.

    ``kind`` is ``symbolic``, ``mean-field``, ``montecarlo``, ``training`` or ``claim``; ``key``
    says what the row is about, for code to select on; ``numbers`` holds the row's structured
    result: a typed payload (:mod:`driftproof.payloads`, one frozen dataclass per kind of row; a dict
    given here is read into it), or plain JSON for a row without one (the sweep claims). Text for a
    reader comes from :mod:`driftproof.render`, never from here.
    """

    kind: str
    key: RowKey
    verdict: Verdict
    numbers: object = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "numbers", _payload(self.kind, self.key, self.numbers))

    def to_dict(self) -> dict:
        numbers = self.numbers.to_dict() if hasattr(self.numbers, "to_dict") else self.numbers
        return {"kind": self.kind, "key": self.key.to_dict(), "verdict": str(self.verdict), "numbers": numbers}

    @classmethod
    def from_dict(cls, data: dict) -> Evidence:
        return cls(data["kind"], RowKey.from_dict(data["key"]), Verdict(data["verdict"]), data.get("numbers", {}))


def _zero_somewhere(numbers) -> bool:
    return bool(numbers.get("zero_somewhere") if isinstance(numbers, dict) else numbers.zero_somewhere)


@dataclass(frozen=True)
class Verification:
    """The answer of ``driftproof verify``: one verdict, the evidence rows, and how it was made."""

    verdict: Verdict
    evidence: tuple[Evidence, ...]
    config: dict
    environment: dict

    @property
    def exit_code(self) -> int:
        return Verdict(self.verdict).exit_code

    @property
    def strict(self) -> bool:
        """False when some row found the expectation exactly zero, everywhere (a ``zero`` row) or on part
        of p > 0 (the payload's ``zero_somewhere``): the claim then holds only non-strictly."""
        return not any(row.verdict == ZERO or _zero_somewhere(row.numbers) for row in self.evidence
                       if row.verdict != INFO)

    def __repr__(self) -> str:
        config = self.config
        kinds: dict[str, int] = {}
        for row in self.evidence:
            kinds[row.kind] = kinds.get(row.kind, 0) + 1
        counts = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        return (f"Verification({str(self.verdict).upper()}: {config['loss']}/{config['act']}/{config['init']}, "
                f"{len(self.evidence)} rows: {counts})")

    def __str__(self) -> str:
        """The command line's table (:func:`driftproof.render.verdict_table`)."""
        return _display(self, "text")(self)

    def _repr_html_(self) -> str:
        return _display(self, "html")(self)

    def plot(self):
        """The sign map of σσ' (R3, proved intervals shaded) beside E[δ_i | p] against p: the Monte Carlo
        row's per-unit estimates with 95% bars and the theory's (R1/R2) value at each unit, both computed
        by ``verify`` and held in the row (drawing computes nothing). For a transformer (``arch`` gpt or
        vit): the measured sign at t = 0 per block with its 95% interval, one series per readout. Returns
        a matplotlib Figure (not shown); :func:`driftproof.render.plots.verification_figure`."""
        return _display(self, "figure")(self)

    def rows(self, kind: str | None = None, result: str | None = None) -> list[Evidence]:
        """The rows of one kind and/or one result (R1-R5, MC, train)."""
        return [row for row in self.evidence
                if (kind is None or row.kind == kind) and (result is None or row.key.result == result)]

    def to_dict(self) -> dict:
        return {"verdict": str(self.verdict), "evidence": [row.to_dict() for row in self.evidence],
                "config": self.config, "environment": self.environment}

    @classmethod
    def from_dict(cls, data: dict) -> Verification:
        return cls(Verdict(data["verdict"]), tuple(Evidence.from_dict(row) for row in data["evidence"]),
                   data["config"], data.get("environment", {}))
