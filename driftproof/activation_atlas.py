"""The activation atlas: one row per catalogued activation (driftproof/catalogue.py).

Each row holds the sign map of σσ' with its label (exact, certified or inconclusive, and why), the
pointwise verdict it gives for the MLP (R3), the net drift coefficient E[σσ'(p)] at the standard
initialization (p ~ N(0, Q), Q = 2: He weights on unit-variance inputs) with its quadrature error and
relative to ReLU's, the set where σ is exactly 0 (where exact sparsity can arise), the growth of σ at
+∞ (bounded, linear, polynomial of degree k, exponential: the spike tendency), and the jumps of σ.
Each row also carries a short training summary on digits (driftproof/atlas_training.py: sparsity change and
the sign's persistence over 5 seeds, with intervals), trained once per activation and cached apart.

The build is cached under ``$DRIFTPROOF_CACHE`` keyed by the sources it depends on.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from .activations import get_activation, x
from .catalogue import CATALOGUE, FAMILIES
from .envcheck import cache_root
from .errors import InputError

__all__ = ["AtlasRow", "Atlas", "atlas", "Q_STANDARD", "row_for"]

Q_STANDARD = 2.0  # Var p at He initialization on unit-variance inputs


@dataclass(frozen=True)
class AtlasRow:
    """One activation's entry in the atlas (see the module docstring)."""

    name: str
    family: str
    source: str
    formula: str
    params: dict
    certification: str  # exact / certified / inconclusive
    sign_map: str  # the map as text, signs only where proved
    reason: str  # why a map is inconclusive ('' when proved)
    verdict: str  # R3's pointwise verdict on p > 0: holds / violated / inconclusive
    strict: bool  # False: σσ' = 0 somewhere on p > 0 (the claim holds at best non-strictly)
    drift: float  # E[σσ'(p)], p ~ N(0, Q_STANDARD)
    drift_error: float
    drift_relative_to_relu: float
    zero_set: str  # where σ = 0 exactly, as intervals; 'isolated points' or 'none'
    growth: str  # of σ at +inf
    jumps: tuple  # ((t, σ(t-), σ(t+)), ...): σ is discontinuous there
    note: str
    training: dict | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["jumps"] = [list(j) for j in self.jumps]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> AtlasRow:
        return cls(**{**data, "jumps": tuple(tuple(j) for j in data.get("jumps", ()))})


@dataclass(frozen=True)
class Atlas:
    """The rows, in catalogue order, and how they were built."""

    rows: tuple[AtlasRow, ...]
    q: float
    cached: bool = False

    @property
    def proved_fraction(self) -> float:
        return sum(r.certification in ("exact", "certified") for r in self.rows) / max(1, len(self.rows))

    def family(self, family: str) -> Atlas:
        if family not in FAMILIES:
            raise InputError(f"unknown family {family!r} (choose from {', '.join(FAMILIES)})")
        return Atlas(tuple(r for r in self.rows if r.family == family), self.q, self.cached)

    def to_dict(self) -> dict:
        return {"q": self.q, "activations": len(self.rows), "proved_fraction": self.proved_fraction,
                "rows": [r.to_dict() for r in self.rows]}

    def plot(self, title: str = ""):
        """Every activation by its drift coefficient against its sparsity change in training, labelled
        (driftproof/render/atlas_figure.py). Returns a matplotlib Figure (not shown)."""
        from .render.atlas_figure import atlas_figure

        return atlas_figure(self, title)

    def __repr__(self) -> str:
        return (f"Atlas({len(self.rows)} activations, {self.proved_fraction:.0%} with an exact or certified "
                "sign map)")


