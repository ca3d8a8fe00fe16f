"""The pre-norm residual MLP (R6), the "modern architecture" case: ``r^l = r^{l-1} + U^l σ(W^l LN(r^{l-1}))``."""

from __future__ import annotations

from . import Arch
from .mlp import MLP_DATASETS, layer_columns, layer_metrics

__all__ = ["ARCH"]


def network(config, activation=None, **options):
    from ..nets import ResMLP

    return ResMLP(config, activation, **options)


def sources() -> tuple:
    from ..evidence import Source, residual
    from ..evidence.training import verify_rows as training_rows

    return (Source("symbolic", "theory (R6)", lambda config, progress: residual.symbolic_rows(config)),
            Source("montecarlo", "Monte Carlo (R6)", lambda config, progress: residual.montecarlo_rows(config, progress)),
            Source("training", "training", lambda config, progress: training_rows(config, progress=progress,
                                                                                    arch="resmlp")))


def verify_budget(config):
    """The R6 Monte Carlo rows (per init and block; quadratic in the depth)."""
    from ..evidence.residual import verify_budget as budget

    return budget(config)


def derivations(config) -> tuple:
    """R1-R5, then R6 for the pre-norm residual MLP (LayerNorm, eps 1e-5)."""
    from ..nets import LN_EPS
    from ..theory.derive import derive_all
    from ..theory.normalized import Residual, derive_residual

    return (*derive_all(config), derive_residual(Residual(config, "layernorm", LN_EPS)))


_columns = layer_columns(("u_mean",))  # the mean of each block's output matrix U^l
ARCH = Arch(
    name="resmlp", title="ResMLP", help="pre-norm residual MLP with LayerNorm (R6)", family="mlp",
    network=network, datasets=MLP_DATASETS, sources=sources, budget=verify_budget, long_verify=True, metrics=layer_metrics(_columns), columns=_columns,
    derivations=derivations, derives="also R6 for the pre-norm residual MLP", extra_params=lambda d_in, width, depth: 2 * width * width * depth, floats_per_unit=8)
