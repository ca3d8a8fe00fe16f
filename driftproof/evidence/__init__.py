"""The evidence rows of ``verify``, one module per kind: symbolic (R1-R5), Monte Carlo, training, the
residual MLP (R6) and the transformers. :mod:`driftproof.verification` gathers them into a Verification;
an architecture (:mod:`driftproof.archs`) names its sources as :class:`Source` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..config import Config
from ..results import Evidence

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """One producer of evidence rows: its kind (what ``--only`` selects) and its row builder."""

    kind: str
    name: str
    rows: Callable[[Config, bool], list[Evidence]]
