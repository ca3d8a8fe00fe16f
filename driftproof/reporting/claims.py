"""One row of the report's verdict table: a claim, its verdict, the one number that decides it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..paper import INCONCLUSIVE_WORD, NOT_REPRODUCED, REPRODUCED

__all__ = ["Claim", "against_paper"]


def against_paper(verdict: str) -> str:
    """A claim's verdict as the verdict against the paper: reproduced, not reproduced at this scale, or
    inconclusive."""
    if verdict in ("holds", "supported"):
        return REPRODUCED
    if verdict in ("violated", "not supported"):
        return NOT_REPRODUCED
    return INCONCLUSIVE_WORD


@dataclass(frozen=True)
class Claim:
    """A claim as the summary page shows it; ``evidence`` is the fuller account its section gives.

    ``key`` is structured (``t0-sign``, ``drift``, ``persistence``, ``C1/GPT``, ...) and never the words
    printed; ``number`` is the deciding number with its interval, as printed; ``section`` the LaTeX label
    of the section with the claim's figure.

    The page-1 table reads the short fields: ``family`` (the architectures the evidence comes from),
    ``paper`` (the paper's value in a few words; empty for a question the paper does not state),
    ``versus`` (the verdict against the paper, one of :data:`driftproof.paper.VERDICTS`; for a question
    beyond the paper the verdict itself), ``ours`` (our value with its interval and n) and ``scale``
    (the networks and samples it rests on; a section names the network by ``network``, the build fills it in).
    """

    key: str
    statement: str
    verdict: str
    number: str
    evidence: str
    section: str
    family: str = ""
    paper: str = ""
    versus: str = ""
    ours: str = ""
    scale: str = ""
    # the configurations table's key of the network the claim rests on (N1, ...): the build puts that network's
    # scale in front of ``scale`` (:func:`.configurations.with_scale`), so a section need not import the table
    network: str = ""

    def to_dict(self) -> dict:
        return asdict(self)
