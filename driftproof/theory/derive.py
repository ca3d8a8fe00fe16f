"""Assemble the derivations printed by ``driftproof derive``: R3 sign map, R1/R2, R4/R5."""

from __future__ import annotations

import sympy as sp

from ..activations import x
from ..config import Config
from .derivation import Derivation, Step
from .lastlayer import derive_last_layer
from .meanfield import mean_field
from .signmap import SignMap, sign_map

__all__ = ["derive_sign_map", "derive_mean_field", "derive_all"]


def derive_sign_map(config: Config) -> tuple[Derivation, SignMap]:
    """R3: sigma, sigma', sigma sigma' by SymPy, then the exact sign map of sigma sigma'."""
    act = config.activation
    smap = sign_map(act)
    sigma = sp.Function("sigma")
    steps = [
        Step("activation", sp.Eq(sigma(x), act.expr)),
        Step("derivative (SymPy)", sp.Eq(sp.Derivative(sigma(x), x), act.derivative)),
        Step("product", sp.Eq(sigma(x) * sp.Derivative(sigma(x), x), act.sigma_dsigma)),
    ]
    for root in smap.roots:
        exact = root.exact is not None
        steps.append(Step("root of sigma sigma'", sp.Eq(sp.Symbol("x_0"), sp.sympify(root.exact)) if exact else None,
                          root.method, exact=exact, value=None if exact else root.value,
                          error=None if exact else 1e-15 * max(1.0, abs(root.value)),
                          certified=smap.proved and not exact))
    for interval in smap.intervals:
        steps.append(Step("sign on an interval", None, interval.describe(), exact=smap.exact,
                          certified=smap.proved and interval.certified))
    negative = smap.negative_on_positive
    if negative:
        conclusion = "sigma sigma' < 0 somewhere on p > 0: a unit there gets a negative expected gradient"
    else:
        zero = smap.zero_on_positive
        conclusion = "sigma sigma' >= 0 on p > 0" + (" (zero on part of it)" if zero else ", strictly")
    assumptions = ("loss coordinate-wise convex (dl/dz_k non-decreasing in z_k)",
                   "output weights zero-mean and independent", "h_i >= 0 or sign of sigma as stated")
    return Derivation("R3", f"sign map of sigma sigma' for {act.name} ({smap.method})", tuple(steps),
                      assumptions, conclusion), smap


def derive_mean_field(config: Config) -> Derivation:
    """R4/R5 as steps: the variance and trace recursions, per layer, with their numbers."""
    field = mean_field(config)
    steps = []
    for layer in field.layers:
        l = layer.layer
        steps += [
            Step(f"layer {l}: variance q_{l}", None, "q_1 = s_1^2 d; q_{l+1} = s_{l+1}^2 N E[sigma^2]",
                 exact=layer.moments_exact, value=layer.q),
            Step(f"layer {l}: curvature T^{l + 1}", None, "T^l = N s_{l+1}^2 E[(sigma sigma')'] T^{l+1}",
                 exact=False, value=layer.T_next, error=layer.T_next_stderr or None),
            Step(f"layer {l}: E[delta | p > 0] (R4)", None,
                 "s_{l+1}^2 T^{l+1} E[sigma sigma' | p > 0]", exact=False, value=layer.delta_given_positive),
            Step(f"layer {l}: first-step change of mean W^{l} per unit lr (R5)", None,
                 "-E[delta^l] E[h^{l-1}]", exact=False, value=layer.dW_mean),
            Step(f"layer {l}: first-step change of mean b^{l} per unit lr (R5)", None,
                 "-E[delta^l]", exact=False, value=layer.db_mean),
        ]
    return Derivation("R4-R5", "mean field by layer, and the drift of the first SGD step", tuple(steps),
                      (field.note, "inputs x ~ N(0, I_d), biases 0"),
                      "mean field not applicable to this init" if not field.applicable else "")


def derive_all(config: Config) -> list[Derivation]:
    """Every derivation for the configuration, in reading order."""
    r3, _ = derive_sign_map(config)
    last, _ = derive_last_layer(config)
    return [r3, last, derive_mean_field(config)]
