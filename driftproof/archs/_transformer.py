"""What the GPT and the ViT share as registry entries: their shape, builder, metrics, estimates and evidence.

Both are the paper's blocks (:mod:`driftproof.transformer`), initialized as the paper's code does
(PyTorch's default uniform), trained with AdamW in float32; ``verify`` runs the arms of
:mod:`driftproof.evidence.transformer` for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from . import Arch, Renderer

__all__ = ["TransformerArch", "renderer", "TRAIN_DEFAULTS", "VERIFY_DEFAULTS", "WEIGHTS", "check_shape_options"]

# nanoGPT's CPU recipe scaled to 2 cores: 4 layers, 4 heads, width 128, context 64.
TRAIN_DEFAULTS = {"depth": 4, "opt": "adamw", "lr": 3e-3, "dtype": "float32"}
# verify's: width 32, depth 2 (the shapes of scripts/r6_transformer.py, evidence/transformer.py's DEFAULT_WIDTH
# and DEFAULT_DEPTH). init, scale and classes do not apply (``not_for``): the shared Config holds its defaults,
# which the transformer ignores (its weights are PyTorch's uniform; its outputs are its data's).
VERIFY_DEFAULTS = {"init": "normal", "scale": "he", "classes": 10, "width": 32, "depth": 2}
WEIGHTS = "its weights are drawn as the paper's code draws them (PyTorch's default uniform)"
NORMS = ("rms", "layer")


def check_shape_options(heads: int, norm: str) -> None:
    if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1:
        raise InputError(f"heads must be a positive integer, got {heads!r}")
    if norm not in NORMS:
        raise InputError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")


def metrics(depth: int, loss, data, spec):
    from ..training.paper_metrics import TransformerMetrics, transformer_columns

    return TransformerMetrics(transformer_columns(depth), loss, data, log_every=spec.log_every,
                              eval_every=spec.eval_interval)


def columns(depth: int) -> list[str]:
    from ..training.paper_metrics import transformer_columns

    return transformer_columns(depth)


@dataclass(frozen=True)
class TransformerArch(Arch):
    """A transformer entry: ``tokens`` per sample (None: the context), ``vocab`` outputs (None: the classes)."""

    tokens: int | None = None
    vocab: int | None = None
    batch_text: str = ""  # a Monte Carlo row's batch in words ("windows of {context} characters")

    def _tokens(self, spec) -> int:
        return spec.context if self.tokens is None else self.tokens

    def estimate_bytes(self, config, spec) -> int:
        """Parameters x 4 (weights, gradients, two optimizer buffers) and what one forward caches."""
        C, L, itemsize = config.width, config.depth, 4 if spec.dtype == "float32" else 8
        tokens = self._tokens(spec)
        vocab = config.classes if self.vocab is None else self.vocab
        params = 12 * C * C * L + 2 * vocab * C
        rows = max(spec.batch, min(spec.n_test, 64)) * tokens
        # per block ~ 16 C floats per token (norms, q, k, v, y, up/down) and H T^2 attention weights per sequence
        cached = L * (rows * 16 * C + rows // tokens * spec.heads * tokens * tokens * 2)
        return int((4 * params + 2 * cached + rows * vocab * 3) * itemsize)

    def kernel_elements(self, config, spec) -> float:
        """4C hidden units at every token."""
        return float(spec.steps) * spec.batch * config.width * config.depth * 4 * self._tokens(spec)

    def verify_budget(self, config):
        from ..evidence.transformer import budget

        return budget(config, arch=self.name)

    def describe(self, config) -> dict:
        from ..evidence.transformer import describe

        return describe(config, self.name)

    def rows_init(self, config) -> str:
        from ..evidence.transformer import INIT

        return INIT


def renderer() -> Renderer:
    from ..render.plots import transformer_figure
    from ..render.transformer import gpt_headline, gpt_row_name, gpt_row_summary

    return Renderer(gpt_row_name, gpt_row_summary, gpt_headline, transformer_figure)


def transformer_sources(name: str, title: str):
    def sources() -> tuple:
        from ..evidence import Source, transformer

        return (Source("symbolic", f"theory (R6, {title})",
                       lambda config, progress: transformer.symbolic_rows(config, name)),
                Source("montecarlo", f"Monte Carlo ({title}, t = 0)",
                       lambda config, progress: transformer.montecarlo_rows(config, progress, arch=name)),
                Source("training", f"training ({title})",
                       lambda config, progress: transformer.training_rows(config, progress, arch=name)))

    return sources