def _zero_set(activation) -> str:
    """Where σ is exactly 0: the intervals of identically-zero branches; else isolated points or none."""
    from .theory.signmap import _branches, _identically_zero

    parts = [(lo, hi) for branch, lo, hi in _branches(activation.normalized) if _identically_zero(branch)]
    if parts:
        def end(v):
            return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.6g}"
        return " U ".join(f"({end(lo)}, {end(hi)})" for lo, hi in parts)
    values = activation.numpy(np.linspace(-20, 20, 4001))
    return "isolated points" if np.any(values == 0) or np.any(np.diff(np.sign(values)) != 0) else "none"


def _growth(activation) -> str:
    """bounded / linear / polynomial, degree k / exponential, from σ at 1e4 and 1e8 (mpmath, 50 digits)."""
    f = sp.lambdify(x, activation.normalized, modules="mpmath")
    with mpmath.workdps(50):
        try:
            a, b = abs(f(mpmath.mpf(10) ** 4)), abs(f(mpmath.mpf(10) ** 8))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return "unknown"
        if b > mpmath.mpf(10) ** 300:
            return "exponential"
        if b <= 2 * a + mpmath.mpf(10) ** -300 or b < 1e3:
            return "bounded"
        degree = float(mpmath.log(b / a) / mpmath.log(10**4))
    k = round(degree)
    return "linear" if k == 1 else f"polynomial, degree {k}" if k <= 64 else "exponential"


def _jumps(activation) -> tuple:
    """(t, σ(t-), σ(t+)) at each breakpoint where σ jumps (Threshold, Hardshrink)."""
    out = []
    for t in activation.breakpoints:
        h = 1e-9 * max(1.0, abs(t))
        left, right = activation.numpy(np.array([t - h, t + h]))
        if abs(right - left) > 1e-6 * max(1.0, abs(left), abs(right)):
            out.append((float(t), float(left), float(right)))
    return tuple(out)


def _jump_note(jumps: tuple) -> str:
    """What the claim means at a jump: σ' has a point mass there, so σσ' = (σ²/2)' carries
    (σ(t+)² − σ(t−)²)/2 · δ(p − t); the sign map is of σσ' almost everywhere, the jump's part is stated apart."""
    parts = []
    for t, left, right in jumps:
        mass = (right**2 - left**2) / 2
        sign = "positive" if mass > 0 else "negative" if mass < 0 else "zero"
        parts.append(f"σ jumps at p = {t:g} ({left:.3g} -> {right:.3g}): σσ' has a point mass "
                     f"{mass:.3g}·δ(p - {t:g}) ({sign}); the sign map holds almost everywhere")
    return "; ".join(parts)


def row_for(name: str, relu_drift: float | None = None) -> AtlasRow:
    """The atlas row of one catalogued activation (its sign map at the default budget)."""
    from .evidence.symbolic import sign_map_verdict
    from .theory.gaussian import gaussian_moment
    from .theory.signmap import sign_map

    entry = CATALOGUE[name]
    activation = get_activation(name)
    smap = sign_map(activation)
    moment = gaussian_moment(activation, "sigma_dsigma", Q_STANDARD)
    error = max(abs(moment.ci_high - moment.mean), abs(moment.mean - moment.ci_low)) if not moment.is_exact else 0.0
    if relu_drift is None:
        relu_drift = gaussian_moment(get_activation("relu"), "sigma_dsigma", Q_STANDARD).mean
    jumps = _jumps(activation)
    note = "; ".join(part for part in (entry.note, _jump_note(jumps)) if part)
    return AtlasRow(
        name=name, family=entry.family, source=entry.source, formula=str(activation.expr),
        params=dict(activation.params), certification=smap.certification, sign_map=smap.describe(),
        reason=smap.reason, verdict=str(sign_map_verdict(smap)),
        strict=not (smap.zero_on_positive or smap.zeros_on_positive),
        drift=float(moment.mean), drift_error=float(error), drift_relative_to_relu=float(moment.mean / relu_drift),
        zero_set=_zero_set(activation), growth=_growth(activation), jumps=jumps, note=note)


