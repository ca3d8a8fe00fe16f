"""``verify``: gather the three kinds of evidence for one configuration into a Verification.

Symbolic rows (R3 sign map, R1/R2 last layer) decide the pointwise claim where the theory
can; mean-field rows (R4) cover inner layers and R5 predicts the net drift; Monte Carlo rows
test the sign by sampling; training rows say whether it persists past t = 0. The sources
of each architecture are its registry entry's (:func:`sources_of`, :mod:`driftproof.archs`), in table
order; the rows are built in :mod:`driftproof.evidence`. A source that fails raises
:class:`EvidenceError` naming it: its rows are never silently left out of the verdict.

The training sources run in a forked child while the others run here (:mod:`.evidence.concurrent`),
where forking is safe; the rows are the same as one process's, in the same order.

This orchestrator sits above both the architecture registry and the evidence package (an
architecture names its evidence sources; this module asks the registry for them), so that the
imports run one way: verification -> archs -> evidence.
"""

from __future__ import annotations

from .archs import NAMES as ARCHS, get_arch
from .budget import check_memory
from .config import Config, environment
from .errors import InputError
from .evidence import Source
from .evidence.concurrent import beside, can_fork
from .results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, Verification, combine

__all__ = ["verify", "Source", "sources_of", "KINDS", "ARCHS", "EvidenceError", "decide"]


class EvidenceError(RuntimeError):
    """A kind of evidence failed to produce its rows (an internal error, not a verdict)."""


def sources_of(arch: str) -> tuple[Source, ...]:
    """The evidence sources of ``arch``, in table order (its registry entry's ``sources``)."""
    return get_arch(arch).sources()


KINDS = ("symbolic", "montecarlo", "training")


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
    """Run the requested kinds of evidence for ``arch`` (its registry entry's sources: mlp: R1-R5; resmlp: R6;
    gpt, vit: the paper's transformers) into one Verification.

    With ``concurrent`` (and where :func:`~.concurrent.can_fork`), the training sources run in a forked
    child beside the others; ``concurrent=False`` runs every source here, one after the other.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise InputError(f"unknown kinds of evidence: {', '.join(sorted(unknown))} (choose from {', '.join(KINDS)})")
    entry = get_arch(arch)
    if set(kinds) != {"symbolic"}:  # the budgets count the sampled and trained rows, none of the derivations
        check_memory(entry.verify_budget(config))
    sources = dict(enumerate(source for source in sources_of(arch) if source.kind in kinds))
    forked = {index: source for index, source in sources.items() if source.kind == "training"}
    here = {index: source for index, source in sources.items() if source.kind != "training"}
    if concurrent and forked and here and can_fork():
        if arch not in ("gpt", "vit"):
            # Both halves need the sign map of σσ' (the derivation; the training runs' mean field splits its
            # quadrature at the map's roots): certified once here, the forked child inherits it. For a custom
            # expression the certifier is the slowest step (mish nested 3 deep: about 5 CPU-s), done twice before.
            from .theory.signmap import sign_map

            sign_map(config.activation)
        mine, theirs = beside(lambda: _rows(here, config, progress), lambda: _rows(forked, config, progress))
        by_source = {**mine, **theirs}
    else:
        by_source = _rows(sources, config, progress)
    rows = [row for index in sorted(by_source) for row in by_source[index]]
    return Verification(decide(rows, config, entry.rows_init(config)), tuple(rows),
                        {**config.to_dict(), **entry.describe(config), "arch": arch}, environment())


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
