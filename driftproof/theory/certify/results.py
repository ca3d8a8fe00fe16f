"""What isolate_sign returns: certified sign intervals, certified roots, the Isolation."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CertifiedInterval", "CertifiedRoot", "Isolation"]


@dataclass(frozen=True)
class CertifiedInterval:
    """expr has the proved strict sign (+1 or -1) on the open interval (lo, hi)."""

    lo: float
    hi: float
    sign: int

    def to_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "sign": self.sign}


@dataclass(frozen=True)
class CertifiedRoot:
    """Exactly one zero of expr lies in [lo, hi]; ``value`` is the float nearest its midpoint.

    ``multiplicity`` 1: f' is bounded away from 0 on the enclosure; k > 1: f vanishes to
    order k at the exact point ``value`` (then lo == hi == value and ``exact`` is True).
    """

    lo: float
    hi: float
    value: float
    multiplicity: int
    exact: bool
    changes_sign: bool

    def to_dict(self) -> dict:
        return {"lo": self.lo, "hi": self.hi, "value": self.value, "multiplicity": self.multiplicity,
                "exact": self.exact, "changes_sign": self.changes_sign}


@dataclass(frozen=True)
class Isolation:
    """The outcome of ``isolate_sign``: what was proved on [domain], and what was not."""

    domain: tuple[float, float]
    intervals: tuple[CertifiedInterval, ...]
    roots: tuple[CertifiedRoot, ...]
    unresolved: tuple[tuple[float, float], ...]
    window: tuple[float, float]
    tails: tuple[str, str]
    proved: bool
    reason: str
    seconds: float = field(default=0.0, compare=False)
    work: float = field(default=0.0, compare=False)  # units of work spent (isolate.py's accounting)

    def to_dict(self) -> dict:
        return {"domain": list(self.domain), "intervals": [iv.to_dict() for iv in self.intervals],
                "roots": [r.to_dict() for r in self.roots], "unresolved": [list(u) for u in self.unresolved],
                "window": list(self.window), "tails": list(self.tails), "proved": self.proved,
                "reason": self.reason}
