"""Certified sign isolation of a one-variable SymPy expression by ball arithmetic (Arb).

``isolate_sign(expr, lo, hi, budget)`` proves the sign of ``expr`` on the whole interval
``[lo, hi]`` (either end may be infinite) or says what it could not prove. Nothing is
sampled: every statement comes from an outward-rounded enclosure.

How a sign is proved
    * The SymPy tree is walked once into Arb operations (Add, Mul, Pow, exp, log, tanh, erf,
      erfc, sin, cos, atan, asinh, sqrt, Abs, Max, Min, Heaviside, Piecewise, numbers, pi, E); any other node makes
      the expression *unsupported* (``Unsupported``). Nothing is eval'd or lambdified.
      ``c + c*erf(a)``, ``c - c*erf(a)``, ``c + c*tanh(a)`` and ``c - c*tanh(a)**2`` are first
      rewritten through erfc / exp (exact identities) so that tails do not cancel.
    * Window: branch and bound. A box whose enclosure excludes 0 has that sign. Otherwise,
      if the enclosure of f' (Arb's automatic differentiation, ``arb_series``) excludes 0,
      f is strictly monotone on the box and the signs at its two ends decide it: the same
      sign, or exactly one root, which is refined by bisection to a float-width enclosure.
      A multiple root is accepted only at an exact point x0 (a dyadic number) where Arb
      proves f(x0) = ... = f^(k-1)(x0) = 0 exactly and the enclosure of f^(k) over the box
      excludes 0 (Taylor with Lagrange remainder). Anything else is subdivided down to a
      minimum width and then reported as unresolved: never guessed.
    * Tails: the window starts at [-16, 16] and grows fourfold until each tail [W, inf) is
      closed by one of two arguments, else the answer stays inconclusive:
      (a) an enclosure over the unbounded interval in extended interval arithmetic that
          tracks whether each bound is attained (x never equals inf, so exp(x) > 0 on
          (-inf, -W] even though its infimum is 0) — applied to equivalent forms of f
          (as given, factor_terms, together, factor, tanh rewritten as exp) and factor by
          factor of a product;
      (b) monotonicity: the enclosure of g' has a strict sign on the tail, g(W) has a proved
          sign, and L = lim g (SymPy's Gruntz algorithm) lies on the same side, so g stays
          strictly between g(W) and L.

Returns an ``Isolation``: the certified sign intervals, the certified roots (each an
enclosure holding exactly one zero; sign intervals meet at the root's float midpoint), the
window that was certified, how each tail was closed, and ``proved``.
"""

from __future__ import annotations

from .balls import Unsupported, arb_function
from .isolate import DEFAULT_BUDGET, isolate_sign
from .results import CertifiedInterval, CertifiedRoot, Isolation
from .rewrite import prepare

__all__ = ["Unsupported", "CertifiedInterval", "CertifiedRoot", "Isolation", "isolate_sign",
           "DEFAULT_BUDGET", "arb_function", "prepare"]
