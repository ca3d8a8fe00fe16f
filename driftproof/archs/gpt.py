"""The paper's GPT on the pydoc text: causal blocks (RoPE attention, the MLP under test), the readout tied
to the token embedding (:class:`driftproof.transformer.GPT`)."""

from __future__ import annotations

from dataclasses import dataclass

from ._transformer import (TRAIN_DEFAULTS, VERIFY_DEFAULTS, WEIGHTS, TransformerArch, check_shape_options, columns,
                           metrics, renderer, transformer_sources)

__all__ = ["ARCH", "GPTShape"]


@dataclass(frozen=True)
class GPTShape:
    """The GPT's own options beyond the Config's width and depth."""

    heads: int = 4
    context: int = 64  # characters a window
    norm: str = "rms"  # RMSNorm or LayerNorm in the blocks
    readout: str = "tied"  # tied to the token embedding (the paper's), or an untied Gaussian head (R6's)

    def __post_init__(self):
        check_shape_options(self.heads, self.norm)


def network(config, activation=None, **options):
    from ..transformer import GPT

    GPTShape(**{k: v for k, v in options.items() if k in GPTShape.__dataclass_fields__})
    return GPT(config, activation, **options)


ARCH = TransformerArch(
    name="gpt", title="GPT", family="gpt", network=network, shape=GPTShape, datasets=("text",),
    help="the paper's GPT on the text (R6's scope, the sign at t = 0 over independent inits, a short training run)",
    sources=transformer_sources("gpt", "GPT"), metrics=metrics, columns=columns,
    # a batch of 16 sequences (1024 tokens a step) keeps a 300-step GPT run near a minute and a half
    train_defaults={**TRAIN_DEFAULTS, "data": "text", "batch": 16, "n_test": 64},
    verify_defaults=VERIFY_DEFAULTS,
    not_for={"init": WEIGHTS, "scale": WEIGHTS, "classes": "its outputs are the text corpus's characters",
             "input_dim": "its input is a window of token ids"},
    losses=("ce",), task="trained on next-token cross-entropy",
    no_derivation="the GPT's tied readout is outside the derivations: `verify --arch gpt` says so and measures it",
    statement="E[δ|p > 0] ≥ 0", renderer=renderer, batch_text="windows of {context} characters",
    pytorch_init=True, paper_metrics=True, sweep_kernel="numba", long_verify=True, vocab=256,
    grid={"arch": "gpt", "data": "text", "opt": "adamw", "lr": 3e-3, "width": 128, "depth": 4, "steps": 300,
          "batch": 16, "n_test": 64},
    grid_quick={"width": 32, "depth": 2, "steps": 20, "batch": 8, "n_test": 8},
    family_title="GPT (text)", family_name="GPT (text)")
