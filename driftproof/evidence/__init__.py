"""``verify``: gather the three kinds of evidence for one configuration into a Verification.

Symbolic rows (R3 sign map, R1/R2 last layer) decide the pointwise claim where the theory
can; mean-field rows (R4) cover inner layers and R5 predicts the net drift; Monte Carlo rows
test the sign by sampling; training rows say whether it persists past t = 0. The sources
are listed in :data:`SOURCES`, in table order. A source that fails raises
:class:`EvidenceError` naming it: its rows are never silently left out of the verdict.

The training sources run in a forked child while the others run here (:mod:`.concurrent`), where
forking is safe; the rows are the same as one process's, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..budget import check_memory
from ..config import Config, environment
from ..errors import InputError
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, Verification, combine
from . import residual, transformer
from .concurrent import beside, can_fork
from .montecarlo import verify_budget
from .montecarlo import verify_rows as montecarlo_rows
from .symbolic import mean_field_rows, symbolic_rows
from .training import verify_rows as training_rows

__all__ = ["verify", "Source", "SOURCES", "KINDS", "ARCHS", "TRANSFORMER_ARMS", "EvidenceError", "decide"]


class EvidenceError(RuntimeError):
    """A kind of evidence failed to produce its rows (an internal error, not a verdict)."""


@dataclass(frozen=True)
class Source:
    """One producer of evidence rows: its kind (what ``--only`` selects) and its row builder."""

    kind: str
    name: str
    rows: Callable[[Config, bool], list[Evidence]]


# The sources of each architecture, in table order.
SOURCES: dict[str, tuple[Source, ...]] = {
    "mlp": (
        Source("symbolic", "theory (R1-R3)", lambda config, progress: symbolic_rows(config)),
        Source("symbolic", "mean field (R4, R5)", lambda config, progress: mean_field_rows(config)),
        Source("montecarlo", "Monte Carlo", lambda config, progress: montecarlo_rows(config, progress=progress)),
        Source("training", "training", lambda config, progress: training_rows(config, progress=progress)),
    ),
    "resmlp": (
        Source("symbolic", "theory (R6)", lambda config, progress: residual.symbolic_rows(config)),
        Source("montecarlo", "Monte Carlo (R6)", lambda config, progress: residual.montecarlo_rows(config, progress)),
        Source("training", "training", lambda config, progress: training_rows(config, progress=progress,
                                                                                arch="resmlp")),
    ),
    "gpt": (  # the paper's own GPT (evidence/transformer.py)
        Source("symbolic", "theory (R6, GPT)", lambda config, progress: transformer.symbolic_rows(config)),
        Source("montecarlo", "Monte Carlo (GPT, t = 0)", transformer.montecarlo_rows),
        Source("training", "training (GPT)", transformer.training_rows),
    ),
    "vit": (  # the ViT on the digits, the same blocks (evidence/transformer.py)
        Source("symbolic", "theory (R6, ViT)", lambda config, progress: transformer.symbolic_rows(config, "vit")),
        Source("montecarlo", "Monte Carlo (ViT, t = 0)",
               lambda config, progress: transformer.montecarlo_rows(config, progress, arch="vit")),
        Source("training", "training (ViT)",
               lambda config, progress: transformer.training_rows(config, progress, arch="vit")),
    ),
}
TRANSFORMER_ARMS = ("gpt", "vit")
KINDS = ("symbolic", "montecarlo", "training")
ARCHS = tuple(SOURCES)


def decide(rows: list[Evidence], config: Config, init: str | None = None) -> str:
    """Combine the rows about t = 0 into one verdict.

    Where a theorem decides (the MLP's R3 row with its hypotheses met: a zero-mean independent
    init), the claim is exactly the sign map of σσ' on p > 0: *holds* needs that map proved, and an
    unproved map makes the verdict *inconclusive* whatever sampling found (sampling sees typical p
    only, never every p > 0). Where no theorem applies (a control init, the transformers), a theory
    row that cannot decide defers to decisive Monte Carlo rows for the same init (the theory says
    which assumption failed; sampling decides). Training rows answer a different question
    (persistence past t = 0): they inform only. ``init``: the rows' init when it is not the
    config's (the GPT's weights are drawn as the paper's code draws them).
    """
    init = init or config.init_dist.name
    theorem = [r for r in rows if r.kind == "symbolic" and r.key.result == "R3" and r.numbers.get("hypotheses_hold")]
    if theorem and INCONCLUSIVE in {r.verdict for r in theorem} \
            and VIOLATED not in {r.verdict for r in rows if r.kind != "training"}:
        return INCONCLUSIVE
    decisive_mc = not theorem and any(r.kind == "montecarlo" and r.verdict in (HOLDS, VIOLATED)
                                      and r.key.init == init for r in rows)
    deciding = [r.verdict for r in rows
                if r.kind != "training"
                and not (r.kind in ("symbolic", "mean-field") and r.verdict == INCONCLUSIVE and decisive_mc)]
    return combine(deciding)


def verify(config: Config, *, arch: str = "mlp", progress: bool = False, kinds: tuple[str, ...] = KINDS,
           concurrent: bool = True) -> Verification:
    """Run the requested kinds of evidence for ``arch`` (mlp: R1-R5; resmlp: R6; gpt, vit: the paper's
    transformers) into one Verification.

    With ``concurrent`` (and where :func:`~.concurrent.can_fork`), the training sources run in a forked
    child beside the others; ``concurrent=False`` runs every source here, one after the other.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise InputError(f"unknown kinds of evidence: {', '.join(sorted(unknown))} (choose from {', '.join(KINDS)})")
    if arch not in SOURCES:
        raise InputError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    check_memory(transformer.budget(config, arch=arch) if arch in TRANSFORMER_ARMS else verify_budget(config))
    sources = dict(enumerate(source for source in SOURCES[arch] if source.kind in kinds))
    forked = {index: source for index, source in sources.items() if source.kind == "training"}
    here = {index: source for index, source in sources.items() if source.kind != "training"}
    if concurrent and forked and here and can_fork():
        mine, theirs = beside(lambda: _rows(here, config, progress), lambda: _rows(forked, config, progress))
        by_source = {**mine, **theirs}
    else:
        by_source = _rows(sources, config, progress)
    rows = [row for index in sorted(by_source) for row in by_source[index]]
    if arch in TRANSFORMER_ARMS:
        return Verification(decide(rows, config, transformer.INIT), tuple(rows),
                            {**config.to_dict(), **transformer.describe(config, arch), "arch": arch}, environment())
    return Verification(decide(rows, config), tuple(rows), {**config.to_dict(), "arch": arch}, environment())


def _rows(sources: dict[int, Source], config: Config, progress: bool) -> dict[int, list[Evidence]]:
    """The rows of each source, by its place in the table; a source that fails raises EvidenceError naming it."""
    out = {}
    for index, source in sources.items():
        try:
            out[index] = source.rows(config, progress)
        except (InputError, KeyboardInterrupt, MemoryError):
            raise
        except Exception as error:
            raise EvidenceError(f"the {source.name} evidence failed: {type(error).__name__}: {error}") from error
    return out