def _cache_key() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for part in ("catalogue.py", "activations.py", "activation_atlas.py", "theory/signmap.py", "theory/gaussian.py",
                 "theory/certify/isolate.py", "theory/certify/balls.py", "theory/certify/extended.py",
                 "theory/certify/rewrite.py"):
        digest.update((here / part).read_bytes())
    return digest.hexdigest()[:16]


def _cache_path() -> Path:
    return cache_root() / "atlas" / f"atlas-{_cache_key()}.json"


def atlas(family: str | None = None, *, cache: bool = True, progress=None, training: bool = True,
          workers: int = 1, train_missing: bool = True) -> Atlas:
    """The atlas of every catalogued activation (or one ``family``), built once and cached.

    Args:
        family: keep only this family (see :data:`driftproof.catalogue.FAMILIES`).
        cache: read and write the cached build under ``$DRIFTPROOF_CACHE/atlas``.
        progress: called with (done, total, name) after each row, if given.
        training: attach each row's training summary on digits: cached, else shipped with the package
            (driftproof/stored/atlas_training.json), else trained here (about 5 s of one core each); False:
            ``training`` stays None.
        workers: processes that train at once.
        train_missing: False: attach only the summaries already cached (the others stay None); no training.
    Raises:
        InputError: an unknown family, or workers < 1.
    """
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    result = _symbolic_atlas(family, cache, progress)
    if not training:
        return result
    return _with_training(result, cache, progress, workers, train_missing)


def _with_training(result: Atlas, cache: bool, progress, workers: int, train_missing: bool = True) -> Atlas:
    """The rows with their training summaries (driftproof/atlas_training.py), trained where not cached."""
    from dataclasses import replace

    from .atlas_stored import stored_summary
    from .atlas_training import cached_summary, training_summary

    names = [r.name for r in result.rows]
    # this machine's own training first, then the summaries shipped with the package (same setup and formula)
    found = {n: cached_summary(n) or stored_summary(n) for n in names} if cache else {}
    missing = [n for n in names if found.get(n) is None] if train_missing else []
    if missing and workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, (name, summary) in enumerate(zip(missing, pool.map(training_summary, missing, [cache] * len(missing)))):
                found[name] = summary
                if progress is not None:
                    progress(i + 1, len(missing), f"training {name}")
    else:
        for i, name in enumerate(missing):
            found[name] = training_summary(name, cache)
            if progress is not None:
                progress(i + 1, len(missing), f"training {name}")
    return Atlas(tuple(replace(r, training=found.get(r.name)) for r in result.rows), result.q,
                 result.cached and not missing)


def _symbolic_atlas(family: str | None, cache: bool, progress) -> Atlas:
    """The rows without their training summaries, from the cache when it has them."""
    if family is not None and family not in FAMILIES:
        raise InputError(f"unknown family {family!r} (choose from {', '.join(FAMILIES)})")
    path = _cache_path()
    result = None
    if cache and path.is_file():
        try:
            data = json.loads(path.read_text())
            result = Atlas(tuple(AtlasRow.from_dict(r) for r in data["rows"]), data["q"], cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            result = None
    if result is None:
        from .theory.gaussian import gaussian_moment

        relu_drift = gaussian_moment(get_activation("relu"), "sigma_dsigma", Q_STANDARD).mean
        names = [n for n in CATALOGUE if family is None or CATALOGUE[n].family == family]
        rows = []
        for i, name in enumerate(names):
            rows.append(row_for(name, relu_drift))
            if progress is not None:
                progress(i + 1, len(names), name)
        result = Atlas(tuple(rows), Q_STANDARD)
        if family is not None:  # a family alone is not the whole atlas: not cached
            return result
        if cache:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                scratch = path.with_suffix(".partial")
                scratch.write_text(json.dumps(result.to_dict()))
                scratch.replace(path)
            except OSError:
                pass  # an unwritable cache only costs a rebuild next time
    return result.family(family) if family is not None else result
