"""The state one report build shares between its sections."""

from __future__ import annotations

from contextlib import contextmanager
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
    command: str = "driftproof report"  # the command line that regenerates this build
    sources: dict = field(default_factory=dict)  # source key -> {"label", "files", "command"}
    sweep_folders: list = field(default_factory=list)  # stored sweeps the C1-C5 section read
    sweep_incomplete: list = field(default_factory=list)  # what a stored sweep lacks ("not run: 149 of 165 ...")
    memo: dict = field(default_factory=dict)  # values computed once per build (the configurations table's rows)

    @contextmanager
    def tracking(self):
        """Collects the cached results read inside the block (their file names, once each, in order)."""
        used: list[str] = []
        start = len(self.cache.accessed)
        try:
            yield used
        finally:
            used.extend(dict.fromkeys(self.cache.accessed[start:]))

    def source(self, label: str, files, command: str | None = None) -> str:
        """A short key (S1, S2, ...) for the results a figure or table was drawn from; the provenance
        appendix lists each key's files and the command that regenerates them."""
        key = f"S{len(self.sources) + 1}"
        self.sources[key] = {"label": label, "files": list(files), "command": command or self.command}
        return key

    @property
    def figures(self) -> Path:
        return self.folder / "figures"

    def record(self, section: str, key: str, value) -> None:
        """Keep a result for report.json, under its section."""
        self.results.setdefault(section, {})[key] = value
