"""The state one report build shares between its sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .cache import ResultCache
from .latex import Numbers

__all__ = ["Context", "DEFAULT_PAIRS", "QUICK_PAIRS"]

DEFAULT_PAIRS = tuple((loss, act) for loss in ("mse", "ce")
                      for act in ("relu", "gelu", "silu", "relu2", "clipped_relu2", "gelu2", "tanh"))
QUICK_PAIRS = tuple((loss, act) for loss in ("mse", "ce") for act in ("relu", "gelu", "tanh"))


@dataclass
class Context:
    folder: Path
    pairs: tuple[tuple[str, str], ...]
    quick: bool
    cache: ResultCache
    progress: bool = False
    seed: int = 0
    width: int = 256
    depth: int = 2
    numbers: Numbers = field(default_factory=Numbers)
    results: dict = field(default_factory=dict)
    figure_count: int = 0
    figure_labels: list = field(default_factory=list)
    sweep_results: tuple | None = None  # (results, source), loaded once per build

    @property
    def figures(self) -> Path:
        return self.folder / "figures"

    def record(self, section: str, key: str, value) -> None:
        """Keep a result for report.json, under its section."""
        self.results.setdefault(section, {})[key] = value
