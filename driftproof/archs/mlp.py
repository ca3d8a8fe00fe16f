"""The plain MLP of DESIGN.md §1 (results R1-R5): ``p^l = W^l h^{l-1} + b^l``, ``h^l = σ(p^l)``, ``z = V h^L + c``."""

from __future__ import annotations

from ..data import DATASETS
from . import Arch

__all__ = ["ARCH", "MLP_DATASETS", "layer_metrics", "layer_columns"]

# every data set but the text corpus (token ids: the GPT's)
MLP_DATASETS = tuple(name for name in DATASETS if name != "text")


def network(config, activation=None, **options):
    from ..nets import MLP

    return MLP(config, activation, **options)


def sources() -> tuple:
    from ..evidence import Source
    from ..evidence.montecarlo import verify_rows as montecarlo_rows
    from ..evidence.symbolic import mean_field_rows, symbolic_rows
    from ..evidence.training import verify_rows as training_rows

    return (Source("symbolic", "theory (R1-R3)", lambda config, progress: symbolic_rows(config)),
            Source("symbolic", "mean field (R4, R5)", lambda config, progress: mean_field_rows(config)),
            Source("montecarlo", "Monte Carlo", lambda config, progress: montecarlo_rows(config, progress=progress)),
            Source("training", "training", lambda config, progress: training_rows(config, progress=progress)))


def layer_columns(extra: tuple[str, ...] = ()):
    """The metric columns of an MLP-like network of ``depth`` hidden layers (``extra``: more per layer)."""
    def columns(depth: int) -> list[str]:
        from ..training.measure import layer_columns as columns_of

        return columns_of(depth, extra)

    return columns


def layer_metrics(columns):
    """The training observer of an MLP-like network (sign, weights, sparsity per hidden layer)."""
    def metrics(depth: int, loss, data, spec):
        from ..training.measure import RunMetrics

        return RunMetrics(columns(depth), loss, data, log_every=spec.log_every, eval_every=spec.eval_interval)

    return metrics


def verify_budget(config):
    """The Monte Carlo rows of verify (one per init, a conditional sign test at the last layer)."""
    from ..evidence.montecarlo import verify_budget as budget

    return budget(config)


def derivations(config) -> tuple:
    """R3 (sign map), R1/R2 (last layer), R4/R5 (mean field)."""
    from ..theory.derive import derive_all

    return tuple(derive_all(config))


_columns = layer_columns()
ARCH = Arch(
    name="mlp", title="MLP", help="plain MLP (R1-R5)", family="mlp", network=network, datasets=MLP_DATASETS,
    sources=sources, metrics=layer_metrics(_columns), columns=_columns, derivations=derivations, budget=verify_budget,
    derives="R1-R5", mean_field=True,
    family_title="MLP / ResMLP", family_name="MLP and residual MLP")
