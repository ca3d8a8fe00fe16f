"""The catalogue of named activations: formula, family, source and published parameter defaults.

Each formula is written in the expression grammar of :mod:`driftproof.activations` (parsed, never
evaluated), with its parameters as names; :mod:`driftproof.activations` registers every entry as a
built-in, so ``--act snake(a=0.5)`` works like ``--act leaky_relu(a=0.1)``. The formulas of the
original thirteen built-ins stay in activations.py (their SymPy forms are part of stored results);
their catalogue rows here carry only family and source.

Families: ``rectifier`` (piecewise linear, zero or small on x < 0), ``exponential-linear`` (ELU-like),
``sigmoid-weighted`` (x times a smooth gate: SiLU, GELU, Mish, ...), ``squared`` (the paper's ReLU²
family and other powers), ``smooth-bounded`` (sigmoid, tanh and their kin), ``hard-bounded``
(clipped piecewise linear), ``shrinkage`` (zero on a band around 0), ``periodic``, ``radial``,
``smooth-unbounded`` (softplus, bent identity, asinh, ...), ``linear``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Entry", "CATALOGUE", "FAMILIES"]


@dataclass(frozen=True)
class Entry:
    """One named activation: ``formula`` in x and the parameter names (None: defined in activations.py)."""

    name: str
    family: str
    source: str
    formula: str | None = None
    defaults: dict = field(default_factory=dict)
    note: str = ""


_ENTRIES = [
    # the original built-ins (formulas in activations.py)
    Entry("relu", "rectifier", "Nair & Hinton 2010; every framework"),
    Entry("leaky_relu", "rectifier", "Maas et al. 2013; torch.nn.LeakyReLU, jax.nn, Keras"),
    Entry("elu", "exponential-linear", "Clevert et al. 2016; torch.nn.ELU, jax.nn, Keras"),
    Entry("gelu", "sigmoid-weighted", "Hendrycks & Gimpel 2016; torch.nn.GELU, jax.nn, Keras"),
    Entry("gelu_tanh", "sigmoid-weighted", "GELU's tanh approximation; torch GELU(approximate='tanh')"),
    Entry("silu", "sigmoid-weighted", "Elfwing et al. 2018 (SiLU/Swish-1); torch.nn.SiLU, jax.nn, Keras"),
    Entry("softplus", "smooth-unbounded", "Dugas et al. 2001; torch.nn.Softplus, jax.nn, Keras"),
    Entry("mish", "sigmoid-weighted", "Misra 2019; torch.nn.Mish, jax.nn, Keras"),
    Entry("relu2", "squared", "So et al. 2021 (Primer); the paper's ReLU²"),
    Entry("clipped_relu2", "squared", "the paper's clipped ReLU²"),
    Entry("gelu2", "squared", "the paper's GELU²"),
    Entry("tanh", "smooth-bounded", "every framework"),
    Entry("identity", "linear", "torch.nn.Identity; Keras linear"),
    # frameworks
    Entry("relu6", "hard-bounded", "Krizhevsky 2010; torch.nn.ReLU6, jax.nn, Keras", "Min(Max(x, 0), 6)"),
    Entry("selu", "exponential-linear", "Klambauer et al. 2017; torch.nn.SELU, jax.nn, Keras",
          "s*Piecewise((a*expm1(x), x < 0), (x, True))",
          {"a": 1.6732632423543772, "s": 1.0507009873554805}),
    Entry("celu", "exponential-linear", "Barron 2017; torch.nn.CELU, jax.nn, Keras",
          "Piecewise((a*expm1(x/a), x < 0), (x, True))", {"a": 1.0}),
    Entry("prelu", "rectifier", "He et al. 2015; torch.nn.PReLU (initial slope 0.25)",
          "Piecewise((a*x, x < 0), (x, True))", {"a": 0.25}),
    Entry("rrelu", "rectifier", "Xu et al. 2015; torch.nn.RReLU in eval mode: slope (1/8 + 1/3)/2",
          "Piecewise((a*x, x < 0), (x, True))", {"a": 0.22916666666666666}),
    Entry("hardtanh", "hard-bounded", "torch.nn.Hardtanh, jax.nn.hard_tanh", "Min(Max(x, -1), 1)"),
    Entry("hard_sigmoid", "hard-bounded", "Courbariaux et al. 2015; torch.nn.Hardsigmoid, jax.nn, Keras",
          "Min(Max(x/6 + 1/2, 0), 1)"),
    Entry("hardswish", "sigmoid-weighted", "Howard et al. 2019; torch.nn.Hardswish, jax.nn.hard_silu, Keras",
          "x*Min(Max(x/6 + 1/2, 0), 1)"),
    Entry("logsigmoid", "smooth-unbounded", "torch.nn.LogSigmoid, jax.nn.log_sigmoid, Keras",
          "-log(1 + exp(-x))"),
    Entry("sigmoid", "smooth-bounded", "every framework", "sigmoid(x)"),
    Entry("softsign", "smooth-bounded", "Turian et al. 2009; torch.nn.Softsign, jax.nn.soft_sign, Keras",
          "x/(1 + Abs(x))"),
    Entry("tanhshrink", "shrinkage", "torch.nn.Tanhshrink, Keras tanh_shrink", "x - tanh(x)"),
    Entry("softshrink", "shrinkage", "torch.nn.Softshrink, Keras soft_shrink",
          "Piecewise((x + l, x < -l), (0, x <= l), (x - l, True))", {"l": 0.5}),
    Entry("hardshrink", "shrinkage", "torch.nn.Hardshrink, Keras hard_shrink",
          "Piecewise((x, x < -l), (0, x <= l), (x, True))", {"l": 0.5},
          "discontinuous: jumps at x = -l and x = l"),
    Entry("threshold", "rectifier", "torch.nn.Threshold(threshold, value), Keras threshold",
          "Piecewise((v, x <= t), (x, True))", {"t": 1.0, "v": 0.0},
          "discontinuous: jumps at x = t (torch has no defaults; t = 1, v = 0 here)"),
    Entry("exponential", "smooth-unbounded", "Keras exponential", "exp(x)"),
    Entry("softplus_beta", "smooth-unbounded", "torch.nn.Softplus(beta)", "log(1 + exp(b*x))/b", {"b": 2.0}),
    Entry("squareplus", "smooth-unbounded", "Barron 2021; jax.nn.squareplus, Keras",
          "(x + sqrt(x**2 + b))/2", {"b": 4.0}),
    Entry("sparse_plus", "rectifier", "jax.nn.sparse_plus, Keras",
          "Piecewise((0, x <= -1), ((x + 1)**2/4, x < 1), (x, True))"),
    Entry("sparse_sigmoid", "hard-bounded", "jax.nn.sparse_sigmoid",
          "Piecewise((0, x <= -1), ((x + 1)/2, x < 1), (1, True))"),
    Entry("quick_gelu", "sigmoid-weighted", "Radford et al. 2021 (CLIP): x*sigmoid(1.702 x)",
          "x*sigmoid(b*x)", {"b": 1.702}),
    # the literature
    Entry("swish", "sigmoid-weighted", "Ramachandran et al. 2017 (Swish-beta)", "x*sigmoid(b*x)", {"b": 1.0}),
    Entry("lisht", "sigmoid-weighted", "Roy et al. 2019 (LiSHT)", "x*tanh(x)"),
    Entry("logish", "sigmoid-weighted", "Zhu et al. 2021 (Logish)", "x*log(1 + sigmoid(x))"),
    Entry("serf", "sigmoid-weighted", "Nag & Bhattacharyya 2021 (Serf)", "x*erf(log(1 + exp(x)))"),
    Entry("tanhexp", "sigmoid-weighted", "Liu & Di 2020 (TanhExp)", "x*tanh(exp(x))"),
    Entry("smish", "sigmoid-weighted", "Wang et al. 2022 (Smish)", "x*tanh(log(1 + sigmoid(x)))"),
    Entry("phish", "sigmoid-weighted", "Naveen 2022 (Phish)", "x*tanh(gelu(x))"),
    Entry("dsilu", "smooth-bounded", "Elfwing et al. 2018 (dSiLU)", "sigmoid(x)*(1 + x*(1 - sigmoid(x)))"),
    Entry("elish", "sigmoid-weighted", "Basirat & Roth 2018 (ELiSH)",
          "Piecewise((expm1(x)*sigmoid(x), x < 0), (x*sigmoid(x), True))"),
    Entry("hard_elish", "sigmoid-weighted", "Basirat & Roth 2018 (HardELiSH)",
          "Piecewise((expm1(x)*Min(Max((x + 1)/2, 0), 1), x < 0), (x*Min(Max((x + 1)/2, 0), 1), True))"),
    Entry("bent_identity", "smooth-unbounded", "bent identity", "(sqrt(x**2 + 1) - 1)/2 + x"),
    Entry("isru", "smooth-bounded", "Carlile et al. 2017 (ISRU)", "x/sqrt(1 + a*x**2)", {"a": 1.0}),
    Entry("isrlu", "exponential-linear", "Carlile et al. 2017 (ISRLU)",
          "Piecewise((x/sqrt(1 + a*x**2), x < 0), (x, True))", {"a": 1.0}),
    Entry("penalized_tanh", "smooth-bounded", "Xu et al. 2016 (penalized tanh)",
          "Piecewise((a*tanh(x), x < 0), (tanh(x), True))", {"a": 0.25}),
    Entry("gaussian", "radial", "Gaussian (RBF) activation", "exp(-x**2)"),
    Entry("erf", "smooth-bounded", "erf as an activation", "erf(x)"),
    Entry("arctan", "smooth-bounded", "arctan as an activation", "atan(x)"),
    Entry("asinh", "smooth-unbounded", "asinh as an activation", "asinh(x)"),
    Entry("sine", "periodic", "Sitzmann et al. 2020 (SIREN), w0 = 30 in the first layer; sin(x) here",
          "sin(x)"),
    Entry("cosine", "periodic", "cos as an activation (Fourier features)", "cos(x)"),
    Entry("gcu", "periodic", "Noel et al. 2021 (Growing Cosine Unit)", "x*cos(x)"),
    Entry("snake", "periodic", "Ziyin et al. 2020 (Snake)", "x + sin(a*x)**2/a", {"a": 1.0}),
    Entry("sqnl", "hard-bounded", "Wuraola & Patel 2018 (SQNL)",
          "Piecewise((-1, x < -2), (x + x**2/4, x < 0), (x - x**2/4, x <= 2), (1, True))"),
    Entry("relu3", "squared", "ReLU³ (the cube of the rectifier)", "Piecewise((0, x < 0), (x**3, True))"),
    Entry("star_relu", "squared", "Yu et al. 2022 (StarReLU, MetaFormer): s*relu(x)**2 + b",
          "s*Piecewise((0, x < 0), (x**2, True)) + b", {"s": 0.8944, "b": -0.4472}),
    Entry("bsilu", "sigmoid-weighted", "the paper's repository (BSiLU): (x + a)*sigmoid(x) - a/2",
          "(x + a)*sigmoid(x) - a/2", {"a": 1.67}),
    Entry("xielu", "squared", "Huang & Schlag 2025 (xIELU): quadratic for x > 0, integrated ELU for x <= 0",
          "Piecewise((ap*x**2 + b*x, x > 0), (an*(expm1(x) - x) + b*x, True))",
          {"ap": 0.8, "an": 0.8, "b": 0.5}),
]

CATALOGUE: dict[str, Entry] = {entry.name: entry for entry in _ENTRIES}
FAMILIES = tuple(sorted({entry.family for entry in _ENTRIES}))
