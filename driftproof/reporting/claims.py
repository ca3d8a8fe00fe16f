"""One row of the report's verdict table: a claim, its verdict, the one number that decides it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Claim"]


@dataclass(frozen=True)
class Claim:
    """A claim as the summary page shows it; ``evidence`` is the fuller account its section gives.

    ``key`` is structured (``t0-sign``, ``drift``, ``persistence``, ``C1/GPT``, ...) and never the words
    printed; ``number`` is the deciding number with its interval, as printed; ``section`` the LaTeX label
    of the section with the claim's figure.
    """

    key: str
    statement: str
    verdict: str
    number: str
    evidence: str
    section: str

    def to_dict(self) -> dict:
        return asdict(self)
